#if canImport(Glibc)
import Glibc
#endif

/// Every file the sensor writes goes through here: reports, metrics, the
/// endpoint state, evidence, alert files. The sensor often runs as root in
/// directories others can write to, so:
///
/// - a regular file is replaced whole, atomically, through a temporary made
///   with `O_CREAT|O_EXCL|O_NOFOLLOW` under a random name in the same
///   directory (a planted link or file there makes the creation fail, it is
///   never written through);
/// - a path that is a device, a FIFO or a socket is written in place, never
///   replaced (`report -o /dev/null` leaves `/dev/null` a device);
///   `/dev/stdout` and `/dev/stderr` are the process's own descriptors;
/// - a symbolic link is followed only where the user named the path (a
///   command-line option, a configuration entry), and only when the link
///   belongs to the user running the sensor or to root: a link planted by
///   another user is refused. Paths the sensor derives (temporaries, the
///   file reopened after rotation) never follow links.
///
/// Errors are one line naming the path and the reason.
public enum SafeFile {
    /// Whether a path came from the user (links may be followed) or was derived by the sensor.
    public enum Origin: Sendable {
        case userNamed
        case derived
    }

    /// Modes of what the sensor writes: reports, state and evidence name hosts and users.
    public static let privateMode: mode_t = 0o640
    /// The metrics file, read by node_exporter's textfile collector as another user.
    public static let publicMode: mode_t = 0o644

