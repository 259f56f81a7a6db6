import Alerting
import Capture
import Decode
import Detect
import Evidence
import Flows
import Inspect
import Vocabulary
import Zones

/// The per-packet path of the sensor, composed here and nowhere else:
///
///     capture ──► decode ──► flows ──► classify ──► inspect ──► detect ──► alert ──► format ──► sinks
///     (libpcap)   (views     (table,    (zones of   (streams    (rules     (throttle, (text, EVE,  (files,
///     Capture     over the   timeouts)  a flow,     of logins,  make       build the  syslog)      syslog,
///                 bytes)     Flows      once)       protocols)  Detection  Alert)     Alerting     queues)
///                 Decode                Zones       Inspect     values)    Alerting   Formats/     Alerting
///                                                               Detect                             Outputs/
///
/// A packet is decoded in place from libpcap's buffer into one reused
/// ``DecodedPacket``; flows live in a preallocated table. Zone lookups and
/// rules run when a flow starts or first answers, not per packet; payload
/// goes to the inspectors only while a flow may still hold something to
/// report; so the steady state allocates nothing. What the rules find leaves
/// the detect stage as ``Detect/Detection`` values and becomes alerts in the
/// alert stage.
///
/// Not thread-safe: one pipeline per worker thread.
public final class Pipeline {
    /// The smallest flow table a worker gets when `max_flows` is shared among several.
    public static let minimumFlowsPerWorker = 64
    public private(set) var zones: ZoneMap
    public let flows: FlowTable
    public private(set) var classifier: FlowClassifier
    public let inspection: ApplicationInspection
    public private(set) var detector: Detector
    public let alerts: AlertStage
    public private(set) var statistics = SensorStatistics()
    public var decoder = PacketDecoder()

    /// The packet being processed; a stable address that rules may read during a call.
    let packet: UnsafeMutablePointer<DecodedPacket>
    private var lastExpiryCheck: UInt64 = 0
    private static let expiryInterval: UInt64 = 1_000_000_000
    /// Whether any rule listens to application events (else nothing is inspected).
    private var inspects: Bool
    /// The capture link being read (a file or an interface) and its frames per
    /// VLAN id (rule 5003 judges a link as a whole).
    public private(set) var linkName: String?
    /// Called with each flow as it leaves the table (expired, evicted, or at the
    /// end), and when it was first seen: the communication report counts here.
    public var onFlowEnd: ((borrowing FlowRecord, UInt64) -> Void)?
    /// Where a record of every flow goes when it ends (`--flow-log`); nil: nowhere, at no cost.
    public var flowLog: FlowLog? {
        willSet { handOnFlowRecords() }
    }
    /// Records of the flows an expiry sweep or the end removes, handed to
    /// ``flowLog`` together (one lock per batch, not per flow) when the sweep
    /// is done or 256 wait; a flow that ends on its own (a packet finds it
    /// timed out, an eviction) has its record handed on at once.
    private var flowRecords: [FlowEndRecord] = []
    /// Whether a sweep is removing flows (``flowRecords`` collects their records).
    private var sweepingFlows = false
    /// The names the flow log's records refer to, for the current zones and interface (nil: to be made).
    private var flowNames: FlowNames?
    /// Keeps the packets behind the alerts (`--evidence`, ``attachEvidence(_:packetsPerFlow:memoryBytes:)``); nil: nothing kept, at no cost.
    public private(set) var evidence: EvidenceRecorder? {
        didSet {
            evidenceMoment = evidence?.moment
            evidenceMoment?.pointee.flowIDs = flows.idsBySlot
        }
    }
    /// Where the packet being processed is described for ``evidence`` (plain stores per packet, no call).
    private var evidenceMoment: UnsafeMutablePointer<EvidenceMoment>?
    /// Why the flows being removed end, while ``endAllFlows(_:)`` removes them.
    private var endingReason: FlowEndRecord.Reason?
    /// Timestamps of the first and last packet processed (0 before any).
    public private(set) var firstTimestamp: UInt64 = 0
    public var lastTimestamp: UInt64 { linkLastTimestamp }
    /// The first packet's time on the current link (0 before its first packet): a file's span, with ``lastTimestamp``.
    public private(set) var linkFirstTimestamp: UInt64 = 0
    private let linkVLANFrames: UnsafeMutablePointer<UInt64>
    private var linkLastTimestamp: UInt64 = 0

