import Alerting
import Capture
import Decode
import Detect
import Flows
import Platform
import Synchronization
import Zones
#if canImport(Glibc)
import Glibc
#endif

/// Offline analysis on several cores (`analyze --workers N`).
///
/// The flows are shared out among N workers, each a ``Pipeline`` of its own
/// (flow table, inspectors, the rules whose memory is one flow's) on a thread
/// of its own. A packet belongs to the worker chosen by a hash of its
/// innermost flow's key, which is the same for both directions of a flow and
/// whichever tunnel endpoint sent it. Every worker takes every packet from
/// the read-ahead ring (``ReadAhead`` with N consumers; whichever worker reads
/// a batch decodes it, once for all), so that each sees the capture's clock
/// exactly as one pipeline would: flows expire at the same packets. Each
/// processes only its own packets.
///
/// What the workers find goes, tagged with its position in the capture, to
/// this object's thread, which merges it in capture order: the rules whose
/// memory spans flows (a new segment, a MAC's zones, a link's VLANs; see
/// ``Detect/Detector/RuleSelection``) run here on the moments the workers
/// deferred, and every detection passes one alert stage (one throttle, the
/// sinks). So the alerts are those of one pipeline; only their flow ids and,
/// for findings of one instant, their order may differ.
/// Unchecked Sendable: each worker pipeline is used by its thread alone while a file is read,
/// and by this object's thread between files (thread start and join order the two).
public final class ShardedAnalysis: @unchecked Sendable {
    /// Replaced only while no worker thread runs or every one is parked (``WorkerBarrier``): a live reload that starts the flows afresh.
    public internal(set) var workers: [Pipeline]
    let outputs: [ShardOutput]
    /// The rules spanning flows, run in capture order on the merging thread (replaced by a live reload).
    public internal(set) var spanning: Detector
    /// The one alert stage every detection passes.
    public let alerts: AlertStage
    public internal(set) var zones: ZoneMap
    public let filter: String?
    /// The live sensor's infrastructure endpoints (rule 7002, a rule spanning flows).
    let endpointMemory: EndpointMemory?
    private let packets: UnsafeMutablePointer<DecodedPacket>
    /// Per worker: decodes ahead and prefetches its own flows (``Lookahead``).
    var lookaheads: [Lookahead]
    /// Items taken from the workers' outputs, not yet merged (per worker, in order).
    private var detections: [ShardOutput.Queue<Detection>]
    private var moments: [ShardOutput.Queue<ShardOutput.SpanningItem>]

    /// - Parameter workers: how many (at least 2).
    /// - Parameter endpointMemory: the live sensor's infrastructure endpoints (rule 7002).
    public init(zones: ZoneMap, alerts: AlertStage, workers count: Int, filter: String?, endpointMemory: EndpointMemory? = nil) throws(ConfigErrors) {
        precondition(count >= 2)
        self.zones = zones
        self.alerts = alerts
        self.filter = filter
        self.endpointMemory = endpointMemory
        spanning = try Detector(zones: zones, endpointMemory: endpointMemory, selection: .spanningFlows)
        // One seed for all tables: half the flow hash picks the worker, the other half the slot.
        let seed = UInt64.random(in: 1...UInt64.max)
        outputs = (0..<count).map { _ in ShardOutput() }
        workers = try Self.makeWorkers(zones: zones, outputs: outputs, seed: seed)
        lookaheads = workers.enumerated().map { Lookahead(pipeline: $1, shard: $0, of: count) }
        packets = .allocate(capacity: count)
        packets.initialize(repeating: DecodedPacket(), count: count)
        detections = Array(repeating: ShardOutput.Queue(), count: count)
        moments = Array(repeating: ShardOutput.Queue(), count: count)
    }

    /// One pipeline per output, sharing the flow hash `seed`.
    static func makeWorkers(zones: ZoneMap, outputs: [ShardOutput], seed: UInt64) throws(ConfigErrors) -> [Pipeline] {
        var workers: [Pipeline] = []
        for output in outputs {
            // A worker's own alert stage is never written to: its detections go to `output`.
            let pipeline = try Pipeline(zones: zones, alerts: AlertStage(sinks: [], throttle: AlertThrottle(windowSeconds: 0)), shards: outputs.count, flowSeed: seed)
            pipeline.shardOutput = output
            workers.append(pipeline)
        }
        return workers
    }

