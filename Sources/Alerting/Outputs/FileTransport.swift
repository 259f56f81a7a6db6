import Platform
#if canImport(Glibc)
import Glibc
#endif

/// Lines to standard output or to a file (appended; reopened after log
/// rotation). Whole lines only: a write that fails part-way (a full disk) is
/// cut back to the last whole line, and the lines not written stay pending
/// and go out, once, when writing works again.
public final class FileTransport: MessageTransport {
    public let name: String
    private let path: String?
    private var fd: Int32
    /// Whether `fd` is a regular file (a partial line can be cut off again).
    private var regular: Bool
    private var buffer: [UInt8] = []
    /// Whole lines in `buffer`, not yet written.
    private var bufferedLines = 0
    /// The last write failed: lines are accepted again only once they go out.
    private var failing = false
    static let bufferLimit = 64 * 1024

    /// Standard output.
    public init() {
        name = "<stdout>"
        path = nil
        fd = 1
        var info = stat()
        regular = fstat(1, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
    }

    /// A file, created if missing (mode 0640) and appended to.
    public init(path: String) throws(SinkError) {
        name = path
        self.path = path
        do throws(SafeFile.Failure) {
            (fd, regular) = try SafeFile.openForStream(path, append: true, mode: SafeFile.privateMode)
        } catch {
            throw SinkError(sink: path, message: error.reason)
        }
    }

    public var pending: Int { bufferedLines }

    public func send(_ message: [UInt8]) -> SendResult {
        if failing, case .retry(let reason) = flush() { return .retry(reason) }
        buffer.append(contentsOf: message)
        buffer.append(0x0A)
        bufferedLines += 1
        // Lines go out as soon as the queue runs empty (flush) or the buffer fills.
        if buffer.count >= Self.bufferLimit { _ = flush() }
        return .sent
    }

    public func flush() -> SendResult {
        guard !buffer.isEmpty else {
            failing = false
            return .sent
        }
        let (written, error) = LineWriter.write(buffer, to: fd, regular: regular)
        if written == buffer.count {
            bufferedLines = 0
            buffer.removeAll(keepingCapacity: true)
        } else {
            bufferedLines -= LineWriter.lines(in: buffer, upTo: written)
            buffer.removeFirst(written)
        }
        if let error {
            failing = true
            return .retry("write failed: \(error)")
        }
        failing = false
        return .sent
    }

    public func reopen() -> String? {
        guard let path else { return nil }
        _ = flush()
        do throws(SafeFile.Failure) {
            (fd, regular) = try FileOutput.reopen(path, closing: fd)
            return nil
        } catch {
            return error.reason
        }
    }

    public func finish(deadline: Double) -> Int {
        _ = flush()
        if path != nil { close(fd) }
        return bufferedLines
    }
}

/// Writes whole lines to a descriptor, retrying from where a write stopped;
/// on a failure, a partly written line is cut off a regular file again, so
/// that a reader never meets half a line.
enum LineWriter {
    /// Writes `bytes` (whole lines); returns how many bytes now stand in the
    /// file as whole lines, and the error that stopped it.
    static func write(_ bytes: [UInt8], to fd: Int32, regular: Bool) -> (Int, String?) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                let reason = n == 0 ? "nothing written" : String(cString: strerror(errno))
                // Back to the end of the last whole line written.
                let whole = (bytes[0..<offset].lastIndex(of: 0x0A)).map { $0 + 1 } ?? 0
                if regular && whole < offset {
                    let end = lseek(fd, 0, SEEK_END)
                    if end >= 0 { _ = ftruncate(fd, end - off_t(offset - whole)) }
                }
                return (whole, reason)
            }
            offset += n
        }
        return (offset, nil)
    }

    /// How many line ends `bytes` holds before `end`.
    static func lines(in bytes: [UInt8], upTo end: Int) -> Int {
        var n = 0
        for b in bytes[0..<end] where b == 0x0A { n += 1 }
        return n
    }
}
