#if canImport(Glibc)
import Glibc
#endif

/// Lines to standard output or to a file (appended; reopened after log
/// rotation). A failed write (disk full) is retried, not lost.
public final class FileTransport: MessageTransport {
    public let name: String
    private let path: String?
    private var fd: Int32
    private var buffer: [UInt8] = []

    /// Standard output.
    public init() {
        name = "<stdout>"
        path = nil
        fd = 1
    }

    /// A file, created if missing and appended to.
    public init(path: String) throws(SinkError) {
        name = path
        self.path = path
        fd = -1
        fd = try Self.open(path)
    }

    static func open(_ path: String) throws(SinkError) -> Int32 {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        if fd < 0 { throw SinkError(sink: path, message: "cannot open for writing: \(String(cString: strerror(errno)))") }
        return fd
    }

    public func send(_ message: [UInt8]) -> SendResult {
        buffer.append(contentsOf: message)
        buffer.append(0x0A)
        // Lines go out as soon as the queue runs empty (flush) or the buffer fills.
        return buffer.count >= 64 * 1024 ? flush() : .sent
    }

    public func flush() -> SendResult {
        var offset = 0
        while offset < buffer.count {
            let n = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                buffer.removeFirst(offset)
                return .retry("write failed: \(reason)")
            }
            offset += n
        }
        buffer.removeAll(keepingCapacity: true)
        return .sent
    }

    public func reopen() {
        guard let path else { return }
        _ = flush()
        if let fresh = try? Self.open(path) {
            close(fd)
            fd = fresh
        }
    }

    public func finish(deadline: Double) -> Int {
        let left = flush() == .sent ? 0 : 1
        if path != nil { close(fd) }
        return left
    }
}
