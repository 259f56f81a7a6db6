import Platform
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
    /// Alerts this sink could not write (a full disk, a closed pipe).
    var unwritten: Int { get }
}

extension AlertSink {
    public var unwritten: Int { 0 }
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
        try line.withBytes { bytes throws(SinkError) in try output.write(bytes) }
    }

    public func flush() throws(SinkError) { try output.flush() }

    public var unwritten: Int { output.unwritten }
}

/// A buffered writer of whole lines on a file descriptor (standard output or
/// a file), reporting write errors (disk full, closed pipe) instead of losing
/// them. A write that fails part-way leaves no half line in a regular file;
/// the lines it could not write are counted (``unwritten``) and dropped, and
/// later lines are tried again.
public final class FileOutput {
    public let name: String
    private var fd: Int32
    private let ownsDescriptor: Bool
    private var regular: Bool
    private var buffer: [UInt8] = []
    private let bufferLimit = 64 * 1024
    /// Flush after every write (for live alerting and pipes someone is reading).
    public var flushEachWrite = false
    /// Lines that could not be written.
    public private(set) var unwritten = 0

    /// Standard output.
    public static func standardOutput() -> FileOutput {
        var info = stat()
        return FileOutput(fd: 1, name: "<stdout>", owns: false, regular: fstat(1, &info) == 0 && info.st_mode & S_IFMT == S_IFREG)
    }

    private init(fd: Int32, name: String, owns: Bool, regular: Bool) {
        self.fd = fd
        self.name = name
        self.ownsDescriptor = owns
        self.regular = regular
        buffer.reserveCapacity(bufferLimit)
    }

    /// Opens `path` for writing (``Platform/SafeFile`` rules: devices and FIFOs
    /// in place, links only the user's own), creating it with mode 0640;
    /// `append` keeps existing content, else a regular file is truncated.
    public convenience init(path: String, append: Bool) throws(SinkError) {
        do throws(SafeFile.Failure) {
            let (fd, regular) = try SafeFile.openForStream(path, append: append, mode: SafeFile.privateMode)
            self.init(fd: fd, name: path, owns: true, regular: regular)
        } catch {
            throw SinkError(sink: path, message: error.reason)
        }
    }

    /// Writes text made of whole lines.
    public func write(_ text: String) throws(SinkError) {
        buffer.append(contentsOf: text.utf8)
        if flushEachWrite || buffer.count >= bufferLimit { try flush() }
    }

    /// Writes bytes made of whole lines.
    public func write(_ bytes: [UInt8]) throws(SinkError) {
        buffer.append(contentsOf: bytes)
        if flushEachWrite || buffer.count >= bufferLimit { try flush() }
    }

    /// Writes bytes made of whole lines.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(SinkError) {
        buffer.append(contentsOf: bytes)
        if flushEachWrite || buffer.count >= bufferLimit { try flush() }
    }

    public func flush() throws(SinkError) {
        guard !buffer.isEmpty else { return }
        let (written, error) = LineWriter.write(buffer, to: fd, regular: regular)
        if let error {
            // Counting lines costs a pass over the buffer: only when some were lost.
            unwritten += LineWriter.lines(in: buffer, upTo: buffer.count) - LineWriter.lines(in: buffer, upTo: written)
            buffer.removeAll(keepingCapacity: true)
            throw SinkError(sink: name, message: "write failed: \(error)")
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Reopens the file by its name (log rotation): what is buffered goes to
    /// the old one; the new one is created afresh, never through a link.
    /// Returns why it could not be reopened (the old one is kept).
    public func reopen() -> String? {
        guard ownsDescriptor else { return nil }
        try? flush()
        do throws(SafeFile.Failure) {
            (fd, regular) = try Self.reopen(name, closing: fd)
            return nil
        } catch {
            return error.reason
        }
    }

    /// Opens `path` afresh for appending (the rotated file is gone or renamed:
    /// never through a link) and closes `old`; on failure `old` stays open.
    static func reopen(_ path: String, closing old: Int32) throws(SafeFile.Failure) -> (fd: Int32, regular: Bool) {
        // Not rotated (logrotate's notifempty leaves a quiet file in place): the open file is still the path's,
        // and opening it again would fail where the sensor has since dropped its privileges (--user).
        var now = stat(), current = stat()
        if lstat(path, &now) == 0, fstat(old, &current) == 0, now.st_mode & S_IFMT == S_IFREG,
           now.st_dev == current.st_dev, now.st_ino == current.st_ino {
            return (old, true)
        }
        let (fresh, isRegular) = try SafeFile.openForStream(path, append: true, mode: SafeFile.privateMode, origin: .derived)
        close(old)
        return (fresh, isRegular)
    }

    deinit {
        try? flush()
        if ownsDescriptor { close(fd) }
    }
}
