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
    /// Records per batch a thread takes: the writer, and the thread that flushes,
    /// which formats beside it (at the end of a capture tens of thousands of flows end at once).
    private let batchSize = 2_048
    // Guarded by `lock`:
    /// Records queued; those before `queueHead` are taken (the array is reset once all are).
    private var queue: [FlowEndRecord] = []
    private var queueHead = 0
    /// Which names the queued records refer to: each run of records up to `end` (an index of `queue`) its own;
    /// those before `namesHead` are taken.
    private var queueNames: [(end: Int, names: FlowNames)] = []
    private var namesHead = 0
    /// Batches taken and not yet written; tickets keep the file in the queue's order: a batch is
    /// written when `turn` is its ticket, whichever thread formatted it.
    private var active = 0
    private var nextTicket = 0
    private var turn = 0
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
            while queued >= capacity { lock.wait(seconds: 0.1) }
            queue.append(record)
            noteNames(names)
            // Wake the writer per batch, not per record.
            if queued == 256 || queued == 1 && active == 0 { lock.broadcast() }
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
            while queued >= capacity { lock.wait(seconds: 0.1) }
            let wasEmpty = queued == 0
            queue.append(contentsOf: records)
            noteNames(names)
            if wasEmpty && active == 0 || queued >= 256 { lock.broadcast() }
        }
    }

    /// Records queued and not taken; `lock` is held.
    private var queued: Int { queue.count - queueHead }

    /// Takes the next batch of at most ``batchSize`` records with their names
    /// (ends relative to the batch) and its ticket; nil when none waits. `lock` is held.
    private func take(into batch: inout [FlowEndRecord], names: inout [(end: Int, names: FlowNames)]) -> Int? {
        guard queued > 0 else { return nil }
        let start = queueHead, stop = queueHead + min(batchSize, queued)
        batch.append(contentsOf: queue[start..<stop])
        while namesHead < queueNames.count {
            let run = queueNames[namesHead]
            names.append((min(run.end, stop) - start, run.names))
            if run.end <= stop { namesHead += 1 }
            if run.end >= stop { break }
        }
        queueHead = stop
        if queueHead == queue.count {
            queue.removeAll(keepingCapacity: true)
            queueNames.removeAll(keepingCapacity: true)
            queueHead = 0
            namesHead = 0
        } else if queueHead >= capacity {
            // Producers that keep ahead of the writers: the taken part goes, once in a while.
            queue.removeFirst(queueHead)
            queueNames.removeFirst(namesHead)
            for i in queueNames.indices { queueNames[i].end -= queueHead }
            queueHead = 0
            namesHead = 0
        }
        active += 1
        nextTicket += 1
        lock.broadcast()  // room for waiting packet threads
        return nextTicket - 1
    }

    /// The records queued last (up to the queue's end) refer to `names`; `lock` is held.
    private func noteNames(_ names: FlowNames) {
        if namesHead < queueNames.count, let last = queueNames.last, last.names === names {
            queueNames[queueNames.count - 1].end = queue.count
        } else {
            queueNames.append((queue.count, names))
        }
    }

    /// Waits until every queued record is written, then writes what is buffered.
    /// The calling thread formats batches itself meanwhile, beside the writer.
    public func flush() {
        if thread != nil {
            var batch: [FlowEndRecord] = [], names: [(end: Int, names: FlowNames)] = []
            var text = OutputBuffer(capacity: 1 << 20)
            while let ticket = lock.withLock({ take(into: &batch, names: &names) }) {
                write(batch, names, ticket: ticket, &text)
                batch.removeAll(keepingCapacity: true)
                names.removeAll(keepingCapacity: true)
            }
        }
        lock.withLock {
            lock.broadcast()
            while queued > 0 || active > 0 { lock.wait(seconds: 0.1) }
            do throws(SinkError) { try output.flush() } catch { if failureText == nil { failureText = error.description } }
        }
    }

    /// Reopens the file after log rotation (SIGHUP), between two batches;
    /// returns why it could not be (records go on to the old file).
    public func reopen() -> String? {
        lock.withLock {
            while active > 0 { lock.wait(seconds: 0.1) }
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
            while active > 0 { lock.wait(seconds: 0.1) }
            return output.unwritten
        }
    }
    /// The first write error, if any (without the file's name, which the caller says with it).
    public var failure: String? {
        lock.withLock { failureText }.map { $0.hasPrefix(name + ": ") ? String($0.dropFirst(name.count + 2)) : $0 }
    }

    private func run() {
        var batch: [FlowEndRecord] = [], names: [(end: Int, names: FlowNames)] = []
        var text = OutputBuffer(capacity: 1 << 20)
        while true {
            let ticket: Int? = lock.withLock {
                while queued == 0 && !stopping { lock.wait(seconds: 0.5) }
                return take(into: &batch, names: &names)
            }
            guard let ticket else { return }  // stopping, nothing left
            write(batch, names, ticket: ticket, &text)
            batch.removeAll(keepingCapacity: true)
            names.removeAll(keepingCapacity: true)
        }
    }

    /// Formats a batch (outside the lock, beside other batches), then writes
    /// it when its ticket's turn comes: the file keeps the queue's order.
    private func write(_ batch: [FlowEndRecord], _ names: [(end: Int, names: FlowNames)], ticket: Int, _ text: inout OutputBuffer) {
        text.removeAll()
        var start = 0
        for (end, n) in names {
            for i in start..<end {
                EVEFlowFormatter.format(batch[i], names: n, into: &text)
                text.append(byte: 0x0A)
            }
            start = end
        }
        lock.withLock { while turn != ticket { lock.wait(seconds: 0.1) } }
        // This batch's turn: only this thread touches the file until `turn` moves on.
        var failure: String?
        do throws(SinkError) {
            try text.withBytes { bytes throws(SinkError) in try output.write(bytes) }
        } catch {
            failure = error.description
        }
        // Nothing more waiting: what is buffered goes to the file now, so that a record is on
        // disk soon after its flow ends (a live sensor's flows end a few at a time), not at the stop.
        if failure == nil && lock.withLock({ queued == 0 && active == 1 }) {
            do throws(SinkError) { try output.flush() } catch { failure = error.description }
        }
        lock.withLock {
            if failure == nil { writtenCount &+= UInt64(batch.count) }
            if failureText == nil { failureText = failure }
            turn += 1
            active -= 1
            lock.broadcast()
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
