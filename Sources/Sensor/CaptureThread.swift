import Alerting
import Capture
import Decode
import Detect
import Evidence
import Flows
import Platform
import Report
import Synchronization
import Zones
#if canImport(Glibc)
import Glibc
#endif

/// What the capture threads share with the main thread: the stop request and
/// the zone configuration, replaced on SIGHUP.
public final class SensorControl: @unchecked Sendable {
    let stopping = Atomic<Bool>(false)
    /// When the stop was asked (wall-clock nanoseconds, as packet timestamps; 0: not yet):
    /// the packets captured before it are processed, those after it are not.
    let stopTime = Atomic<UInt64>(0)
    let generation = Atomic<Int>(0)
    private let lock = ConditionLock()
    private var current: ZoneMap

    init(zones: ZoneMap) { current = zones }

    var zones: ZoneMap { lock.withLock { current } }

    /// Installs a new configuration; each capture thread picks it up within a read timeout.
    func replace(_ zones: ZoneMap) {
        lock.withLock { current = zones }
        generation.add(1, ordering: .releasing)
    }
}

/// One interface's counters, published by its capture thread about once a second.
public struct InterfaceSnapshot: Sendable {
    public var interface: String
    /// libpcap's counters (`pcap_stats`): packets the kernel received and dropped.
    public var capture: CaptureStatistics?
    public var packets: UInt64 = 0
    public var bytes: UInt64 = 0
    public var decodeErrors: UInt64 = 0
    public var activeFlows = 0
    public var flowsCreated: UInt64 = 0
    public var flowsEvicted: UInt64 = 0
    /// Evicted flows an inspection was following (`flow.evicted_inspected`).
    public var flowsEvictedInspected: UInt64 = 0
    /// Alerts written and detected (written + suppressed by throttling), by sid.
    public var written: [Int: Int] = [:]
    public var detected: [Int: Int] = [:]
    /// Findings accepted by each exception (`exceptions:`), by its label (``Alerting/AlertExceptions/label(_:)``).
    public var accepted: [String: Int] = [:]
    /// Why the capture stopped early, if it did.
    public var failure: String?
    /// Bounded tables that have run full (``Pipeline/tableWarnings``).
    public var tableWarnings: [(name: String, text: String)] = []
    public var running = true
    /// The interface's link is down (not up, or no carrier): nothing is captured on it meanwhile.
    public var linkDown = false

    public init(interface: String) { self.interface = interface }
}

/// Reads one interface and runs its packets through a pipeline of its own,
/// on a thread of its own (or through several workers, ``LiveWorkers``).
/// Alerts go to the shared outputs' queues.
final class CaptureThread: @unchecked Sendable {
    /// How an interface is analysed.
    enum Analysis {
        /// One pipeline, on this thread (with a reading thread if ``readsAhead``).
        case one(Pipeline)
        /// Several workers (`run --workers N`): this thread merges and keeps house.
        case workers(ShardedAnalysis)
    }

    let interface: String
    private let handle: PcapHandle
    private let link: LinkLayer
    private let alerts: AlertStage
    private let control: SensorControl
    private let endpointMemory: EndpointMemory?
    private let statsInterval: Double
    private let log: @Sendable (String) -> Void
    /// The one pipeline; nil with several workers (``sharded``).
    private var pipeline: Pipeline!
    private let sharded: ShardedAnalysis?
    /// The workers' threads while they run.
    private var live: LiveWorkers?
    private let lock = ConditionLock()
    private var published: InterfaceSnapshot
    private var thread: WorkerThread?
    /// The communication report of this interface, when one is written (`--report`).
    private let reportInterval: Double?
    private var collector: ReportCollector?
    private var publishedReport: CommunicationReport?

    /// - Parameter reportInterval: with several workers, nil (the report is one pipeline's).
    init(interface: String, handle: PcapHandle, link: LinkLayer, analysis: Analysis, control: SensorControl,
         endpointMemory: EndpointMemory?, statsInterval: Double, reportInterval: Double?, log: @escaping @Sendable (String) -> Void) {
        self.interface = interface
        self.handle = handle
        self.link = link
        switch analysis {
        case .one(let pipeline):
            self.pipeline = pipeline
            sharded = nil
            alerts = pipeline.alerts
        case .workers(let workers):
            pipeline = nil
            sharded = workers
            alerts = workers.alerts
        }
        self.control = control
        self.endpointMemory = endpointMemory
        self.statsInterval = statsInterval
        self.log = log
        published = InterfaceSnapshot(interface: interface)
        self.reportInterval = reportInterval
        alerts.interfaceName = interface
        if reportInterval != nil && sharded == nil { attachCollector() }
    }