    deinit {
        packets.deinitialize(count: workers.count)
        packets.deallocate()
    }

    /// Where a record of every flow goes when it ends (`--flow-log`).
    public var flowLog: FlowLog? {
        get { workers[0].flowLog }
        set { for w in workers { w.flowLog = newValue } }
    }

    /// Analyses one capture file as ``OfflineAnalysis/run(path:)`` does,
    /// merging it packet by packet with the files before it that go on past
    /// its start (``nextFileStart``).
    public func run(path: String) -> CaptureError? {
        // Stopped (SIGINT, SIGTERM): the files not reached are not opened.
        if StopSignals.requested { return nil }
        let handle: PcapHandle
        switch OfflineAnalysis.open(path, filter: filter, window: window) {
        case .success(let h): handle = h
        case .failure(let error):
            accounts?.unreadable(path, error)
            return error
        }
        handle.pauseAfter = nextFileStart ?? .max
        var firstError: CaptureError?
        if overlapping.isOpen {
            let waiting = overlapping.takeHandles()
            // The workers decode one link type per read: files of another one are not merged, the waiting ones end first.
            if waiting.allSatisfy({ $0.linkType == handle.linkType }) { return merge(waiting + [handle], pauseAt: nextFileStart ?? .max) }
            firstError = merge(waiting, pauseAt: .max)
        }
        let before = statistics.decodeErrors
        accounts?.began(handle)
        let error = run(handle: handle, link: path.split(separator: "/").last.map(String.init) ?? path)
        if error == nil && handle.isPaused {
            overlapping.keep([handle], decodeErrors: [(handle, statistics.decodeErrors - before)])
            return firstError
        }
        accounts?.record(handle, error: error, decodeErrors: statistics.decodeErrors - before)
        guard let firstError else { return error }
        if let error { overlapping.said(error) }
        return firstError
    }

    /// When the next file's first packet comes (set before each ``run(path:)``;
    /// nil: there is none, or it is not known).
    public var nextFileStart: UInt64?
    private let overlapping = OverlappingFiles()

    /// The errors of merged files beyond the one the last ``run(path:)`` or
    /// ``finishOverlapping()`` returned.
    public func takeOtherErrors() -> [CaptureError] { overlapping.takeOtherErrors() }

    /// The end of the input: files still paused are read to their ends. Returns the first error.
    public func finishOverlapping() -> CaptureError? {
        guard overlapping.isOpen else { return nil }
        return merge(overlapping.takeHandles(), pauseAt: .max)
    }

    /// Reads files that overlap in time as one capture (``Capture/MergedCapture``)
    /// through the workers, until each ends or pauses at `pauseAt`. The
    /// workers do not tell the files apart, so the decode errors of the merge
    /// are counted on the first file that ends in it.
    private func merge(_ handles: [PcapHandle], pauseAt: UInt64) -> CaptureError? {
        guard LinkLayer(handles[0].linkType) != nil else {
            // Not reached: a file of an unsupported link type ends at once, it never waits to be merged.
            let error = CaptureError(.unsupportedLinkType, source: handles[0].source, message: LinkLayer.unsupportedMessage(handles[0].linkType))
            for h in handles { accounts?.record(h, error: error, decodeErrors: 0) }
            return error
        }
        var ended: [(Int, CaptureError?)] = []
        var counted = handles.reduce(UInt64(0)) { $0 + overlapping.decodeErrors(of: $1) }
        let before = statistics.decodeErrors
        let files = MergedCapture(handles, pauseAt: pauseAt) { i, error in ended.append((i, error)) }
        if let last = handles.last { accounts?.began(last) }
        let name = handles.last.map { $0.source.split(separator: "/").last.map(String.init) ?? $0.source } ?? ""
        _ = run(source: .merged(files), linkType: handles[0].linkType, link: name)
        counted += statistics.decodeErrors - before
        for (i, error) in ended {
            accounts?.record(handles[i], error: error, decodeErrors: counted)
            counted = 0
        }
        if StopSignals.requested {
            // Stopped: each file still open is accounted for as far as it was read.
            let done = Set(ended.map(\.0))
            for i in handles.indices where !done.contains(i) {
                accounts?.record(handles[i], error: nil, decodeErrors: counted)
                counted = 0
            }
            overlapping.keep([], decodeErrors: [])
        }
        let paused = StopSignals.requested ? [] : files.paused
        overlapping.keep(paused, decodeErrors: paused.first.map { [($0, counted)] } ?? [])
        var errors = files.errors
        guard !errors.isEmpty else { return nil }
        let first = errors.removeFirst()
        errors.forEach(overlapping.said)
        return first
    }