    /// With several workers (``ShardedAnalysis``): where this worker's
    /// detections and deferred moments go, tagged with ``sequence``, instead
    /// of the alert stage.
    var shardOutput: ShardOutput?
    /// The position in the capture of what is being processed, for ``shardOutput``.
    var sequence = 0
    /// Which rules run here: all, or a worker's per-flow ones (kept across reloads).
    private let selection: Detector.RuleSelection

    /// - Parameters:
    ///   - endpointMemory: the live sensor's infrastructure endpoints (rule 7002).
    ///   - shards: with several workers, how many share the sensor's tables
    ///     (each gets its share of `max_flows`); this pipeline then runs the
    ///     per-flow rules only (``Detect/Detector/RuleSelection``).
    ///   - flowSeed: the flow table's hash seed (workers share one: the hash also picks a flow's worker); random if nil.
    public init(zones: ZoneMap, alerts: AlertStage, endpointMemory: EndpointMemory? = nil, shards: Int = 1, flowSeed: UInt64? = nil) throws(ConfigErrors) {
        self.zones = zones
        self.alerts = alerts
        let settings = zones.config.sensor
        let maxFlows = shards > 1 ? max((settings.maxFlows + shards - 1) / shards, Self.minimumFlowsPerWorker) : settings.maxFlows
        self.classifier = FlowClassifier(zones: zones)
        self.selection = shards > 1 ? .perFlow : .all
        self.detector = try Detector(zones: zones, endpointMemory: endpointMemory, selection: selection)
        self.inspects = detector.inspectsApplications
        self.inspection = ApplicationInspection(capacity: maxFlows, window: settings.streamWindow)
        var serverPorts = ServerPorts()
        for entry in zones.services.entries where entry.spec.highPort - entry.spec.lowPort < 2048 {
            for port in entry.spec.lowPort...entry.spec.highPort { serverPorts.set(entry.spec.proto, port) }
        }
        self.flows = FlowTable(capacity: maxFlows, timeouts: settings.flowTimeouts, serverPorts: serverPorts, seed: flowSeed)
        packet = .allocate(capacity: 1)
        packet.initialize(to: DecodedPacket())
        linkVLANFrames = .allocate(capacity: 4096)
        linkVLANFrames.initialize(repeating: 0, count: 4096)
        // Unmanaged: the table is the pipeline's and calls this only while both live; a checked
        // unowned reference cost two atomic operations for every flow that ended, and an
        // unowned(unsafe) one still a retain and release around each call it made.
        let me = Unmanaged.passUnretained(self)
        flows.onRemove = { index, record, evicted in
            me._withUnsafeGuaranteedRef { $0.flowLeaves(index, record, evicted: evicted) }
        }
    }

    /// A flow leaves the table (it expired, was evicted, or all flows end):
    /// its inspection's last words, the communication report, its record.
    private func flowLeaves(_ index: Int32, _ record: borrowing FlowRecord, evicted: Bool) {
        // A flow an evidence file waits for: written once this moment's alerts are out.
        if record.state & FlowState.evidencePending != 0, let evidence { evidence.flowEnding(index: index, id: flows.id(index)) }
        flowEnded(flows: flows, index: index)
        onFlowEnd?(record, flows.firstSeen(index))
        // Compared with nil, not bound: a binding retained and released the log for every flow.
        if flowLog != nil {
            let ended = flowEndRecord(copy record, index: index, reason: evicted ? .forced : endingReason ?? .timeout)
            if sweepingFlows {
                flowRecords.append(ended)
                if flowRecords.count >= 256 { handOnFlowRecords() }
            } else {
                flowLog?.write(ended, names: currentFlowNames())
            }
        }
    }