    /// The report as last published (about every quarter of the report interval).
    var communicationReport: CommunicationReport? { lock.withLock { publishedReport } }

    /// A report for the current pipeline's zones (a reload starts a new one: zones may have changed).
    private func attachCollector() {
        let c = ReportCollector(report: CommunicationReport(zones: pipeline.zones), zones: pipeline.zones)
        c.dataChannels = alerts.dataChannels
        collector = c
        alerts.sinks.removeAll { $0 is ReportCollector }
        alerts.sinks.append(c)
        pipeline.onFlowEnd = { record, _ in c.add(record) }
    }

    private func publishReport() {
        guard let c = collector else { return }
        var snapshot = c.snapshot(pipeline.flows, first: pipeline.firstTimestamp, last: pipeline.lastTimestamp)
        snapshot.acceptedRisks = CommunicationReport.AcceptedRisk.merged(earlierRisks, CommunicationReport.AcceptedRisk.list(alerts.exceptions, at: Self.wallClock()))
        snapshot.describe(enabledRules: Set(pipeline.detector.metadata.map { $0.sid }), version: "",
                          configSHA256: FileDigest.sha256(file: pipeline.zones.config.file))
        lock.withLock { publishedReport = snapshot }
    }

    var snapshot: InterfaceSnapshot { lock.withLock { published } }

    func start() -> Bool {
        let t = WorkerThread(name: "capture \(interface)") { [self] in run() }
        thread = t
        return t.start()
    }

    /// Asks a blocked read to return.
    func interrupt() { handle.breakLoop() }

    func join() { thread?.join() }

    /// Whether a live interface gets a reading thread (``ReadAhead``): when the
    /// machine has a core to spare for it (``LiveSensor`` decides per sensor).
    var readsAhead = false

    private func run() {
        if let sharded {
            runWorkers(sharded)
            return
        }
        pipeline.beginLink(interface)
        pipeline.evidence?.linkType = handle.linkType.rawValue
        generation = control.generation.load(ordering: .acquiring)
        let now = monotonicSeconds()
        lastPublish = now
        lastLinkReport = now
        lastReport = now
        // The counters from the start: the first statistics line has the kernel's too, before any packet.
        publish(running: true, failure: nil)
        var failure: String? = nil
        if !(readsAhead && runReadingAhead(&failure)) {
            failure = runOnOneThread()
        }
        if failure == nil { drain { pipeline.process($0, link: link) } }
        pipeline.finish(flushOutputs: false)
        alerts.releaseHeld(all: true)
        publish(running: false, failure: failure)
        publishReport()
        // The flows still open get their records (after the report, which counts open flows itself).
        if pipeline.flowLog != nil { pipeline.endAllFlows(.shutdown) }
    }

    /// With several workers: a reader and the workers on threads of their
    /// own, the merging and the housekeeping here; then the drain after a
    /// stop and the end, as with one pipeline.
    private func runWorkers(_ sharded: ShardedAnalysis) {
        generation = control.generation.load(ordering: .acquiring)
        let start = monotonicSeconds()
        (lastPublish, lastLinkReport, lastReport) = (start, start, start)
        publish(running: true, failure: nil)
        let control = self.control
        let workers = LiveWorkers(analysis: sharded, handle: handle, link: link, stopRequested: { control.stopping.load(ordering: .relaxed) })
        workers.begin(link: interface)
        var failure: String?
        if workers.start() {
            live = workers
            var lastHousekeeping = start
            while workers.merge() {
                let now = monotonicSeconds()
                guard now - lastHousekeeping >= 0.1 else { continue }
                lastHousekeeping = now
                keepHouse(workers)
            }
            if let error = workers.join() {
                failure = error.description
                log(error.description)
            }
            lastReaderStatistics = workers.ring.captureStatistics
            live = nil
            if failure == nil { drain { workers.process($0) } }
        } else {
            _ = workers.join()
            failure = "\(interface): cannot start a reading thread and \(sharded.workers.count) workers"
            log(failure!)
        }
        workers.finish(link: interface)
        alerts.releaseHeld(all: true)
        publish(running: false, failure: failure)
        if sharded.flowLog != nil { sharded.endAllFlows(.shutdown) }
    }

