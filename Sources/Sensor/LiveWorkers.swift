import Capture
import Decode
import Detect
import Platform
import Zones
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One interface of the live sensor analysed by several workers (`run --workers N`).
///
/// The flows are shared out as `analyze --workers` shares them
/// (``ShardedAnalysis``), with software distribution rather than the
/// kernel's PACKET_FANOUT: a fanout group hashes the outer headers, so the
/// two directions of a tunnelled flow (their VXLAN source ports differ) would
/// reach different workers, and every worker would lose the capture's clock
/// and the link's counts. Here a reader thread copies each packet into the
/// ring and decodes it once; every worker thread takes every packet (time
/// passes for all, as in one pipeline) and processes the flows whose hash is
/// its own. The capture thread that owns this object merges what the workers
/// find, runs the rules spanning flows and the alert stage, and keeps house:
/// to read the workers' counters, judge the link (5003) or install a new
/// configuration it parks them all between two steps
/// (``withWorkersParked(_:)``), about once a second.
final class LiveWorkers: @unchecked Sendable {
    let analysis: ShardedAnalysis
    let ring: ReadAhead
    private let link: LinkLayer
    private let barrier: WorkerBarrier
    private var threads: [WorkerThread] = []
    /// Set when not every thread could be started: the reader ends and so do the workers.
    private let abandoned = Flag()

    /// A flag the reader's stop closure can hold (an `Atomic` itself cannot be captured).
    private final class Flag: Sendable {
        private let value = Atomic<Bool>(false)
        var isSet: Bool { value.load(ordering: .relaxed) }
        func set() { value.store(true, ordering: .relaxed) }
    }

    init(analysis: ShardedAnalysis, handle: PcapHandle, link: LinkLayer, stopRequested: @escaping @Sendable () -> Bool) {
        self.analysis = analysis
        self.link = link
        let count = analysis.workers.count
        barrier = WorkerBarrier(workers: count)
        // Several consumers share each decoded packet: the reader decodes every one (backlog 0), once for all.
        var decoding = ReadAhead.Decoding(decoder: analysis.workers[0].decoder, link: link, keys: analysis.workers[0].flows.keyPreparer)
        decoding.backlog = 0
        let abandoned = self.abandoned
        ring = ReadAhead(source: .live(handle), consumers: count, decoding: decoding,
                         stopRequested: { stopRequested() || abandoned.isSet })
        ring.takeStatistics(handle)
    }

    /// Starts the reader and one thread per worker; false if the system
    /// refused any (those started end at once; ``join()`` waits for them).
    func start() -> Bool {
        guard ring.start() else { return false }
        for i in analysis.workers.indices {
            let thread = WorkerThread(name: "zw-worker-\(i)") { [self] in work(i) }
            guard thread.start() else {
                abandoned.set()
                barrier.leave(count: analysis.workers.count - i)
                return false
            }
            threads.append(thread)
        }
        return true
    }

    /// Merges what the workers have found; false once every worker has ended
    /// (then nothing more comes). With nothing to merge it sleeps, from 2 ms
    /// up to 20 ms while nothing comes (an idle interface wakes 50 times a second, not 500).
    func merge() -> Bool {
        let running = barrier.running
        if analysis.merge() > 0 {
            idleMerges = 0
            return true
        }
        if running == 0 { return false }
        idleMerges = min(idleMerges + 1, 10)
        usleep(useconds_t(2_000 * idleMerges))
        return true
    }
    private var idleMerges = 0

    /// Runs `body` with every worker parked between two steps (its lookahead
    /// drained, its progress published): the workers' pipelines are then the
    /// caller's to read and change.
    func withWorkersParked<T>(_ body: () throws -> T) rethrows -> T {
        barrier.pause()
        defer { barrier.resume() }
        return try body()
    }

    /// Waits for every thread; returns why reading stopped early, if it did.
    func join() -> CaptureError? {
        for t in threads { t.join() }
        threads = []
        let error = ring.join()
        analysis.mergeAll()
        return abandoned.isSet ? nil : error
    }

    /// The packets counted when the link was last judged (``judgeLink(_:final:)``).
    fileprivate var packetsAtLastLinkReport = UInt64.max

    /// The position the next packet gets (after the ring's: packets read once the workers have ended).
    private lazy var position = ring.packetsRead

    /// A packet read after the workers ended (the drain after a stop),
    /// processed on this thread by every worker's pipeline in turn.
    func process(_ captured: CapturedPacket) {
        for i in analysis.workers.indices { analysis.process(worker: i, captured, link: link, position: position) }
        position += 1
        analysis.merge()
    }