    /// Only packets from the first through the second timestamp (nanoseconds) are analysed (--since, --until).
    public var window: (start: UInt64, end: UInt64)?
    /// What became of each file read (nil: not kept).
    public var accounts: FileAccounts?
    /// The name of the one link all the files are (nil: each file is a link of its own).
    public var link: String?
    private var linkOpen = false

    /// Analyses an open capture; `link` names it for the rules that judge a link.
    public func run(handle: PcapHandle, link linkName: String) -> CaptureError? {
        run(source: .file(handle), linkType: handle.linkType, link: linkName)
    }

    /// Analyses what `source` reads (of `linkType`) as ``run(handle:link:)`` does.
    func run(source: PacketSource, linkType: LinkType, link linkName: String) -> CaptureError? {
        guard let link = LinkLayer(linkType) else {
            return CaptureError(.unsupportedLinkType, source: source.name, message: LinkLayer.unsupportedMessage(linkType))
        }
        if let continuous = self.link {
            if !linkOpen { for w in workers { w.beginLink(continuous) } }
            linkOpen = true
        } else {
            for w in workers { w.beginLink(linkName) }
        }
        let error = readShared(source, link: link)
        // Every packet is processed: merge the rest, then judge the link as a whole (at the end, for one continuous link).
        mergeAll()
        if self.link == nil { endLink(linkName) }
        // A read interrupted by SIGINT/SIGTERM is a stop, not a broken capture.
        return StopSignals.requested ? nil : error
    }

    /// Reads the capture once for all workers: on a reader thread into a ring
    /// every worker reads (merging here meanwhile), or, if threads cannot be
    /// had, packet by packet on this thread, each worker in turn.
    private func readShared(_ source: PacketSource, link: LinkLayer) -> CaptureError? {
        let count = workers.count
        // The workers read the file themselves, whichever has caught up: no reader thread.
        // Whoever reads decodes too: once for all workers, not once per worker.
        let decoding = ReadAhead.Decoding(decoder: workers[0].decoder, link: link, keys: workers[0].flows.keyPreparer)
        let reader = ReadAhead(source: source, consumers: count, cooperative: true, decoding: decoding)
        for o in outputs { o.done.store(0, ordering: .sequentiallyConsistent) }
        var threads: [WorkerThread] = []
        var refused: [Int] = []
        for i in 0..<count {
            let thread = WorkerThread(name: "zw-worker-\(i)") { [self] in work(i, reader, link) }
            if thread.start() { threads.append(thread) } else { refused.append(i) }
        }
        if refused.count < count {
            // A worker the system gave no thread works here, after the others.
            for i in refused { work(i, reader, link) }
            // Merge while the workers work; a short sleep when they have nothing new.
            while outputs.contains(where: { $0.done.load(ordering: .acquiring) < Int.max / 4 }) {
                if merge() == 0 { usleep(2_000) }
            }
            for t in threads { t.join() }
            return reader.join()
        }
        do throws(CaptureError) {
            var position = 0
            while !StopSignals.requested {
                switch try source.next() {
                case .packet(let captured):
                    for i in 0..<count { process(worker: i, captured, link: link, position: position) }
                    position += 1
                case .timeout:
                    continue
                case .end:
                    return nil
                }
            }
            return nil
        } catch {
            return error
        }
    }

    /// Worker `i`'s loop over the ring, through its lookahead (the ring's
    /// slots stay valid while it holds them), saying how far it is every 64 packets.
    private func work(_ i: Int, _ reader: ReadAhead, _ link: LinkLayer) {
        let output = outputs[i], lookahead = lookaheads[i]
        reader.forEach(consumer: i) { item, position in
            lookahead.push(item, link: link, position: position)
            if position & 63 == 63 { output.done.store(position + 1 - lookahead.count, ordering: .releasing) }
            return lookahead.count
        }
        lookahead.drain()
        output.done.store(Int.max / 4, ordering: .releasing)
    }