    /// ``keepHouse(reload:)`` with workers, about every tenth of a second:
    /// their pipelines are read or changed with all of them parked.
    private func keepHouse(_ workers: LiveWorkers) {
        alerts.releaseHeld()
        let latest = control.generation.load(ordering: .acquiring)
        let now = monotonicSeconds()
        let reloading = latest != generation, judging = now - lastLinkReport >= statsInterval, publishing = now - lastPublish >= 1
        guard reloading || judging || publishing else { return }
        workers.withWorkersParked {
            if reloading {
                generation = latest
                reload(workers)
            }
            if judging {
                lastLinkReport = now
                workers.judgeLink(interface)
            }
            if publishing {
                lastPublish = now
                publish(running: true, failure: nil)
            }
        }
    }

    /// ``reload()`` with workers (all parked): each worker's flows go on under
    /// the new zones, or, when the tables change size, start afresh.
    private func reload(_ workers: LiveWorkers) {
        publish(running: true, failure: nil)
        let zones = control.zones, sharded = workers.analysis
        // What the workers found before they parked is handed on under the configuration it was found with
        // (merged now, out of capture order only among the packets some workers had taken and others not).
        sharded.mergeAll()
        do throws(ConfigErrors) {
            try installExceptions(zones)
            // Rule 5003 judges the link as it was under the old configuration.
            workers.judgeLink(interface)
            let spanning = try Detector(zones: zones, endpointMemory: endpointMemory, selection: .spanningFlows)
            // The rules spanning flows that fired on a flow going on do not fire on it again, as in one pipeline.
            spanning.inheritFiredRules(from: sharded.spanning)
            let old = sharded.zones.config.sensor, new = zones.config.sensor
            if old.maxFlows == new.maxFlows && old.streamWindow == new.streamWindow {
                for w in sharded.workers { _ = try w.reconfigure(zones, endpointMemory: nil) }
            } else {
                log("\(interface): sensor.max_flows or sensor.stream_window changed: the flows start afresh")
                try workers.startAfresh(zones: zones, link: interface)
            }
            sharded.spanning = spanning
            sharded.zones = zones
        } catch {
            log("\(interface): the new configuration was refused: \(error.errors.first?.description ?? "")")  // validated before; kept for safety
        }
    }

    /// Reads and analyses on this thread; returns why reading failed, if it did.
    private func runOnOneThread() -> String? {
        var counter = 0
        while !control.stopping.load(ordering: .relaxed) {
            let next: NextPacket
            do throws(CaptureError) {
                next = try handle.next()
            } catch {
                log(error.description)
                return error.description
            }
            switch next {
            case .packet(let captured):
                pipeline.process(captured, link: link)
                counter &+= 1
                if counter & 255 != 0 { continue }
            case .timeout:
                // Nothing buffered: wait a little (a stop request is noticed within this).
                if !handle.waitForPackets(milliseconds: 200) { pipeline.tick(now: Self.wallClock()) }
            case .end:
                return nil
            }
            keepHouse(reload: reload)
        }
        return nil
    }

    /// Reads on a thread of its own, which also decodes when the analysis
    /// falls behind (as `analyze` does), and analyses here: one busy
    /// interface keeps two cores busy. False if no thread could be started
    /// (then this thread reads); `failure` is why reading failed, if it did.
    private func runReadingAhead(_ failure: inout String?) -> Bool {
        let decoding = ReadAhead.Decoding(decoder: pipeline.decoder, link: link, keys: pipeline.flows.keyPreparer)
        let control = self.control
        let ring = ReadAhead(source: .live(handle), decoding: decoding, stopRequested: { control.stopping.load(ordering: .relaxed) })
        ring.takeStatistics(handle)  // published before the reader's first read timeout too
        guard ring.start() else { return false }
        reader = ring
        var lookahead = Lookahead(pipeline: pipeline)
        // Packets not yet processed (the lookahead's) are processed before the house is kept.
        func processHeld() {
            lookahead.drain()
            ring.releaseTaken()
        }
        var sinceHousekeeping = 0, lastHousekeeping = monotonicSeconds()
        // A new configuration is in force before the packets that come after it are taken.
        let newConfiguration = { [unowned self] in control.generation.load(ordering: .relaxed) != generation }
        loop: while true {
            let pipeline: Pipeline = self.pipeline
            let threshold = pipeline.lookaheadThreshold
            let step = ring.poll(limit: 256, waitingUpTo: 200, unless: newConfiguration) { item, _ in
                // Prefetching ahead pays once the flow table outgrows the caches, as offline.
                guard lookahead.count > 0 || pipeline.flows.count >= threshold else {
                    let (p, key) = pipeline.decoded(item, link: link, scratch: pipeline.packet)
                    pipeline.processDecoded(p, bytes: item.packet.bytes, key: key)
                    return 0
                }
                lookahead.push(item, link: link)
                return lookahead.count
            }
            switch step {
            case .packets(let n):
                // Every 256 packets or tenth of a second (housekeeping takes locks other interfaces share).
                sinceHousekeeping += n
                if sinceHousekeeping < 256 && monotonicSeconds() - lastHousekeeping < 0.1 { continue }
            case .idle:
                processHeld()
                pipeline.tick(now: Self.wallClock())
            case .interrupted:
                break
            case .finished:
                break loop
            }
            sinceHousekeeping = 0
            lastHousekeeping = monotonicSeconds()
            // What the lookahead holds is processed first: an alert waits at most a tenth of a second in it.
            processHeld()
            keepHouse { [self] in
                reload()
                // A reload that replaced the pipeline kept its flow hash (the reader's keys stay right).
                if self.pipeline !== pipeline { lookahead = Lookahead(pipeline: self.pipeline) }
            }
        }
        processHeld()
        let error = ring.join()
        reader = nil
        lastReaderStatistics = ring.captureStatistics
        if let error {
            failure = error.description
            log(error.description)
        }
        return true
    }

