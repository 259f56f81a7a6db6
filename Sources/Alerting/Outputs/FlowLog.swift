import Platform

/// `--flow-log PATH`: one EVE `flow` event per flow when it ends (idle past
/// its timeout, evicted, or still open at the end), written to a file or
/// standard output (`-`).
///
/// Records are formatted and written by a thread of their own: the packet
/// threads (a live sensor's capture threads share one log) only queue a
/// record of plain values, in batches, with the names it refers to. The
/// queue is bounded; a packet thread that finds it full waits, so no record
/// is lost to a slow disk. A write that fails (a full disk) loses no other
/// record: the failed ones are counted and said once at the end, as for alerts.
public final class FlowLog: @unchecked Sendable {
    public let name: String
    private let output: FileOutput
    private let lock = ConditionLock()
    /// Records queued at most; beyond, ``write(_:)`` waits for the writer.
    private let capacity = 65_536
    // Guarded by `lock`:
    private var queue: [FlowEndRecord] = []
    /// Which names the queued records refer to: each run of records up to `end` (an index of `queue`) its own.
    private var queueNames: [(end: Int, names: FlowNames)] = []
    private var writing = false
    private var stopping = false
    private var writtenCount: UInt64 = 0
    private var failureText: String?
    private var thread: WorkerThread?

    /// Opens (creates or truncates, or with `append` extends) the log, refusing
    /// links planted by other users as the alert outputs do, and starts its writer.
    public init(path: String, append: Bool = false) throws(SinkError) {
        output = path == "-" ? FileOutput.standardOutput() : try FileOutput(path: path, append: append)
        name = output.name
        let thread = WorkerThread(name: "zw-flow-log") { [unowned self] in self.run() }
        self.thread = thread
        if !thread.start() {
            self.thread = nil  // no thread: records are written by the callers (see write)
        }
    }

    /// Queues one record (formats and writes it at once when there is no writer thread).
    public func write(_ record: FlowEndRecord, names: FlowNames) {
        lock.withLock {
            guard thread != nil else {
                var line = OutputBuffer(capacity: 1024)
                writeLocked(record, names, &line)
                return
            }
            while queue.count >= capacity { lock.wait(seconds: 0.1) }
            queue.append(record)
            noteNames(names)
            // Wake the writer per batch, not per record.
            if queue.count == 256 || queue.count == 1 && !writing { lock.broadcast() }
        }
    }

    /// Queues records (one lock for a batch: a pipeline hands on the records of
    /// the flows that ended together); as ``write(_:names:)`` for each otherwise.
    public func write(contentsOf records: [FlowEndRecord], names: FlowNames) {
        lock.withLock {
            guard thread != nil else {
                var line = OutputBuffer(capacity: 1024)
                for record in records { writeLocked(record, names, &line) }
                return
            }
            while queue.count >= capacity { lock.wait(seconds: 0.1) }
            let wasEmpty = queue.isEmpty
            queue.append(contentsOf: records)
            noteNames(names)
            if wasEmpty && !writing || queue.count >= 256 { lock.broadcast() }
        }
    }

    /// The records queued last (up to the queue's end) refer to `names`; `lock` is held.
    private func noteNames(_ names: FlowNames) {
        if let last = queueNames.last, last.names === names {
            queueNames[queueNames.count - 1].end = queue.count
        } else {
            queueNames.append((queue.count, names))
        }
    }

    /// Waits until every queued record is written, then writes what is buffered.
    public func flush() {
        lock.withLock {
            lock.broadcast()
            while !queue.isEmpty || writing { lock.wait(seconds: 0.1) }
            do throws(SinkError) { try output.flush() } catch { if failureText == nil { failureText = error.description } }
        }
    }

    /// Reopens the file after log rotation (SIGHUP), between two batches;
    /// returns why it could not be (records go on to the old file).
    public func reopen() -> String? {
        lock.withLock {
            while writing { lock.wait(seconds: 0.1) }
            return output.reopen()
        }
    }

    /// Flushes and ends the writer thread (which keeps the log alive until then).
    public func stop() {
        flush()
        lock.withLock {
            stopping = true
            lock.broadcast()
        }
        thread?.join()
        thread = nil
    }

    /// Records handed to the file (the ones a failed flush lost are in ``unwritten``).
    public var written: UInt64 { lock.withLock { writtenCount } }
    /// Records that could not be written.
    public var unwritten: Int {
        lock.withLock {
            while writing { lock.wait(seconds: 0.1) }
            return output.unwritten
        }
    }
    /// The first write error, if any (without the file's name, which the caller says with it).
    public var failure: String? {
        lock.withLock { failureText }.map { $0.hasPrefix(name + ": ") ? String($0.dropFirst(name.count + 2)) : $0 }
    }

    private func run() {
        var line = OutputBuffer(capacity: 1024)
        var batch: [FlowEndRecord] = []
        var batchNames: [(end: Int, names: FlowNames)] = []
        while true {
            lock.withLock {
                while queue.isEmpty && !stopping { lock.wait(seconds: 0.5) }
                swap(&batch, &queue)
                swap(&batchNames, &queueNames)
                writing = !batch.isEmpty
                lock.broadcast()  // room for waiting packet threads
            }
            if batch.isEmpty { return }  // stopping, nothing left
            // Outside the lock: while `writing`, only this thread touches the file.
            var written: UInt64 = 0
            var failure: String?
            var start = 0
            for (end, names) in batchNames {
                for i in start..<end {
                    if let error = format(batch[i], names, &line) { failure = failure ?? error } else { written &+= 1 }
                }
                start = end
            }
            batch.removeAll(keepingCapacity: true)
            batchNames.removeAll(keepingCapacity: true)
            // Nothing more waiting: what is buffered goes to the file now, so that a record is on
            // disk soon after its flow ends (a live sensor's flows end a few at a time), not at the stop.
            let idle = lock.withLock { queue.isEmpty }
            if idle {
                do throws(SinkError) { try output.flush() } catch { failure = failure ?? error.description }
            }
            lock.withLock {
                writtenCount &+= written
                if failureText == nil { failureText = failure }
                writing = false
                lock.broadcast()
            }
        }
    }

    /// With no writer thread: formats and writes one record; `lock` is held.
    private func writeLocked(_ record: FlowEndRecord, _ names: FlowNames, _ line: inout OutputBuffer) {
        if let error = format(record, names, &line) { failureText = failureText ?? error } else { writtenCount &+= 1 }
    }

    /// Formats and writes one record; the error, if the write failed.
    private func format(_ record: FlowEndRecord, _ names: FlowNames, _ line: inout OutputBuffer) -> String? {
        line.removeAll()
        EVEFlowFormatter.format(record, names: names, into: &line)
        line.append(byte: 0x0A)
        do throws(SinkError) {
            try line.withBytes { bytes throws(SinkError) in try output.write(bytes) }
            return nil
        } catch {
            return error.description
        }
    }
}
