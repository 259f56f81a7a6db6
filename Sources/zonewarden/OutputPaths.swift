import ArgumentParser
import Foundation
import Platform
#if canImport(Glibc)
import Glibc
#endif

/// Refuses two settings that name one file (`-o eve.json --flow-log
/// eve.json`, a report over the metrics file), an output that is one of the
/// captures being analysed (given, read from standard input, or in a folder
/// given) or the configuration, and an evidence folder that holds the
/// captures or lies inside their folder: checked before anything is opened,
/// since each would truncate, interleave or prune the other. Standard output
/// (`-`), devices, FIFOs and sockets (`/dev/null` twice is fine) and unset
/// paths are passed over.
func refuseSharedPaths(_ outputs: [(label: String, path: String?)], inputs: [String] = [], configuration: String? = nil,
                       evidence: (label: String, path: String?)? = nil) throws {
    func refuse(_ message: String) throws -> Never {
        writeError("zonewarden: " + message)
        throw ExitCode(ExitStatus.usage)
    }
    var seen: [(label: String, path: String, identity: FileIdentity)] = []
    for case let (label, path?) in outputs + (evidence.map { [$0] } ?? []) where path != "-" && !path.isEmpty {
        guard let identity = FileIdentity(path) else { continue }
        if let other = seen.first(where: { $0.identity == identity }) {
            try refuse("\(other.label) and \(label) name the same file, \(path): give each its own")
        }
        seen.append((label, path, identity))
    }
    for input in inputs {
        let identity: FileIdentity?
        if input == "-" {
            // Standard input redirected from a file (`< in.pcap`): that file.
            var info = stat()
            identity = fstat(0, &info) == 0 && info.st_mode & S_IFMT == S_IFREG ? .node(device: UInt64(info.st_dev), inode: UInt64(info.st_ino)) : nil
        } else {
            identity = FileIdentity(input)
        }
        if let identity, let output = seen.first(where: { $0.identity == identity }) {
            try refuse("\(output.label) names a capture being analysed, \(input == "-" ? "standard input" : input): give it another file")
        }
        // A file written into a folder being walked would be read as one of its captures, or overwrite one.
        guard input != "-", FileIdentity.isFolder(input) else { continue }
        let folder = FileIdentity.canonicalPath(input)
        for output in seen where output.label != evidence?.label && FileIdentity.canonicalPath(output.path).hasPrefix(folder + "/") {
            try refuse("\(output.label) \(output.path) lies inside the folder being analysed, \(input): give it a place outside it")
        }
    }
    if let configuration, let identity = FileIdentity(configuration), let output = seen.first(where: { $0.identity == identity }) {
        try refuse("\(output.label) names the configuration, \(configuration): give it another file")
    }
    guard let (label, path) = evidence, let path else { return }
    let folder = FileIdentity.canonicalPath(path)
    for input in inputs where input != "-" {
        let capture = FileIdentity.canonicalPath(input)
        if capture == folder || capture.hasPrefix(folder + "/") || folder.hasPrefix(capture + "/") {
            try refuse("\(label) \(path) and the capture \(input) lie one inside the other: give the evidence a folder of its own")
        }
    }
}
