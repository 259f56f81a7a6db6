import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Refuses two settings that name one file (`-o eve.json --flow-log
/// eve.json`, a report over the metrics file), an output that is one of the
/// captures being analysed, and an evidence folder that holds them or lies
/// inside one: checked before anything is opened, since each would truncate,
/// interleave or prune the other. Standard output (`-`), devices, FIFOs and
/// sockets (`/dev/null` twice is fine) and unset paths are passed over.
func refuseSharedPaths(_ outputs: [(label: String, path: String?)], inputs: [String] = [], evidence: (label: String, path: String?)? = nil) throws {
    var seen: [(label: String, identity: FileIdentity)] = []
    for case let (label, path?) in outputs + (evidence.map { [$0] } ?? []) where path != "-" && !path.isEmpty {
        guard let identity = FileIdentity(path) else { continue }
        if let other = seen.first(where: { $0.identity == identity }) {
            writeError("zonewarden: \(other.label) and \(label) name the same file, \(path): give each its own")
            throw ExitCode(ExitStatus.usage)
        }
        seen.append((label, identity))
    }
    for input in inputs where input != "-" {
        guard let identity = FileIdentity(input) else { continue }
        if let output = seen.first(where: { $0.identity == identity }) {
            writeError("zonewarden: \(output.label) names a capture being analysed, \(input): give it another file")
            throw ExitCode(ExitStatus.usage)
        }
    }
    guard let (label, path) = evidence, let path else { return }
    let folder = canonicalPath(path)
    for input in inputs where input != "-" {
        let capture = canonicalPath(input)
        if capture.hasPrefix(folder + "/") || folder.hasPrefix(capture + "/") {
            writeError("zonewarden: \(label) \(path) and the capture \(input) lie one inside the other: give the evidence a folder of its own")
            throw ExitCode(ExitStatus.usage)
        }
    }
}

/// One file or folder, whatever name it is given by: its device and inode
/// when it exists (hard and symbolic links included), else its absolute
/// path. Nil for what many may share: devices, FIFOs, sockets.
enum FileIdentity: Equatable {
    case node(device: UInt64, inode: UInt64)
    case name(String)

    init?(_ path: String) {
        var info = stat()
        if stat(path, &info) == 0 {
            let type = info.st_mode & S_IFMT
            guard type == S_IFREG || type == S_IFDIR else { return nil }
            self = .node(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        } else {
            self = .name(canonicalPath(path))
        }
    }
}

/// The absolute path without symbolic links or `..`, for a file that may not
/// exist yet (its folder resolved, its name kept).
func canonicalPath(_ path: String) -> String {
    if let resolved = realpath(path, nil) {
        defer { free(resolved) }
        return String(cString: resolved)
    }
    let folder = (path as NSString).deletingLastPathComponent
    let name = (path as NSString).lastPathComponent
    if let resolved = realpath(folder.isEmpty ? "." : folder, nil) {
        defer { free(resolved) }
        return String(cString: resolved) + "/" + name
    }
    return path
}