    deinit {
        // The table may outlive the pipeline (a caller holding it): it must not call back into freed memory.
        flows.onRemove = nil
        packet.deinitialize(count: 1)
        packet.deallocate()
        linkVLANFrames.deallocate()
    }

    /// A capture link begins: a file, or a live interface.
    public func beginLink(_ name: String) {
        if linkName != nil { endLink() }
        linkName = name
        linkFirstTimestamp = 0
        linkVLANFrames.update(repeating: 0, count: 4096)
        packetsAtLastLinkReport = .max
    }

    /// The live sensor's periodic report on its link (5003), which goes on.
    public func reportLink() {
        guard let name = linkName else { return }
        // Nothing seen since the last judgement (an idle live interface): the same finding again
        // would only be counted as throttled, interval after interval.
        guard statistics.packets != packetsAtLastLinkReport else { return }
        packetsAtLastLinkReport = statistics.packets
        judgeLink(name)
    }

    /// Rule 5003 on the link so far. A link judged again (every statistics
    /// interval, and at its end) finds what it found before: within the
    /// throttle's window that is no new detection, and not counted as a
    /// throttled one (it would grow interval after interval).
    private func judgeLink(_ name: String) {
        detector.linkEnded(name: name, vlanFrames: UnsafeBufferPointer(start: linkVLANFrames, count: 4096), timestamp: linkLastTimestamp)
        if shardOutput == nil { detector.removeDetections { alerts.throttle.holdsBack($0.finding.key, now: $0.subject.timestamp) } }
        deliver()
    }

    /// The packets counted when the link was last judged (``reportLink()``).
    private var packetsAtLastLinkReport = UInt64.max

    /// Time passes without packets (a quiet live interface): idle flows expire.
    /// `now` is wall-clock nanoseconds, as packet timestamps are.
    public func tick(now: UInt64) {
        guard now &- lastExpiryCheck >= Pipeline.expiryInterval && now > lastExpiryCheck else { return }
        lastExpiryCheck = now
        expire(now: now)
    }

    /// Idle flows leave the table; what their inspectors still report is
    /// handed on together, in ``Detect/Detection/precedes(_:_:)`` order (the
    /// table's order is not the capture's, and workers must agree with one pipeline).
    private func expire(now: UInt64) {
        batching = true
        sweepingFlows = true
        flows.expire(now: now)
        sweepingFlows = false
        batching = false
        handOnFlowRecords()
        if detector.detections.count > 1 { detector.sortDetections() }
        deliver()
        evidence?.flushEnded()
    }

    /// While flows leave together, ``deliver()`` keeps what is found for one sorted hand-on.
    private var batching = false

    /// The link ends: rules that judge a whole link (5003) report on it.
    public func endLink() {
        guard let name = linkName else { return }
        linkName = nil
        judgeLink(name)
    }

    /// The number of flows from which offline analysis decodes packets ahead
    /// and prefetches their flows' index slots and records (``Lookahead``).
    /// Measured with `scripts/bench`: from a few thousand flows the table
    /// outgrows the core's caches and the lookahead wins; below, copying each
    /// packet for it costs a little more than it saves. 0 turns it on always.
    public var lookaheadThreshold = 4_096

    /// Runs one captured packet through every stage.
    @inline(__always)
    public func process(_ captured: CapturedPacket, link: LinkLayer) {
        let p = packet
        decode(captured, link: link, into: p)
        processDecoded(p, bytes: captured.bytes, key: flows.prepare(p))
    }

    /// The decode stage alone: `captured` into `p` (``Lookahead`` decodes ahead).
    @inline(__always)
    func decode(_ captured: CapturedPacket, link: LinkLayer, into p: UnsafeMutablePointer<DecodedPacket>) {
        decoder.decode(captured, link: link, into: p)
    }