    /// Worker `i`'s part of one packet: decode, find its flow's worker, and
    /// process it if it is this one's (the clock advances in every worker).
    @inline(__always)
    func process(worker i: Int, _ captured: CapturedPacket, link: LinkLayer, position: Int) {
        let pipeline = workers[i]
        let p = packets + i
        pipeline.decode(captured, link: link, into: p)
        let key = pipeline.flows.prepare(p)
        let owns = key.map { Self.worker(of: $0, among: UInt64(workers.count)) == i } ?? (i == 0)
        pipeline.processShare(p, bytes: captured.bytes, key: key, owns: owns, position: position)
    }

    /// The worker a flow belongs to: by the half of its key's hash that the
    /// flow tables do not use for slots (the key is canonical: the same both ways).
    @inline(__always)
    static func worker(of key: PreparedFlowKey, among count: UInt64) -> Int {
        Int(truncatingIfNeeded: (UInt64(key.high32) &* count) >> 32)
    }

    // MARK: Merging

    /// Merges what every worker has finished: the items whose position is
    /// below each worker's progress, in capture order. Returns how many.
    @discardableResult
    func merge() -> Int {
        var limit = Int.max
        for (i, o) in outputs.enumerated() {
            // Progress first, then the items: every item below it is then in hand.
            let done = o.done.load(ordering: .acquiring)
            limit = min(limit, done >= Int.max / 4 ? Int.max : 2 * done)
            o.take(detections: &detections[i], moments: &moments[i])
        }
        return mergeTaken(below: limit)
    }

    /// Merges every item of every worker (they have all stopped).
    func mergeAll() {
        for (i, o) in outputs.enumerated() { o.take(detections: &detections[i], moments: &moments[i]) }
        mergeTaken(below: Int.max)
    }

    /// Hands on, in capture order, every item below `limit`: of equal
    /// positions a worker's moments before its detections (as it found
    /// them), and of the detections of one instant (flows expiring together,
    /// the end) the one that ``Detect/Detection/precedes(_:_:)`` first, as
    /// each worker sorted its own.
    @discardableResult
    private func mergeTaken(below limit: Int) -> Int {
        var merged = 0
        while true {
            var best = -1, bestSequence = limit, bestIsMoment = false
            for i in 0..<outputs.count {
                // Moments first: a worker hands on a packet's moments before its detections.
                if let m = moments[i].head, m.sequence < bestSequence || (m.sequence == bestSequence && !bestIsMoment) {
                    best = i
                    bestSequence = m.sequence
                    bestIsMoment = true
                }
            }
            for i in 0..<outputs.count {
                guard let d = detections[i].head, d.sequence <= bestSequence, d.sequence < limit else { continue }
                let better = best < 0 || d.sequence < bestSequence
                    || (!bestIsMoment && Detection.precedes(d.item, detections[best].head!.item))
                if better {
                    best = i
                    bestSequence = d.sequence
                    bestIsMoment = false
                }
            }
            guard best >= 0 else { break }
            merged += 1
            if bestIsMoment {
                let item = moments[best].items[moments[best].next].item
                moments[best].next += 1
                switch item {
                case .moment(let m):
                    spanning.replay(m)
                    if !spanning.detections.isEmpty {
                        alerts.take(spanning.detections, zones: zones)
                        spanning.clearDetections()
                    }
                case .dataChannel(let e):
                    alerts.dataChannels.expect(e)
                }
            } else {
                let d = detections[best].items[detections[best].next].item
                detections[best].next += 1
                alerts.take(d, zones: zones)
            }
        }
        return merged
    }

    /// The link ends: rule 5003 judges it on the frames every worker counted.
    private func endLink(_ name: String) {
        let frames = summedLinkFrames
        for w in workers { w.endLink() }
        frames.withUnsafeBufferPointer { spanning.linkEnded(name: name, vlanFrames: $0, timestamp: workers[0].lastTimestamp) }
        if !spanning.detections.isEmpty {
            alerts.take(spanning.detections, zones: zones)
            spanning.clearDetections()
        }
        // Anything the workers' link ends gave (they judge no link themselves).
        mergeAll()
    }

    /// The link's frames per VLAN id, summed over the workers (none running).
    var summedLinkFrames: [UInt64] {
        var frames = [UInt64](repeating: 0, count: 4096)
        for w in workers {
            let f = w.linkFrames
            for v in 0..<4096 { frames[v] &+= f[v] }
        }
        return frames
    }

    // MARK: End of input

    /// End of input: inspectors report what is pending, and the sinks are flushed.
    public func finish() {
        if let link, linkOpen {
            endLink(link)
            linkOpen = false
        }
        // One position for all: what the workers report now is merged in ``Detection/precedes(_:_:)`` order.
        for w in workers {
            w.sequence = Int.max / 2
            w.finish(flushOutputs: false)
        }
        mergeAll()
        alerts.flush()
    }

