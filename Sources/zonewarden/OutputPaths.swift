import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Refuses two settings that name one file (`-o eve.json --flow-log
/// eve.json`, a report over the metrics file): checked before anything is
/// opened, since each would truncate or interleave the other's lines.
/// Standard output (`-`) and unset paths are passed over.
func refuseSharedPaths(_ named: [(label: String, path: String?)]) throws {
    var seen: [(label: String, key: String)] = []
    for (label, path) in named {
        guard let path, path != "-", !path.isEmpty else { continue }
        let key = canonicalPath(path)
        if let other = seen.first(where: { $0.key == key }) {
            writeError("zonewarden: \(other.label) and \(label) name the same file, \(path): give each its own")
            throw ExitCode(ExitStatus.usage)
        }
        seen.append((label, key))
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