    /// A packet from a ``ReadAhead`` ring as its reader decoded it, or decoded
    /// here into `scratch` (memory the analysis keeps in its caches, not the
    /// ring's, which is cold by the time the ring comes round); and its flow key.
    @inline(__always)
    func decoded(_ item: ReadAhead.Item, link: LinkLayer, scratch: UnsafeMutablePointer<DecodedPacket>)
        -> (UnsafeMutablePointer<DecodedPacket>, PreparedFlowKey?) {
        if item.isDecoded { return (item.decoded, item.key.pointee) }
        decode(item.packet, link: link, into: scratch)
        return (scratch, flows.prepare(scratch))
    }

    /// Every stage after decoding, for a packet decoded from `bytes` into `p`
    /// whose flow key ``FlowTable/prepare(_:)`` gave (nil: it belongs to no flow).
    @inline(__always)
    func processDecoded(_ p: UnsafeMutablePointer<DecodedPacket>, bytes: UnsafeRawBufferPointer, key: PreparedFlowKey?) {
        count(p)
        advanceClock(p.pointee.timestamp)
        processFlow(p, bytes: bytes, key: key)
        if let moment = evidenceMoment { moment.pointee.bytes = nil }
    }

    /// A worker's part of a packet (``ShardedAnalysis``): time passes for
    /// every packet of the capture (flows expire exactly when one pipeline's
    /// would); the packet itself is processed by the worker that `owns` it.
    @inline(__always)
    func processShare(_ p: UnsafeMutablePointer<DecodedPacket>, bytes: UnsafeRawBufferPointer, key: PreparedFlowKey?, owns: Bool, position: Int) {
        sequence = 2 &* position
        advanceClock(p.pointee.timestamp)
        guard owns else { return }
        sequence = 2 &* position &+ 1
        count(p)
        processFlow(p, bytes: bytes, key: key)
    }

    /// The packet and link counters.
    @inline(__always)
    private func count(_ p: UnsafeMutablePointer<DecodedPacket>) {
        statistics.packets &+= 1
        statistics.bytes &+= UInt64(p.pointee.wireLength)
        linkVLANFrames[Int(p.pointee.vlans.innermostID ?? 0)] &+= 1
        if let anomaly = p.pointee.anomaly { statistics.count(anomaly) }
    }

    /// The capture's clock: idle flows expire once a second of capture time.
    @inline(__always)
    private func advanceClock(_ now: UInt64) {
        linkLastTimestamp = now
        if _slowPath(linkFirstTimestamp == 0) {
            linkFirstTimestamp = now
            if firstTimestamp == 0 { firstTimestamp = now }
        }
        // Flows expire by the earlier of this packet's time and the one
        // before: one packet stamped days ahead (a capturing host's clock
        // glitch, a merged file) must not end every open session, while a
        // real jump (a pause in the capture) is confirmed by the next packet.
        // Time going backwards expires nothing.
        let clock = min(now, previousTimestamp)
        previousTimestamp = now
        if clock &- lastExpiryCheck >= Pipeline.expiryInterval && clock > lastExpiryCheck {
            lastExpiryCheck = clock
            expire(now: clock)
        }
    }

    /// The timestamp of the packet before (``advanceClock(_:)``).
    private var previousTimestamp: UInt64 = 0

