#if canImport(Glibc)
import Glibc
#endif

/// A destination for alerts failed; the message names it and says why.
public struct SinkError: Error, CustomStringConvertible, Sendable {
    public let sink: String
    public let message: String
    public init(sink: String, message: String) {
        self.sink = sink
        self.message = message
    }
    public var description: String { "\(sink): \(message)" }
}

/// A destination for formatted alerts. Called on the alert path only.
public protocol AlertSink: AnyObject {
    /// For messages: `<stdout>`, a file path, a syslog URL.
    var name: String { get }
    func write(_ alert: Alert) throws(SinkError)
    /// Pushes buffered alerts out.
    func flush() throws(SinkError)
}

/// Formats alerts as lines onto a file descriptor (standard output or a file).
public final class LineSink: AlertSink {
    public let name: String
    public let format: AlertFormat
    private let context: FormatContext
    private let output: FileOutput
    /// One alert's text, reused.
    private var line = OutputBuffer()

    public init(output: FileOutput, format: AlertFormat, context: FormatContext) {
        self.name = output.name
        self.format = format
        self.context = context
        self.output = output
    }

    public func write(_ alert: Alert) throws(SinkError) {
        line.removeAll()
        format.format(alert, context: context, into: &line)
        line.append(byte: 0x0A)
        try output.write(line.bytes)
    }

    public func flush() throws(SinkError) { try output.flush() }
}

/// A buffered writer on a file descriptor, reporting write errors (disk full,
/// closed pipe) instead of losing them.
public final class FileOutput {
    public let name: String
    private let fd: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8] = []
    private let bufferLimit = 64 * 1024
    /// Flush after every write (for live alerting and pipes someone is reading).
    public var flushEachWrite = false

    /// Standard output.
    public static func standardOutput() -> FileOutput { FileOutput(fd: 1, name: "<stdout>", owns: false) }

    private init(fd: Int32, name: String, owns: Bool) {
        self.fd = fd
        self.name = name
        self.ownsDescriptor = owns
        buffer.reserveCapacity(bufferLimit)
    }

    /// Opens `path` for writing, creating it; `append` keeps existing content.
    public convenience init(path: String, append: Bool) throws(SinkError) {
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC)
        let fd = open(path, flags, 0o640)
        if fd < 0 { throw SinkError(sink: path, message: "cannot open for writing: \(String(cString: strerror(errno)))") }
        self.init(fd: fd, name: path, owns: true)
    }

    public func write(_ text: String) throws(SinkError) {
        buffer.append(contentsOf: text.utf8)
        if flushEachWrite || buffer.count >= bufferLimit { try flush() }
    }

    public func write(_ bytes: [UInt8]) throws(SinkError) {
        buffer.append(contentsOf: bytes)
        if flushEachWrite || buffer.count >= bufferLimit { try flush() }
    }

    public func flush() throws(SinkError) {
        var offset = 0
        while offset < buffer.count {
            let n = buffer.withUnsafeBytes { raw in
                Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
            }
            if n < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                buffer.removeFirst(offset)
                throw SinkError(sink: name, message: "write failed: \(reason)")
            }
            offset += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    deinit {
        try? flush()
        if ownsDescriptor { close(fd) }
    }
}
