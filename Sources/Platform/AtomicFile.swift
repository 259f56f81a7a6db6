#if canImport(Glibc)
import Glibc
#endif

/// Files replaced whole: written beside the target and renamed over it, so a
/// reader (node_exporter, the next start) never sees half of one.
public enum AtomicFile {
    /// Writes `text` to `path`; with `sync`, to disk before the rename. The error names the file.
    public static func write(_ path: String, _ text: String, sync: Bool = false, mode: mode_t = 0o644) -> String? {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { return "\(temporary): cannot write: \(String(cString: strerror(errno)))" }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            offset += n
        }
        let ok = offset == bytes.count && (!sync || fsync(fd) == 0)
        let reason = String(cString: strerror(errno))
        close(fd)
        guard ok, rename(temporary, path) == 0 else {
            let why = ok ? String(cString: strerror(errno)) : reason
            unlink(temporary)
            return "\(path): cannot write: \(why)"
        }
        return nil
    }
}