    /// Flows, classification, inspection and the rules for one packet.
    @inline(__always)
    private func processFlow(_ p: UnsafeMutablePointer<DecodedPacket>, bytes: UnsafeRawBufferPointer, key: PreparedFlowKey?) {
        // Flows.
        guard let key else {
            statistics.packetsWithoutFlow &+= 1
            if let moment = evidenceMoment {
                let ids = moment.pointee.flowIDs
                moment.pointee = EvidenceMoment()
                moment.pointee.flowIDs = ids
                moment.pointee.packet = UnsafePointer(p)
                moment.pointee.bytes = bytes
            }
            detector.packetWithoutFlow(p)
            deliver()
            return
        }
        let update = flows.track(p, key)
        let record = flows.record(update.index)
        if let moment = evidenceMoment {
            moment.pointee.index = update.index
            moment.pointee.packet = UnsafePointer(p)
            moment.pointee.bytes = bytes
            moment.pointee.fromInitiator = update.fromInitiator
            moment.pointee.flow = record
            moment.pointee.stored = false
            moment.pointee.appended = false
            if _slowPath(EvidenceRecorder.wants(record)) { evidence.unsafelyUnwrapped.record() }
        }
        // A flow not classified yet: a new one, or one a new configuration re-judges.
        let unjudged = record.pointee.state & FlowState.classified == 0
        if _slowPath(unjudged || update.isFirstReply) {
            let id = flows.id(update.index)
            if unjudged {
                // A data connection a session announced (one pipeline; workers tie it at its first finding).
                if _slowPath(update.isNew && shardOutput == nil && alerts.dataChannels.isExpecting) && !record.pointee.key.isEthernet
                    && record.pointee.key.protocolNumber == UInt16(IPProtocol.tcp.rawValue) {
                    alerts.dataChannels.flowStarted(id: id, initiator: record.pointee.initiatorAddress, responder: record.pointee.responderAddress,
                                                    port: record.pointee.responderPort, at: p.pointee.timestamp)
                }
                // Classify, then the flow-start rules.
                classifier.classify(record, packet: p)
                detector.flowStarted(record, id: id, packet: p)
            }
            if update.isFirstReply { detector.firstReply(record, id: id, packet: p) }
            deliver()
        }
        // Inspect, then the rules on what the inspectors report.
        if p.pointee.payloadLength > 0 && FlowState.needsInspection(record.pointee.state, fromInitiator: update.fromInitiator) {
            inspect(record, index: update.index, packet: p, bytes: bytes, fromInitiator: update.fromInitiator)
        }
    }

    private func inspect(_ record: UnsafeMutablePointer<FlowRecord>, index: Int32, packet p: UnsafeMutablePointer<DecodedPacket>,
                         bytes: UnsafeRawBufferPointer, fromInitiator: Bool) {
        guard inspects else {
            record.pointee.state |= FlowState.inspectionDone
            return
        }
        let wasInspecting = record.pointee.state & FlowState.inspecting != 0
        inspection.inspect(flows: flows, index: index, packet: p, bytes: bytes, fromClient: fromInitiator)
        if !wasInspecting && record.pointee.state & FlowState.inspecting != 0, let evidence { evidence.recognised() }
        if _slowPath(!inspection.output.dataChannels.isEmpty) { announce(inspection.output.dataChannels, by: record.pointee, at: p.pointee.timestamp) }
        if let evidence, !inspection.output.secrets.isEmpty || !inspection.output.events.isEmpty {
            evidence.noteInspection(index: index, inspection.output)
        }
        guard !inspection.output.events.isEmpty else { return }
        detector.applicationEvents(inspection.output.events, flow: record, id: flows.id(index), packet: p)
        deliver()
    }

    /// A control session (FTP) announced data connections: the alert stage
    /// (through the merging thread with several workers) ties them to it.
    private func announce(_ channels: [DataChannel], by control: FlowRecord, at now: UInt64) {
        let session = "tcp/\(control.responderPort)"
        for c in channels {
            // Passive: the client connects to the server; active: the server connects to the client.
            let e = c.toServer
                ? DataChannels.Expected(initiator: control.initiatorAddress, responder: c.address ?? control.responderAddress, port: c.port,
                                        session: session, kind: "ftp-data", announced: now)
                : DataChannels.Expected(initiator: control.responderAddress, responder: c.address ?? control.initiatorAddress, port: c.port,
                                        session: session, kind: "ftp-data", announced: now)
            if let shardOutput { shardOutput.append(sequence, channel: e) } else { alerts.dataChannels.expect(e) }
        }
    }