    /// Worker `i`'s loop: steps of up to 256 packets through its lookahead;
    /// with none coming, what it holds is processed and idle flows expire
    /// (``Pipeline/tick(now:)``); asked to park, it parks.
    private func work(_ i: Int) {
        let output = analysis.outputs[i]
        var taken = 0, seen = 0
        loop: while true {
            // Replaced while parked when a reload starts the flows afresh.
            let pipeline = analysis.workers[i], lookahead = analysis.lookaheads[i]
            let step = ring.poll(consumer: i, limit: 256, waitingUpTo: 50, unless: { barrier.requested != seen }) { item, position in
                lookahead.push(item, link: link, position: position)
                return lookahead.count
            }
            switch step {
            case .packets(let n):
                taken += n
                output.done.store(taken - lookahead.count, ordering: .releasing)
                continue loop
            case .finished:
                break loop
            case .idle, .interrupted:
                lookahead.drain()
                ring.releaseTaken(consumer: i)
                // Idle flows expire before the progress is published: their findings merge in order.
                if step == .idle { pipeline.tick(now: CaptureThread.wallClock()) }
                output.done.store(taken, ordering: .releasing)
                // Asked while waiting for packets too: an idle worker parks as soon as its wait ends.
                if barrier.requested != seen { seen = barrier.park() }
            }
        }
        analysis.lookaheads[i].drain()
        ring.releaseTaken(consumer: i)
        output.done.store(Int.max / 4, ordering: .releasing)
        barrier.leave(count: 1)
    }
}

/// Parks the live workers between two steps, for the capture thread to read
/// or change their pipelines; a worker that has ended no longer counts.
final class WorkerBarrier: @unchecked Sendable {
    private let lock = ConditionLock()
    /// Pause requests so far: a worker parks when it sees one it has not yet served.
    private let requests = Atomic<Int>(0)
    /// Workers that have parked for the current request, and the last request resumed.
    private var arrived = 0, resumed = 0
    private var runningWorkers: Int

    init(workers: Int) { runningWorkers = workers }

    var requested: Int { requests.load(ordering: .acquiring) }
    var running: Int { lock.withLock { runningWorkers } }

    /// Asks every running worker to park and waits until all have.
    func pause() {
        lock.withLock {
            arrived = 0
            requests.add(1, ordering: .releasing)
            while arrived < runningWorkers { lock.wait(seconds: 0.05) }
        }
    }

    /// Lets the parked workers go on.
    func resume() {
        lock.withLock { resumed = requests.load(ordering: .acquiring) }
        lock.broadcast()
    }

    /// A worker parks until resumed; returns the request it served.
    func park() -> Int {
        lock.withLock {
            let request = requests.load(ordering: .acquiring)
            arrived += 1
            lock.broadcast()
            while resumed < request { lock.wait(seconds: 0.05) }
            return request
        }
    }

    /// `count` workers have ended.
    func leave(count: Int) {
        lock.withLock { runningWorkers -= count }
        lock.broadcast()
    }
}

extension LiveWorkers {
    /// Rule 5003 on the link so far, from the frames every worker counted
    /// (the workers parked or ended); as one pipeline judges it, an idle
    /// link is not judged again unless it ends (`final`).
    func judgeLink(_ name: String, final: Bool = false) {
        let packets = analysis.statistics.packets
        guard final || packets != packetsAtLastLinkReport else { return }
        packetsAtLastLinkReport = packets
        let frames = analysis.summedLinkFrames
        let spanning = analysis.spanning, alerts = analysis.alerts
        let timestamp = analysis.workers.map(\.lastTimestamp).max() ?? 0
        frames.withUnsafeBufferPointer { spanning.linkEnded(name: name, vlanFrames: $0, timestamp: timestamp) }
        // Judged again and again: what the throttle holds back is no new detection.
        spanning.removeDetections { alerts.throttle.holdsBack($0.finding.key, now: $0.subject.timestamp) }
        if !spanning.detections.isEmpty {
            alerts.take(spanning.detections, zones: analysis.zones)
            spanning.clearDetections()
        }
    }

    /// The interface's end (the workers have ended): the link is judged,
    /// inspectors report what is pending, and everything is merged.
    func finish(link name: String) {
        judgeLink(name, final: true)
        for w in analysis.workers {
            w.sequence = Int.max / 2
            w.finish(flushOutputs: false)
        }
        analysis.mergeAll()
    }

    /// A reload that changes the tables' sizes (the workers parked): their
    /// flows end (with records in the flow log) and new pipelines with the
    /// same flow hash, which the reader keys packets with, take over. The new
    /// pipelines are made first: a configuration they refuse changes nothing.
    func startAfresh(zones: ZoneMap, link name: String) throws(ConfigErrors) {
        let workers = try ShardedAnalysis.makeWorkers(zones: zones, outputs: analysis.outputs, seed: analysis.workers[0].flows.hashSeed)
        let flowLog = analysis.flowLog
        for w in analysis.workers {
            w.sequence = Int.max / 2
            w.finish(flushOutputs: false)
        }
        analysis.mergeAll()
        if flowLog != nil { analysis.endAllFlows(.forced) }
        analysis.workers = workers
        analysis.lookaheads = workers.enumerated().map { Lookahead(pipeline: $1, shard: $0, of: workers.count) }
        analysis.flowLog = flowLog
        begin(link: name)
        // The new tables count from zero: the link is judged again at the next report.
        packetsAtLastLinkReport = .max
    }

    /// The workers' link begins; their flow records name the interface (`in_iface`), as one pipeline's do.
    func begin(link name: String) {
        for w in analysis.workers {
            w.alerts.interfaceName = name
            w.beginLink(name)
        }
    }
}