    /// The reading thread while it runs (its capture counters are the ones to publish).
    private var reader: ReadAhead?
    /// Its last counters, once it has ended: published if the handle can no longer give any (a vanished interface).
    private var lastReaderStatistics: CaptureStatistics?

    private var generation = 0
    private var lastPublish = 0.0
    private var lastLinkReport = 0.0
    private var lastReport = 0.0

    /// Every 256 packets or read timeout: held alerts, a new configuration, the link's report, the counters.
    private func keepHouse(reload: () -> Void) {
        alerts.releaseHeld()
        let latest = control.generation.load(ordering: .acquiring)
        if latest != generation {
            generation = latest
            reload()
        }
        let now = monotonicSeconds()
        if now - lastLinkReport >= statsInterval {
            lastLinkReport = now
            pipeline.reportLink()
        }
        if now - lastPublish >= 1 {
            lastPublish = now
            publish(running: true, failure: nil)
        }
        if let interval = reportInterval, now - lastReport >= max(1, interval / 4) {
            lastReport = now
            publishReport()
        }
    }

    /// After a stop: the packets the kernel had already captured when it was
    /// asked are processed, not thrown away. The kernel hands a partly filled
    /// ring block over only after the read timeout, so reading goes on until
    /// a packet captured after the stop comes, or nothing has come for longer
    /// than that (at most two seconds in all); on a busy link the first
    /// packet after the stop ends it.
    private func drain(_ process: (CapturedPacket) -> Void) {
        let stopTime = control.stopTime.load(ordering: .acquiring)
        let quietFor = Double(handle.readTimeoutMilliseconds) / 1000 + 0.1
        let deadline = monotonicSeconds() + 2
        var lastPacket = monotonicSeconds()
        var drained = 0
        reading: while monotonicSeconds() < deadline && monotonicSeconds() - lastPacket < quietFor {
            let next: NextPacket
            do throws(CaptureError) {
                next = try handle.next()
            } catch {
                break
            }
            switch next {
            case .packet(let captured):
                if stopTime != 0 && captured.timestamp > stopTime { break reading }
                process(captured)
                drained += 1
                lastPacket = monotonicSeconds()
            case .timeout, .end:
                // .end: the break that woke the read; the ring may still hold packets.
                _ = handle.waitForPackets(milliseconds: 50)
            }
        }
        if drained > 0 { log("\(interface): \(drained) packets captured before the stop processed") }
    }

    /// A new configuration (SIGUSR2): the flows go on, with their
    /// inspections, and are judged by the new zones from their next packet;
    /// the running report goes on under the new zone names. Only when the
    /// tables must change size (`max_flows`, `stream_window`) do the flows
    /// start afresh, and the log says so.
    private func reload() {
        publish(running: true, failure: nil)
        let zones = control.zones
        do throws(ConfigErrors) {
            try installExceptions(zones)
            // Rule 5003 judges the link as it was under the old configuration.
            pipeline.reportLink()
            if try pipeline.reconfigure(zones, endpointMemory: endpointMemory) {
                if let c = collector { c.rezone(zones) }
                return
            }
            log("\(interface): sensor.max_flows or sensor.stream_window changed: the flows start afresh")
            pipeline.finish(flushOutputs: false)
            let flowLog = pipeline.flowLog
            let evidence = pipeline.evidence
            if flowLog != nil { pipeline.endAllFlows(.forced) }
            // The same flow hash: a reading thread computes the flows' keys with it.
            pipeline = try Pipeline(zones: zones, alerts: alerts, endpointMemory: endpointMemory, flowSeed: pipeline.flows.hashSeed)
            pipeline.flowLog = flowLog
            if let evidence {
                pipeline.attachEvidence(evidence.directory, packetsPerFlow: evidence.packetsPerFlow, memoryBytes: evidence.memoryBytes)
                pipeline.evidence?.linkType = handle.linkType.rawValue
            }
            if let c = collector {
                c.rezone(zones)
                pipeline.onFlowEnd = { record, _ in c.add(record) }
            }
        } catch {
            log("\(interface): the new configuration was refused: \(error.errors.first?.description ?? "")")  // validated before; kept for safety
        }
        pipeline.beginLink(interface)
    }