    /// A flow leaves the table: its inspector reports what is pending, with the
    /// packet context of the flow's first inspected packet.
    private func flowEnded(flows: FlowTable, index: Int32) {
        // Only flows whose record says an inspection holds state: ending a flow costs nothing otherwise.
        guard flows.record(index).pointee.state & FlowState.inspecting != 0, inspection.isInspecting(index) else { return }
        guard var context = inspection.flowEnded(index), !inspection.output.events.isEmpty else { return }
        if let evidence {
            evidence.noteInspection(index: index, inspection.output)
            // Its alerts may want the flow's evidence after it has left the table.
            evidence.flowEnding(index: index, id: flows.id(index))
        }
        let record = flows.record(index)
        context.timestamp = record.pointee.lastSeen
        withUnsafePointer(to: &context) { packet in
            detector.applicationEvents(inspection.output.events, flow: record, id: flows.id(index), packet: packet)
        }
        deliver()
    }

    /// Alert: the detections of the moment go to the alert stage.
    @inline(__always)
    private func deliver() {
        if _slowPath(batching) { return }
        if let shardOutput {
            guard !detector.detections.isEmpty || !detector.deferred.isEmpty else { return }
            shardOutput.append(sequence, detector.detections, detector.deferred)
            detector.clearDetections()
            detector.clearDeferred()
            return
        }
        guard !detector.detections.isEmpty else { return }
        alerts.take(detector.detections, zones: zones)
        detector.clearDetections()
    }

    /// The packet last processed, decoded: valid until the next one (`learn` reads it).
    public var currentPacket: UnsafePointer<DecodedPacket> { UnsafePointer(packet) }

    /// The link's frames per VLAN id so far (summed over workers for rule 5003).
    var linkFrames: UnsafeBufferPointer<UInt64> { UnsafeBufferPointer(start: linkVLANFrames, count: 4096) }

    /// A new configuration (SIGUSR2) for the flows in the table: they go on,
    /// with their inspections, and each is classified and judged by the new
    /// zones and rules at its next packet (a rule that has fired on a flow
    /// does not fire on it again). Returns false, changing nothing, when the
    /// new configuration needs new tables (`max_flows` or `stream_window`
    /// changed): the caller starts a new pipeline.
    public func reconfigure(_ newZones: ZoneMap, endpointMemory: EndpointMemory?) throws(ConfigErrors) -> Bool {
        let old = zones.config.sensor, new = newZones.config.sensor
        guard old.maxFlows == new.maxFlows && old.streamWindow == new.streamWindow else { return false }
        let newDetector = try Detector(zones: newZones, endpointMemory: endpointMemory, selection: selection)
        // Fired rules by sid: the new rule set numbers its rules afresh.
        var bits = [UInt64](repeating: 0, count: detector.enabledRules.count)
        let newIndex = Dictionary(uniqueKeysWithValues: newDetector.enabledRules.enumerated().map { ($1.0.sid, $0) })
        for (i, (rule, _)) in detector.enabledRules.enumerated() { bits[i] = newIndex[rule.sid].map { UInt64(1) << UInt64($0) } ?? 0 }
        flows.forEachRecord { r in
            var fired: UInt64 = 0
            var old = r.pointee.firedRules
            while old != 0 {
                let i = old.trailingZeroBitCount
                fired |= bits[i]
                old &= old - 1
            }
            r.pointee.firedRules = fired
            r.pointee.state &= ~(FlowState.classified | FlowState.managementService)
        }
        zones = newZones
        flowNames = nil  // records handed on from now refer to the new zones
        classifier = FlowClassifier(zones: newZones)
        detector = newDetector
        inspects = newDetector.inspectsApplications
        flows.timeouts = new.flowTimeouts
        return true
    }

    /// The bounded tables that have run full, each said once by the caller:
    /// (a stable name, one line saying what it means).
    public var tableWarnings: [(name: String, text: String)] {
        Self.tableWarnings(flows: flows.statistics, table: "the flow table was full (sensor.max_flows \(flows.capacity))",
                           macs: detector.macTableEvictions, zones: zones, throttle: alerts.throttle)
    }