    /// Ends every flow of every worker (records for the flow log).
    public func endAllFlows(_ reason: FlowEndRecord.Reason) {
        for w in workers {
            w.sequence = Int.max / 2
            w.endAllFlows(reason)
        }
        mergeAll()
    }

    // MARK: Totals

    /// The workers' counters, summed.
    public var statistics: SensorStatistics {
        var total = SensorStatistics()
        for w in workers {
            let s = w.statistics
            total.packets &+= s.packets
            total.bytes &+= s.bytes
            total.packetsWithoutFlow &+= s.packetsWithoutFlow
            for i in total.anomalies.indices { total.anomalies[i] &+= s.anomalies[i] }
        }
        return total
    }

    /// The flow tables' counters, summed (`peak`: the sum of each table's peak).
    public var flowStatistics: FlowTableStatistics {
        var total = FlowTableStatistics()
        for w in workers {
            let s = w.flows.statistics
            total.created &+= s.created
            total.expired &+= s.expired
            total.evicted &+= s.evicted
            total.evictedInspected &+= s.evictedInspected
            total.peak += s.peak
        }
        return total
    }

    /// The flow tables' capacities, summed.
    public var flowCapacity: Int { workers.reduce(0) { $0 + $1.flows.capacity } }

    /// The tables that have run full, as ``Pipeline/tableWarnings``.
    public var tableWarnings: [(name: String, text: String)] {
        Pipeline.tableWarnings(flows: flowStatistics,
                               table: "the flow tables were full (sensor.max_flows \(zones.config.sensor.maxFlows), shared by \(workers.count) workers)",
                               macs: spanning.macTableEvictions, zones: zones, throttle: alerts.throttle)
    }
}

/// What one worker hands the merging thread: its detections and deferred
/// moments, each tagged with its position in the capture (twice the packet's
/// index; plus one for the packet itself, so that flows expiring before a
/// packet come first), in the order found. Kept in two arrays, not one of an
/// enum: a moment is four times the size of most detections, and each entry
/// is copied once in and once out.
final class ShardOutput: @unchecked Sendable {
    /// Items of one kind in order, with the merger's place among them.
    struct Queue<Item> {
        var items: [(sequence: Int, item: Item)] = []
        var next = 0

        var head: (sequence: Int, item: Item)? { next < items.count ? items[next] : nil }

        /// Takes `pending` (swapping buffers when everything here is merged).
        mutating func take(_ pending: inout [(sequence: Int, item: Item)]) {
            guard !pending.isEmpty else { return }
            if next == items.count {
                items.removeAll(keepingCapacity: true)
                next = 0
                swap(&items, &pending)
            } else {
                if next > 4096 {
                    items.removeFirst(next)
                    next = 0
                }
                items.append(contentsOf: pending)
                pending.removeAll(keepingCapacity: true)
            }
        }
    }

    /// What the merging thread handles before a packet's detections: the
    /// moments of the rules spanning flows, and the data connections a
    /// session announced (the alert stage ties them to it).
    enum SpanningItem {
        case moment(DeferredMoment)
        case dataChannel(DataChannels.Expected)
    }

    private let lock = ConditionLock()
    private var pendingDetections: [(sequence: Int, item: Detection)] = []
    private var pendingMoments: [(sequence: Int, item: SpanningItem)] = []
    /// The worker's progress in packets: every item it will hand on below
    /// twice this position is already pending. `Int.max / 4`: all.
    let done = Atomic<Int>(0)

    func append(_ sequence: Int, _ detections: [Detection], _ moments: [DeferredMoment]) {
        lock.withLock {
            for m in moments { pendingMoments.append((sequence, .moment(m))) }
            for d in detections { pendingDetections.append((sequence, d)) }
        }
    }

    /// A data connection announced at `sequence`.
    func append(_ sequence: Int, channel: DataChannels.Expected) {
        lock.withLock { pendingMoments.append((sequence, .dataChannel(channel))) }
    }

    /// Moves the pending items into the merger's queues.
    func take(detections: inout Queue<Detection>, moments: inout Queue<SpanningItem>) {
        lock.withLock {
            detections.take(&pendingDetections)
            moments.take(&pendingMoments)
        }
    }
}