    /// A failure to write a file, with the path.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let path: String
        public let reason: String
        /// The failed system call's errno (0: no system call failed).
        public let code: Int32
        public var description: String { "\(path): \(reason)" }
        public init(_ path: String, _ reason: String, code: Int32 = 0) {
            self.path = path
            self.reason = reason
            self.code = code
        }
        static func errno(_ path: String, _ what: String) -> Failure {
            let code = Glibc.errno
            return Failure(path, "\(what): \(String(cString: strerror(code)))", code: code)
        }
        /// This user may not write there, or the file system takes nothing
        /// (permissions, read-only, full): not a mistaken path.
        public var isDenied: Bool { [EACCES, EPERM, EROFS, ENOSPC, EDQUOT].contains(code) }
    }

    /// What a path names, once user-named links are resolved.
    enum Target {
        /// A regular file (or nothing yet) at this path.
        case regular(String, exists: Bool)
        /// A device, FIFO or socket at this path: written in place.
        case special(String)
        /// One of the process's own standard descriptors.
        case descriptor(Int32)
    }

    static func resolve(_ path: String, origin: Origin) throws(Failure) -> Target {
        switch path {
        case "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1": return .descriptor(1)
        case "/dev/stderr", "/dev/fd/2", "/proc/self/fd/2": return .descriptor(2)
        default: break
        }
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if Glibc.errno == ENOENT { return .regular(path, exists: false) }
            throw .errno(path, "cannot look at it")
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regular(path, exists: true)
        case S_IFDIR: throw Failure(path, "is a directory")
        case S_IFLNK:
            guard origin == .userNamed else { throw Failure(path, "is a symbolic link; refusing to write through it") }
            guard info.st_uid == geteuid() || info.st_uid == 0 else {
                throw Failure(path, "is a symbolic link owned by another user (uid \(info.st_uid)); refusing to follow it")
            }
            guard let resolved = realpath(path, nil) else {
                // A link to a file not there yet: create what it names, if its directory exists.
                var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let n = readlink(path, &target, Int(PATH_MAX))
                guard n > 0 else { throw .errno(path, "cannot read the link") }
                let text = String(decoding: target[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                let absolute = text.hasPrefix("/") ? text : directory(of: path) + "/" + text
                return try resolve(absolute, origin: .derived)
            }
            defer { free(resolved) }
            return try resolve(String(cString: resolved), origin: .derived)
        default:
            return .special(path)
        }
    }

    /// Whether `path` could be written now (the same rules as ``replace(_:with:mode:sync:origin:)``):
    /// for a command that writes only at the end, to fail before the work rather than after it.
    /// - Parameter byReplacing: the file is written by creating a new one beside
    ///   it (``replace(_:with:mode:sync:origin:)``, an output reopened after
    ///   rotation): only its folder must be writable, not the file there now.
    public static func checkWritable(_ path: String, origin: Origin = .userNamed, byReplacing: Bool = false) throws(Failure) {
        switch try resolve(path, origin: origin) {
        case .descriptor: return
        case .special(let p):
            guard access(p, W_OK) == 0 else { throw .errno(p, "cannot open for writing") }
        case .regular(let p, let exists):
            let dir = directory(of: p)
            guard access(dir, W_OK) == 0 else { throw .errno(p, "cannot create a file in \(dir)") }
            if exists && !byReplacing && access(p, W_OK) != 0 { throw .errno(p, "cannot open for writing") }
        }
    }

    /// The folder of `path` (`.` for a bare name).
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let d = String(path[..<slash])
        return d.isEmpty ? "/" : d
    }

    /// Writes every byte to `fd`, retrying from where a write stopped.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32? {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if Glibc.errno == EINTR { continue }
                return Glibc.errno
            }
            if n == 0 { return EIO }
            offset += n
        }
        return nil
    }

    /// Replaces the file at `path` with `bytes` (see the type's rules).
    /// With `sync`, the data reaches the disk before the rename.
    public static func replace(_ path: String, with bytes: [UInt8], mode: mode_t, sync: Bool = false,
                               origin: Origin = .userNamed) throws(Failure) {
        switch try resolve(path, origin: origin) {
        case .descriptor(let fd):
            if let e = bytes.withUnsafeBytes({ writeAll(fd, $0) }) { throw Failure(path, "write failed: \(String(cString: strerror(e)))") }
        case .special(let target):
            let fd = open(target, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY)
            guard fd >= 0 else { throw .errno(path, "cannot open for writing") }
            defer { close(fd) }
            if let e = bytes.withUnsafeBytes({ writeAll(fd, $0) }) { throw Failure(path, "write failed: \(String(cString: strerror(e)))") }
        case .regular(let target, _):
            let (fd, temporary) = try createTemporary(beside: target, mode: mode)
            var failure: Failure?
            if let e = bytes.withUnsafeBytes({ writeAll(fd, $0) }) {
                failure = Failure(path, "write failed: \(String(cString: strerror(e)))")
            } else if sync && fsync(fd) != 0 {
                failure = .errno(path, "fsync failed")
            }
            close(fd)
            if failure == nil && rename(temporary, target) != 0 { failure = .errno(path, "cannot rename \(temporary) over it") }
            if let failure {
                unlink(temporary)
                throw failure
            }
        }
    }

    /// Replaces the file at `path` with `text`.
    public static func replace(_ path: String, with text: String, mode: mode_t, sync: Bool = false,
                               origin: Origin = .userNamed) throws(Failure) {
        try replace(path, with: Array(text.utf8), mode: mode, sync: sync, origin: origin)
    }

    /// A new file beside `target` with a random name, created exclusively and
    /// never through a link, with exactly `mode`.
    static func createTemporary(beside target: String, mode: mode_t) throws(Failure) -> (Int32, String) {
        let directory = directory(of: target)
        let base = target.split(separator: "/").last.map(String.init) ?? "file"
        for _ in 0..<16 {
            let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
            let temporary = "\(directory)/.\(base).\(suffix).tmp"
            let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
            if fd >= 0 {
                fchmod(fd, mode)  // exactly `mode`, whatever the umask
                return (fd, temporary)
            }
            if Glibc.errno != EEXIST { throw .errno(target, "cannot create a temporary file in \(directory)") }
        }
        throw Failure(target, "cannot create a temporary file in \(directory)")
    }

    /// Opens `path` for a stream of appended records (alert files): created
    /// with `mode` if missing, appended to or truncated if a regular file,
    /// written in place if a device or FIFO. Returns the descriptor and
    /// whether it is a regular file (where a half-written record can be cut
    /// off again).
    public static func openForStream(_ path: String, append: Bool, mode: mode_t, origin: Origin = .userNamed) throws(Failure) -> (fd: Int32, regular: Bool) {
        switch try resolve(path, origin: origin) {
        case .descriptor(let fd):
            let copy = dup(fd)
            guard copy >= 0 else { throw .errno(path, "cannot duplicate the descriptor") }
            var info = stat()
            return (copy, fstat(copy, &info) == 0 && info.st_mode & S_IFMT == S_IFREG)
        case .special(let target):
            let fd = open(target, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY)
            guard fd >= 0 else { throw .errno(path, "cannot open for writing") }
            return (fd, false)
        case .regular(let target, let exists):
            let flags = O_WRONLY | O_NOFOLLOW | O_CLOEXEC | (exists ? (append ? O_APPEND : O_TRUNC) : (O_CREAT | O_EXCL | O_APPEND))
            let fd = open(target, flags, mode)
            guard fd >= 0 else { throw .errno(path, "cannot open for writing") }
            if !exists { fchmod(fd, mode) }
            return (fd, true)
        }
    }
}
