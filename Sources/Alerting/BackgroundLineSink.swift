import Platform
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Formats and writes alerts as lines (as ``LineSink`` does) on a thread of
/// its own: the analysing thread hands each alert over in batches instead of
/// formatting it, since it is the busy core and the EVE line is a good part
/// of an alert's cost. Alerts are written in the order given.
///
/// Alerts are handed over 32 at a time, and the writer writes what it has
/// whenever nothing more waits. ``flush()`` returns once every alert given
/// before it is written and the file flushed, so that what is said on
/// standard error after it comes after the alerts. A write error is thrown by the next ``write(_:)`` or
/// ``flush()`` (the first one; later lines are tried again, as ``FileOutput``
/// does). Without a thread (it could not be started) alerts are written at
/// once. The handing over is bounded: when the writer falls behind by
/// ``capacity`` alerts (a slow pipe), the caller waits, as a blocking write did.
///
/// One caller at a time, as ``LineSink``.
public final class BackgroundLineSink: AlertSink, @unchecked Sendable {
    public let name: String
    /// Alerts handed over together (one per alert for a stream's output: each goes out as it is found).
    private let batchSize: Int
    /// At most this many alerts wait for the writer.
    static let capacity = 8_192
    private let lines: LineSink
    private let output: FileOutput
    /// The caller's, not yet handed over.
    private var pending: [Alert] = []
    /// The writer (the caller's; nil: none could be started, or stopped).
    private var thread: WorkerThread?
    private let lock = ConditionLock()
    // Guarded by `lock`:
    private var queue: [Alert] = []
    private var busy = false
    private var stopping = false
    private var failure: SinkError?
    /// Set with `failure`: the caller looks at the lock only when a write failed.
    private let failed = Atomic<Bool>(false)

    /// Lines in `format` onto `output`; its `flushEachWrite` (a stream read
    /// alert by alert), as set when the sink is made, hands every alert over
    /// at once and flushes after it.
    public init(output: FileOutput, format: AlertFormat, context: FormatContext) {
        name = output.name
        self.output = output
        lines = LineSink(output: output, format: format, context: context)
        batchSize = output.flushEachWrite ? 1 : 32
        pending.reserveCapacity(batchSize)
        let thread = WorkerThread(name: "zw-alerts") { [unowned(unsafe) self] in self.run() }
        // The stop signals stay with the threads that act on them (the analysis may be blocked reading standard input).
        if thread.start(blocking: [SIGINT, SIGTERM, SIGHUP]) { self.thread = thread }
    }

    deinit { stop() }

    public func write(_ alert: Alert) throws(SinkError) {
        guard thread != nil else { return try lines.write(alert) }
        pending.append(alert)
        if pending.count >= batchSize { handOver() }
        if _slowPath(failed.load(ordering: .relaxed)) { try reportFailure() }
    }

    public func flush() throws(SinkError) {
        guard thread != nil else { return try lines.flush() }
        handOver()
        let error: SinkError? = lock.withLock {
            while !queue.isEmpty || busy { lock.wait(seconds: 0.1) }
            // The writer is idle until more is handed over: the file is the caller's meanwhile.
            do throws(SinkError) { try output.flush() } catch { if failure == nil { failure = error } }
            return takeFailure()
        }
        if let error { throw error }
    }

    public var unwritten: Int {
        handOver()
        return lock.withLock {
            while !queue.isEmpty || busy { lock.wait(seconds: 0.1) }
            return output.unwritten
        }
    }

    /// Writes what is handed over and ends the thread (alerts written after it are written at once).
    public func stop() {
        guard let thread else { return }
        handOver()
        lock.withLock {
            stopping = true
            lock.broadcast()
        }
        thread.join()
        self.thread = nil
        try? output.flush()
    }

    private func handOver() {
        guard !pending.isEmpty else { return }
        lock.withLock {
            while queue.count >= Self.capacity { lock.wait(seconds: 0.1) }
            if queue.isEmpty {
                swap(&queue, &pending)
            } else {
                queue.append(contentsOf: pending)
            }
            lock.broadcast()
        }
        pending.removeAll(keepingCapacity: true)
    }

    private func reportFailure() throws(SinkError) {
        if let error = lock.withLock({ takeFailure() }) { throw error }
    }

    /// The failure not yet thrown, once. `lock` held.
    private func takeFailure() -> SinkError? {
        defer { failure = nil; failed.store(false, ordering: .relaxed) }
        return failure
    }

    private func run() {
        var batch: [Alert] = []
        while true {
            let more: Bool = lock.withLock {
                while queue.isEmpty && !stopping { lock.wait(seconds: 0.5) }
                if queue.isEmpty { return false }
                swap(&batch, &queue)
                busy = true
                lock.broadcast()  // room for a waiting caller
                return true
            }
            guard more else { return }
            // A stream's output (`flushEachWrite`) goes out line by line in `FileOutput`.
            var firstError: SinkError?
            for alert in batch {
                do throws(SinkError) { try lines.write(alert) } catch { if firstError == nil { firstError = error } }
            }
            batch.removeAll(keepingCapacity: true)
            // Nothing more waiting: what is buffered goes to the file now, so that alerts reach it
            // while a long capture is read, not only when 64 KiB of them have gathered.
            if lock.withLock({ queue.isEmpty }) {
                do throws(SinkError) { try lines.flush() } catch { if firstError == nil { firstError = error } }
            }
            lock.withLock {
                if let firstError, failure == nil {
                    failure = firstError
                    failed.store(true, ordering: .relaxed)
                }
                busy = false
                lock.broadcast()
            }
        }
    }
}