    /// The warnings of ``tableWarnings`` from the tables' counters (one pipeline's or several workers').
    static func tableWarnings(flows f: FlowTableStatistics, table: String, macs: UInt64, zones: ZoneMap,
                              throttle: AlertThrottle) -> [(name: String, text: String)] {
        var warnings: [(String, String)] = []
        if f.evicted > 0 {
            warnings.append(("flows", "\(table): \(f.evicted) flows evicted, flows without inspection state and nearest their timeout first"
                             + (f.evictedInspected > 0 ? "; \(f.evictedInspected) of them while an inspector followed them (flow.evicted_inspected)" : "")))
        }
        if macs > 0 {
            warnings.append(("macs", "rule 6001's MAC table was full (sensor.max_macs \(zones.config.sensor.maxMACs)): \(macs) MACs forgotten, the least recently seen first"))
        }
        if throttle.evictions > 0 {
            warnings.append(("throttle", "the alert throttle was full (\(throttle.maxEntries) keys): \(throttle.evictions) keys forgotten before their window passed; their repeats are written again"))
        }
        return warnings
    }

    /// End of input: inspectors report what is pending, and the sinks are flushed.
    /// - Parameter flushOutputs: wait for the outputs to deliver (offline); the
    ///   live sensor stops its outputs itself and must not block its capture.
    public func finish(flushOutputs: Bool = true) {
        endLink()
        batching = true
        for index in inspection.inspectedIndexes { flowEnded(flows: flows, index: index) }
        batching = false
        detector.sortDetections()
        deliver()
        evidence?.flushAll()
        if flushOutputs { alerts.flush() }
    }
}

extension Pipeline {
    /// Ends every flow in the table (the end of the input, a stop, a reload):
    /// each is reported as it leaves (``onFlowEnd``, the flow log) with `reason`.
    public func endAllFlows(_ reason: FlowEndRecord.Reason) {
        endingReason = reason
        sweepingFlows = true
        flows.removeAll()
        sweepingFlows = false
        endingReason = nil
        handOnFlowRecords()
        evidence?.flushEnded()
    }

    /// Keeps the packets behind this pipeline's alerts in `directory` (`--evidence`).
    public func attachEvidence(_ directory: EvidenceDirectory, packetsPerFlow: Int, memoryBytes: Int) {
        evidence?.flushAll()
        let recorder = EvidenceRecorder(directory: directory, capacity: flows.capacity, packetsPerFlow: packetsPerFlow, memoryBytes: memoryBytes)
        evidence = recorder
        alerts.evidence = recorder
    }

    /// Hands the records of the flows that have ended to the flow log.
    func handOnFlowRecords() {
        guard !flowRecords.isEmpty else { return }
        flowLog?.write(contentsOf: flowRecords, names: currentFlowNames())
        flowRecords.removeAll(keepingCapacity: true)
    }

    /// The names of the zones and the interface, as the flow log's records refer to them.
    func currentFlowNames() -> FlowNames {
        if let names = flowNames, names.interfaceName == alerts.interfaceName { return names }
        let names = FlowNames(zones: zones, interface: alerts.interfaceName, appProtocols: InspectorRegistry.protocolNames)
        flowNames = names
        return names
    }

