#if canImport(Glibc)
import Glibc
#endif

/// One file or folder, whatever name it is given by: its device and inode
/// when it exists (hard and symbolic links included), else its absolute path
/// with the links of its folders resolved. Nil for what many may share by
/// design: devices (`/dev/null`), FIFOs, sockets.
public enum FileIdentity: Equatable, Sendable {
    case node(device: UInt64, inode: UInt64)
    case name(String)

    public init?(_ path: String) {
        var info = stat()
        if stat(path, &info) == 0 {
            let type = info.st_mode & S_IFMT
            guard type == S_IFREG || type == S_IFDIR else { return nil }
            self = .node(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        } else {
            self = .name(Self.canonicalPath(path))
        }
    }

    /// Whether the path names a folder that exists.
    public static func isFolder(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    /// The absolute path without `.`, `..` or symbolic links, for a file
    /// that may not exist yet: a link whose target does not exist yet is
    /// followed to that target's name.
    public static func canonicalPath(_ path: String) -> String {
        var current = path
        for _ in 0..<40 {  // as the kernel's limit on links followed
            if let resolved = realpath(current, nil) {
                defer { free(resolved) }
                return String(cString: resolved)
            }
            let (folder, name) = split(current)
            // A dangling symbolic link: its target, relative to the link's folder.
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = readlink(current, &buffer, buffer.count - 1)
            if n > 0 {
                let target = String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                current = target.hasPrefix("/") ? target : (folder.isEmpty ? target : folder + "/" + target)
                continue
            }
            guard let resolved = realpath(folder.isEmpty ? "." : folder, nil) else { return absolute(current) }
            defer { free(resolved) }
            let base = String(cString: resolved)
            return (base == "/" ? "" : base) + "/" + name
        }
        return absolute(current)
    }

    /// An absolute path with `.` and `..` worked out by name, links left as
    /// they are (a path relative to where the sensor was started means nothing
    /// to a SIEM reading an alert that names an evidence file).
    public static func absolutePath(_ path: String) -> String {
        var parts: [Substring] = []
        for part in absolute(path).split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The folder (empty for a bare name) and the last component of a path (`DIR/` is DIR).
    public static func split(_ path: String) -> (folder: String, name: String) {
        var bytes = Array(path.utf8)
        while bytes.count > 1 && bytes.last == 0x2F { bytes.removeLast() }
        guard let slash = bytes.lastIndex(of: 0x2F) else { return ("", String(decoding: bytes, as: UTF8.self)) }
        let folder = slash == 0 ? "/" : String(decoding: bytes[..<slash], as: UTF8.self)
        return (folder, String(decoding: bytes[(slash + 1)...], as: UTF8.self))
    }

    private static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return path }
        return String(cString: buffer) + "/" + path
    }
}