    /// The new configuration's exceptions; what the old ones accepted stays counted.
    private func installExceptions(_ zones: ZoneMap) throws(ConfigErrors) {
        let exceptions = try AlertExceptions(zones)
        if let old = alerts.exceptions {
            for i in old.settings.indices { acceptedBase[old.label(i), default: 0] += old.accepted[i] }
            // The audit trail keeps what the old configuration accepted (the report lists it under its place).
            earlierRisks = CommunicationReport.AcceptedRisk.merged(earlierRisks, CommunicationReport.AcceptedRisk.list(old, at: Self.wallClock()).filter { $0.findings > 0 })
        }
        alerts.exceptions = exceptions
    }

    /// Publishes the interface's counters (with workers: parked, or ended).
    private func publish(running: Bool, failure: String?) {
        var s = InterfaceSnapshot(interface: interface)
        if let reader {
            s.capture = reader.captureStatistics
        } else if let live {
            s.capture = live.ring.captureStatistics
        } else {
            s.capture = handle.statistics() ?? lastReaderStatistics
        }
        let stats: SensorStatistics, flows: FlowTableStatistics, warnings: [(name: String, text: String)], current: ObjectIdentifier
        if let sharded {
            (stats, flows, warnings, current) = (sharded.statistics, sharded.flowStatistics, sharded.tableWarnings, ObjectIdentifier(sharded.workers[0]))
            s.activeFlows = sharded.workers.reduce(0) { $0 + $1.flows.count }
        } else {
            (stats, flows, warnings, current) = (pipeline.statistics, pipeline.flows.statistics, pipeline.tableWarnings, ObjectIdentifier(pipeline))
            s.activeFlows = pipeline.flows.count
        }
        let previous = lock.withLock { published }
        // Counters carry over a reload (a new pipeline starts from zero).
        s.packets = stats.packets
        s.bytes = stats.bytes
        s.decodeErrors = stats.decodeErrors
        s.flowsCreated = flows.created
        s.flowsEvicted = flows.evicted
        s.flowsEvictedInspected = flows.evictedInspected
        s.written = alerts.writtenBySID
        s.detected = alerts.detectedBySID
        s.accepted = acceptedBase
        if let exceptions = alerts.exceptions {
            for i in exceptions.settings.indices { s.accepted[exceptions.label(i), default: 0] += exceptions.accepted[i] }
        }
        s.running = running
        s.tableWarnings = warnings
        s.failure = failure ?? previous.failure
        if pipelineBase.pipelineID != current {
            pipelineBase = (current, previous.packets, previous.bytes, previous.decodeErrors, previous.flowsCreated, previous.flowsEvicted,
                            previous.flowsEvictedInspected)
        }
        s.packets += pipelineBase.packets
        s.bytes += pipelineBase.bytes
        s.decodeErrors += pipelineBase.decodeErrors
        s.flowsCreated += pipelineBase.flowsCreated
        s.flowsEvicted += pipelineBase.flowsEvicted
        s.flowsEvictedInspected += pipelineBase.flowsEvictedInspected
        lock.withLock { published = s }
    }

    /// What the exceptions of earlier configurations accepted (reloads), for the report.
    private var earlierRisks: [CommunicationReport.AcceptedRisk] = []

    /// Findings the exceptions of earlier configurations accepted (reloads), by label.
    private var acceptedBase: [String: Int] = [:]

    /// The totals of the pipelines before the current one (reloads).
    private var pipelineBase: (pipelineID: ObjectIdentifier?, packets: UInt64, bytes: UInt64, decodeErrors: UInt64, flowsCreated: UInt64, flowsEvicted: UInt64,
                               flowsEvictedInspected: UInt64) = (nil, 0, 0, 0, 0, 0, 0)

    static func wallClock() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }
}