    /// A flow log's record of a flow leaving the table.
    func flowEndRecord(_ r: FlowRecord, index: Int32, reason: FlowEndRecord.Reason) -> FlowEndRecord {
        let key = r.key
        let isEthernet = key.isEthernet
        let ipProtocol = IPProtocol(rawValue: UInt8(truncatingIfNeeded: key.protocolNumber))
        let hasPorts = !isEthernet && ipProtocol.hasPorts
        let source: Endpoint = isEthernet ? .mac(MACAddress(rawValue: r.initiatorAddress.low)) : .ip(r.initiatorAddress)
        let destination: Endpoint = isEthernet ? .mac(MACAddress(rawValue: r.responderAddress.low)) : .ip(r.responderAddress)
        var vlans = InlineArray<5, UInt16>(repeating: 0)
        let vlanCount = min(Int(key.vlanKey >> 60), 5)
        for i in 0..<vlanCount { vlans[i] = UInt16(truncatingIfNeeded: key.vlanKey >> UInt64(12 * i)) & 0x0FFF }
        let segment = key.segment
        let state: FlowEndRecord.State
        if ipProtocol == .tcp && !isEthernet && r.state & (FlowState.finSeen | FlowState.rstSeen) != 0 {
            state = .closed
        } else {
            state = r.state & FlowState.replySeen != 0 ? .established : .new
        }
        var record = FlowEndRecord(
            flowID: flows.id(index), start: flows.firstSeen(index), end: r.lastSeen, source: source, destination: destination,
            sourcePort: hasPorts ? r.initiatorPort : nil, destinationPort: hasPorts ? r.responderPort : nil,
            protocolNumber: key.protocolNumber, isEthernet: isEthernet, appProtocol: r.appProtocol,
            vlans: vlans, vlanCount: vlanCount, vni: segment.hasVNI ? segment.vni : nil,
            packetsToServer: r.packetsFromInitiator, packetsToClient: r.packetsFromResponder,
            bytesToServer: r.bytesFromInitiator, bytesToClient: r.bytesFromResponder,
            state: state, reason: reason, alerted: r.firedRules != 0,
            sourceZone: r.sourceZone, destinationZone: r.destinationZone, segmentZone: r.segmentZone)
        if !isEthernet && (ipProtocol == .icmp || ipProtocol == .icmpv6) {
            // The key holds the first message's type and, mapped as Community ID maps it, the reply's type or the code.
            let type = UInt8(truncatingIfNeeded: r.initiatorPort)
            let mapped = ICMPPorts.map(type: type, code: 0, v6: ipProtocol == .icmpv6)
            record.icmpType = type
            if mapped.oneWay { record.icmpCode = UInt8(truncatingIfNeeded: r.responderPort) }
            else if r.packetsFromResponder > 0 { record.responseICMPType = UInt8(truncatingIfNeeded: mapped.destination) }
        }
        return record
    }
}

/// Counters of a pipeline.
public struct SensorStatistics: Sendable {
    public var packets: UInt64 = 0
    public var bytes: UInt64 = 0
    /// Packets that belong to no flow (ARP, later fragments, undecodable).
    public var packetsWithoutFlow: UInt64 = 0
    /// Packets with a decode anomaly, by ``DecodeAnomaly`` raw value.
    public var anomalies = [UInt64](repeating: 0, count: DecodeAnomaly.counterSlots)

    @inline(__always)
    mutating func count(_ a: DecodeAnomaly) { anomalies[Int(a.rawValue)] &+= 1 }

    /// Packets with a decode anomaly.
    public var decodeErrors: UInt64 { anomalies.reduce(0, +) }

    /// Non-zero anomaly counts by stable name.
    public var anomalyCounts: [(name: String, count: UInt64)] {
        DecodeAnomaly.allCases.compactMap { a in
            let n = anomalies[Int(a.rawValue)]
            return n > 0 ? (a.name, n) : nil
        }
    }

    /// Decode errors per layer (`ipv4`, `tcp`, ...).
    public var decodeErrorsByLayer: [(layer: String, count: UInt64)] {
        var byLayer: [String: UInt64] = [:]
        for (name, count) in anomalyCounts { byLayer[String(name.split(separator: ".")[1]), default: 0] += count }
        return byLayer.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}

extension LinkLayer {
    /// The decoder's view of a libpcap link type; nil for unsupported ones.
    public init?(_ linkType: LinkType) { self.init(linkType: linkType.rawValue) }

    /// Why a capture with this link type cannot be read, for its one-line error.
    static func unsupportedMessage(_ linkType: LinkType) -> String {
        "unsupported link type \(linkType); supported: \(LinkLayer.supportedNames.joined(separator: ", "))"
    }
}

extension PacketDecoder {
    /// Decodes a captured packet into `p` (reset first).
    @inline(__always)
    func decode(_ captured: CapturedPacket, link: LinkLayer, into p: UnsafeMutablePointer<DecodedPacket>) {
        p.pointee.reset(timestamp: captured.timestamp, capturedLength: captured.capturedLength, wireLength: captured.wireLength)
        decode(ByteView(captured.bytes), link: link, into: &p.pointee)
    }
}
