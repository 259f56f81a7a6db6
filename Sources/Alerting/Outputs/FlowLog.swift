import Platform

/// `--flow-log PATH`: one EVE `flow` event per flow when it ends (idle past
/// its timeout, evicted, or still open at the end), written to a file or
/// standard output (`-`). The capture threads of a live sensor share one log:
/// each record is formatted and written under a lock. A write that fails (a
/// full disk) loses no other record: the failed ones are counted and said
/// once at the end, as for alerts.
public final class FlowLog: @unchecked Sendable {
    public let name: String
    private let output: FileOutput
    private let lock = ConditionLock()
    // Guarded by `lock`:
    private var line = OutputBuffer(capacity: 1024)
    private var writtenCount: UInt64 = 0
    private var failureText: String?

    /// Opens (creates or truncates, or with `append` extends) the log, refusing
    /// links planted by other users as the alert outputs do.
    public init(path: String, append: Bool = false) throws(SinkError) {
        output = path == "-" ? FileOutput.standardOutput() : try FileOutput(path: path, append: append)
        name = output.name
    }

    /// Writes one record.
    public func write(_ record: FlowEndRecord) {
        lock.withLock {
            line.removeAll()
            EVEFlowFormatter.format(record, into: &line)
            line.append(byte: 0x0A)
            do throws(SinkError) {
                try line.withBytes { bytes throws(SinkError) in try output.write(bytes) }
                writtenCount &+= 1
            } catch {
                if failureText == nil { failureText = error.description }
            }
        }
    }

    /// Writes what is buffered.
    public func flush() {
        lock.withLock {
            do throws(SinkError) { try output.flush() } catch { if failureText == nil { failureText = error.description } }
        }
    }

    /// Records handed to the file (the ones a failed flush lost are in ``unwritten``).
    public var written: UInt64 { lock.withLock { writtenCount } }
    /// Records that could not be written.
    public var unwritten: Int { lock.withLock { output.unwritten } }
    /// The first write error, if any.
    public var failure: String? { lock.withLock { failureText } }
}
