import Decode
import Flows
import Inspect
import Vocabulary
import Zones

/// The detect stage: runs the enabled rules at their moments (a flow starts
/// or first answers, a segment or a flow-less packet is seen, an inspector
/// reports, a link ends) and turns what they find into ``Detection`` values
/// for the alert stage. Each rule fires at most once per flow at the flow
/// moments; application events may fire a rule again (two logins are two
/// findings) unless the rule asks for once per flow.
///
/// It knows nothing of throttling, formats or sinks: the caller takes
/// ``detections`` after each call and hands them on.
///
/// Not thread-safe: one detector per pipeline.
public final class Detector {
    public let zones: ZoneMap
    /// What the rules found since ``clearDetections()``.
    public private(set) var detections: [Detection] = []

    let rules: [any Rule]
    /// The rules that run, in order.
    public let metadata: [RuleMetadata]
    let severities: [Severity]
    private let flowStartRules: [Int]
    private let firstReplyRules: [Int]
    private let segmentRules: [Int]
    private let appEventRules: [Int]
    private let nonFlowRules: [Int]
    private let linkEndRules: [Int]
    private let oncePerFlow: [Bool]
    private var findings: [Finding] = []
    /// The index of the rule of each finding in `findings`.
    private var findingRules: [Int] = []
    /// Segments already seen, one bit per VLAN id and per VNI (a segment with a
    /// VLAN counts by its VLAN, one without by its VNI): the common case costs a
    /// bit test, and no number of VNIs is too many to remember (the VNI bits,
    /// 2 MiB, are made when the first VNI comes).
    private var seenVLANs = [UInt64](repeating: 0, count: 64)
    private var seenVNIs: [UInt64] = []

    /// Rules that can be tracked per flow: one bit each in ``Flows/FlowRecord/firedRules``.
    public static let maximumRules = FlowRecord.firedRuleCapacity

    /// Which of the enabled rules a detector runs. With several workers
    /// (``Sensor/ShardedAnalysis``) each worker's detector runs the rules
    /// whose memory is one flow's (`.perFlow`) and hands the moments of the
    /// others on as ``DeferredMoment`` values; one detector on the merging
    /// thread runs those (`.spanningFlows`) in capture order, so that a
    /// segment is new once, a MAC's zones are all remembered together and a
    /// link is judged as a whole, whichever worker saw the packet.
    public enum RuleSelection: Sendable {
        case all
        case perFlow
        case spanningFlows
    }

    /// The moments, in this worker, of rules that run elsewhere (`.perFlow` only).
    public private(set) var deferred: [DeferredMoment] = []
    private let selection: RuleSelection
    /// `.perFlow`: which moments rules spanning flows listen to.
    private let deferFlowStart: Bool
    private let deferFirstReply: Bool
    private let deferWithoutFlow: Bool
    private let deferSegments: Bool
    /// `.spanningFlows`: the rules fired per flow (by flow id), for rules that
    /// fire once per flow. A flow's moments are its start and first reply, so
    /// an entry is needed only briefly: kept in two generations of at most
    /// ``firedGeneration`` entries, the older dropped when the newer fills
    /// (a live sensor's memory stays bounded).
    private var firedByFlow: [UInt64: UInt64] = [:]
    private var firedByFlowBefore: [UInt64: UInt64] = [:]
    static let firedGeneration = 65_536

    /// The enabled rules with their effective severities.
    public var enabledRules: [(RuleMetadata, Severity)] { Array(zip(metadata, severities)) }

    /// Builds the rule set for a configuration, applying its `rules:` overrides.
    ///
    /// - Throws: ``ConfigErrors`` for overrides that name no rule.
    /// - Parameter endpointMemory: the live sensor's infrastructure endpoints (rule 7002 is silent without it).
    /// - Parameter selection: which of the enabled rules this detector runs (all but with workers).
    public init(zones: ZoneMap, endpointMemory: EndpointMemory? = nil, selection: RuleSelection = .all) throws(ConfigErrors) {
        precondition(RuleRegistry.all.count <= Self.maximumRules, "more rules than FlowRecord.firedRules has bits")
        self.zones = zones
        let config = zones.config
        var errors: [ConfigError] = []
        var enabled: [String: Bool] = [:]
        var severity: [String: Severity] = [:]
        for o in config.ruleOverrides {
            guard let rule = RuleRegistry.find(o.key) else {
                let names = RuleRegistry.all.map { $0.metadata.name }
                errors.append(ConfigError(file: config.file, at: o.position,
                                          "unknown rule \"\(o.key)\" in rules:\(Detector.suggestion(o.key, names))"))
                continue
            }
            if let e = o.enabled { enabled[rule.metadata.name] = e }
            if let s = o.severity { severity[rule.metadata.name] = s }
        }
        if !errors.isEmpty { throw ConfigErrors(errors) }
        let enabledRules = RuleRegistry.all.filter { enabled[$0.metadata.name] ?? true }
        let spanning = enabledRules.filter { $0.hooks.spansFlows }
        self.selection = selection
        let active: [any Rule.Type]
        switch selection {
        case .all: active = enabledRules
        case .perFlow: active = enabledRules.filter { !$0.hooks.spansFlows }
        case .spanningFlows: active = spanning
        }
        let deferring = selection == .perFlow
        deferFlowStart = deferring && spanning.contains { $0.hooks.contains(.flowStart) }
        deferFirstReply = deferring && spanning.contains { $0.hooks.contains(.firstReply) }
        deferWithoutFlow = deferring && spanning.contains { $0.hooks.contains(.packetWithoutFlow) }
        deferSegments = deferring && spanning.contains { $0.hooks.contains(.newSegment) }
        let bits = Dictionary(uniqueKeysWithValues: active.enumerated().map { ($1.metadata.sid, UInt64(1) << UInt64($0)) })
        let setup = RuleSetup(zones: zones, enabledSIDs: Set(active.map { $0.metadata.sid }), bitsBySID: bits, endpointMemory: endpointMemory)
        rules = active.map { $0.init(setup) }
        metadata = active.map { $0.metadata }
        severities = active.map { severity[$0.metadata.name] ?? $0.metadata.defaultSeverity }
        flowStartRules = active.indices.filter { active[$0].hooks.contains(.flowStart) }
        firstReplyRules = active.indices.filter { active[$0].hooks.contains(.firstReply) }
        segmentRules = active.indices.filter { active[$0].hooks.contains(.newSegment) }
        appEventRules = active.indices.filter { active[$0].hooks.contains(.appEvent) }
        nonFlowRules = active.indices.filter { active[$0].hooks.contains(.packetWithoutFlow) }
        linkEndRules = active.indices.filter { active[$0].hooks.contains(.linkEnd) }
        oncePerFlow = active.map { $0.hooks.contains(.oncePerFlow) }
        findings.reserveCapacity(8)
        findingRules.reserveCapacity(8)
        detections.reserveCapacity(8)
    }

    static func suggestion(_ key: String, _ names: [String]) -> String {
        Spelling.suggestion(key, names, fallback: " (zonewarden rules lists them)")
    }

    /// Whether any enabled rule listens to application events (else nothing needs inspecting).
    public var inspectsApplications: Bool { !appEventRules.isEmpty }

    /// MACs rule 6001 forgot because its table (`sensor.max_macs`) was full.
    public var macTableEvictions: UInt64 {
        rules.lazy.compactMap { ($0 as? MultiHomedHostRule)?.table.evictions }.first ?? 0
    }

    /// Empties ``detections`` (the caller has handed them on).
    @inline(__always)
    public func clearDetections() { detections.removeAll(keepingCapacity: true) }
    /// Drops the detections for which `shouldBeRemoved` holds (not on the packet path).
    public func removeDetections(where shouldBeRemoved: (Detection) -> Bool) { detections.removeAll(where: shouldBeRemoved) }

    /// Puts ``detections`` in ``Detection/precedes(_:_:)`` order (kept for equals).
    public func sortDetections() {
        guard detections.count > 1 else { return }
        detections = detections.enumerated().sorted {
            Detection.precedes($0.element, $1.element) || (!Detection.precedes($1.element, $0.element) && $0.offset < $1.offset)
        }.map(\.element)
    }

    /// Empties ``deferred`` (the caller has handed them on).
    public func clearDeferred() { deferred.removeAll(keepingCapacity: true) }

    // MARK: Moments

    /// A new flow (already classified): the new-segment check and the flow-start rules.
    public func flowStarted(_ flow: UnsafeMutablePointer<FlowRecord>, id: UInt64, packet: UnsafePointer<DecodedPacket>) {
        if _slowPath(deferFlowStart || deferSegments) { deferMoment(.flowStart, deferFlowStart, flow, id, packet) }
        checkSegment(packet: packet)
        guard !flowStartRules.isEmpty else { return }
        runOnce(flowStartRules, flow, FlowEvent(zones: zones, flow: flow, packet: packet, flowID: id)) { $0.flowStarted($1, &$2) }
    }

    /// The responder's first packet: the first-reply rules.
    public func firstReply(_ flow: UnsafeMutablePointer<FlowRecord>, id: UInt64, packet: UnsafePointer<DecodedPacket>) {
        if _slowPath(deferFirstReply) { deferMoment(.firstReply, true, flow, id, packet) }
        guard !firstReplyRules.isEmpty else { return }
        runOnce(firstReplyRules, flow, FlowEvent(zones: zones, flow: flow, packet: packet, flowID: id)) { $0.firstReply($1, &$2) }
    }

    /// A packet that belongs to no flow (ARP, ...): the new-segment check and the flow-less rules.
    public func packetWithoutFlow(_ packet: UnsafePointer<DecodedPacket>) {
        guard packet.pointee.hasMACs || packet.pointee.isIP else { return }
        if _slowPath(deferWithoutFlow || deferSegments) { deferMoment(.packetWithoutFlow, deferWithoutFlow, nil, 0, packet) }
        checkSegment(packet: packet)
        guard !nonFlowRules.isEmpty else { return }
        let event = PacketEvent(zones: zones, packet: packet)
        gather(nonFlowRules) { $0.packetWithoutFlow(event, &$1) }
        if !findings.isEmpty { emit(packetSubject(packet.pointee)) }
    }

    /// The end of a capture link: the rules that judge a whole link.
    /// `vlanFrames` counts the link's frames per VLAN id; `timestamp` is its last packet's.
    public func linkEnded(name: String, vlanFrames: UnsafeBufferPointer<UInt64>, timestamp: UInt64) {
        guard !linkEndRules.isEmpty else { return }
        let event = LinkEvent(zones: zones, name: name, vlanFrames: vlanFrames)
        gather(linkEndRules) { $0.linkEnded(event, &$1) }
        guard !findings.isEmpty else { return }
        var subject = DetectionSubject()
        subject.timestamp = timestamp
        emit(subject)
    }

    /// What an inspector reported on a flow: the application-event rules, for each event.
    public func applicationEvents(_ events: [AppEvent], flow: UnsafeMutablePointer<FlowRecord>, id: UInt64, packet: UnsafePointer<DecodedPacket>) {
        guard !appEventRules.isEmpty, !events.isEmpty else { return }
        let event = FlowEvent(zones: zones, flow: flow, packet: packet, flowID: id)
        for app in events {
            findings.removeAll(keepingCapacity: true)
            findingRules.removeAll(keepingCapacity: true)
            for i in appEventRules {
                let bit = UInt64(1) << UInt64(i)
                if oncePerFlow[i] && flow.pointee.firedRules & bit != 0 { continue }
                let before = findings.count
                rules[i].appEvent(event, app, &findings)
                if findings.count > before {
                    if oncePerFlow[i] { flow.pointee.firedRules |= bit }
                    for _ in before..<findings.count { findingRules.append(i) }
                }
            }
            if !findings.isEmpty { emit(flowSubject(event)) }
        }
    }

    // MARK: Running rules

    /// Runs rules that fire at most once per flow; later rules see the fired bits of earlier ones.
    private func runOnce(_ indexes: [Int], _ flow: UnsafeMutablePointer<FlowRecord>, _ event: FlowEvent,
                         _ call: (any Rule, FlowEvent, inout [Finding]) -> Void) {
        // Nearly every flow finds nothing: emptying empty arrays is not free.
        if !findings.isEmpty {
            findings.removeAll(keepingCapacity: true)
            findingRules.removeAll(keepingCapacity: true)
        }
        for i in indexes {
            let bit = UInt64(1) << UInt64(i)
            if flow.pointee.firedRules & bit != 0 { continue }
            let before = findings.count
            call(rules[i], event, &findings)
            if findings.count > before {
                flow.pointee.firedRules |= bit
                for _ in before..<findings.count { findingRules.append(i) }
            }
        }
        if !findings.isEmpty { emit(flowSubject(event)) }
    }

    /// Gathers the findings of the rules at `indexes` for a moment that is no flow's.
    private func gather(_ indexes: [Int], _ call: (any Rule, inout [Finding]) -> Void) {
        findings.removeAll(keepingCapacity: true)
        findingRules.removeAll(keepingCapacity: true)
        for i in indexes {
            let before = findings.count
            call(rules[i], &findings)
            for _ in before..<findings.count { findingRules.append(i) }
        }
    }

    /// Turns the gathered findings into detections about `subject`.
    private func emit(_ subject: DetectionSubject) {
        for (f, i) in zip(findings, findingRules) {
            let base = severities[i]
            let severity = f.severity ?? (f.lowerSeverity ? base.lowered : base)
            detections.append(Detection(rule: metadata[i], severity: severity, finding: f, subject: subject))
        }
    }

    private func checkSegment(packet: UnsafePointer<DecodedPacket>) {
        guard !segmentRules.isEmpty else { return }
        forEachNewSegment(packet) { segmentSeen($0, packet: packet) }
    }

    /// Calls `body` with each segment `packet` shows here for the first time
    /// (and remembers it): its own, and the VLAN a tunnelled packet's outer
    /// frame travels on (an overlay's underlay, undeclared or not).
    @inline(__always)
    private func forEachNewSegment(_ packet: UnsafePointer<DecodedPacket>, _ body: (Segment) -> Void) {
        let own = packet.pointee.segment
        if firstSighting(own) { body(own) }
        if let vlan = Self.underlayVLAN(packet), firstSighting(Segment(vlan: vlan)) { body(Segment(vlan: vlan)) }
    }

    private func segmentSeen(_ segment: Segment, packet: UnsafePointer<DecodedPacket>) {
        let event = SegmentEvent(zones: zones, segment: segment, packet: packet)
        gather(segmentRules) { $0.segmentSeen(event, &$1) }
        if !findings.isEmpty { emit(packetSubject(packet.pointee)) }
    }

    /// The VLAN of a tunnelled packet's outer frame when it is not the packet's own segment: an
    /// overlay's underlay (a mirror's transport, ERSPAN, is the mirror's business, not a segment).
    @inline(__always)
    static func underlayVLAN(_ packet: UnsafePointer<DecodedPacket>) -> UInt16? {
        guard let tunnel = packet.pointee.tunnels.innermost, !tunnel.kind.isMirror,
              let vlan = packet.pointee.vlans.innermostID, vlan != 0 else { return nil }
        return vlan
    }

    /// Whether `segment` (a VLAN or a VNI) is seen here for the first time; remembers it.
    private func firstSighting(_ segment: Segment) -> Bool {
        guard segment.vlan != 0 || segment.hasVNI else { return false }
        if segment.vlan != 0 {
            let word = Int(segment.vlan >> 6), bit = UInt64(1) << UInt64(segment.vlan & 63)
            guard seenVLANs[word] & bit == 0 else { return false }
            seenVLANs[word] |= bit
        } else {
            if _slowPath(seenVNIs.isEmpty) { seenVNIs = [UInt64](repeating: 0, count: (1 << 24) / 64) }
            let vni = Int(segment.vni & 0xFF_FFFF)
            let word = vni >> 6, bit = UInt64(1) << UInt64(vni & 63)
            guard seenVNIs[word] & bit == 0 else { return false }
            seenVNIs[word] |= bit
        }
        return true
    }

    // MARK: Workers

    /// `.perFlow`: keeps a copy of a moment for the rules spanning flows,
    /// when they listen to it (`listening`) or it shows this worker a segment
    /// for the first time (the merging detector decides whether it is new to all).
    private func deferMoment(_ kind: DeferredMoment.Kind, _ listening: Bool, _ flow: UnsafeMutablePointer<FlowRecord>?,
                             _ id: UInt64, _ packet: UnsafePointer<DecodedPacket>) {
        var newHere = false
        if deferSegments { forEachNewSegment(packet) { _ in newHere = true } }
        guard listening || newHere else { return }
        deferred.append(DeferredMoment(kind: kind, packet: packet.pointee, flow: flow?.pointee, flowID: id))
    }

    /// `.spanningFlows`: runs the rules of a moment a worker deferred, as the
    /// worker would have (a rule that fired on a flow does not fire on it again).
    public func replay(_ moment: DeferredMoment) {
        var packet = moment.packet
        withUnsafePointer(to: &packet) { p in
            guard var flow = moment.flow else {
                packetWithoutFlow(p)
                return
            }
            let before = firedByFlow[moment.flowID] ?? firedByFlowBefore[moment.flowID] ?? 0
            flow.firedRules = before
            withUnsafeMutablePointer(to: &flow) { f in
                if moment.kind == .flowStart { flowStarted(f, id: moment.flowID, packet: p) } else { firstReply(f, id: moment.flowID, packet: p) }
            }
            if flow.firedRules != before { remember(flow.firedRules, of: moment.flowID) }
        }
    }

    private func remember(_ fired: UInt64, of flowID: UInt64) {
        if firedByFlow.count >= Self.firedGeneration && firedByFlow[flowID] == nil {
            firedByFlowBefore = firedByFlow
            firedByFlow.removeAll(keepingCapacity: true)
        }
        firedByFlow[flowID] = fired
    }

    /// `.spanningFlows`, a live reload: the rules `old` fired per flow, for
    /// this detector's rules (numbered afresh), so that a flow going on is not reported again.
    public func inheritFiredRules(from old: Detector) {
        let newIndex = Dictionary(uniqueKeysWithValues: enabledRules.enumerated().map { ($1.0.sid, $0) })
        let bits = old.enabledRules.map { rule, _ in newIndex[rule.sid].map { UInt64(1) << UInt64($0) } ?? 0 }
        func remap(_ fired: UInt64) -> UInt64 {
            var result: UInt64 = 0, rest = fired
            while rest != 0 {
                result |= bits[rest.trailingZeroBitCount]
                rest &= rest - 1
            }
            return result
        }
        firedByFlowBefore = old.firedByFlowBefore.compactMapValues { let r = remap($0); return r == 0 ? nil : r }
        firedByFlow = old.firedByFlow.compactMapValues { let r = remap($0); return r == 0 ? nil : r }
    }

    // MARK: Subjects

    /// A flow's endpoints, zones, tags and tunnels.
    private func flowSubject(_ e: FlowEvent) -> DetectionSubject {
        let r = e.flow.pointee
        let p = e.packet.pointee
        var s = DetectionSubject()
        s.timestamp = p.timestamp
        s.flowID = e.flowID
        s.appProtocol = e.appProtocol
        s.vlans = p.reportedVLANs
        s.tunnels = p.tunnels
        if r.key.isEthernet {
            s.sourceMAC = MACAddress(rawValue: r.initiatorAddress.low)
            s.destinationMAC = MACAddress(rawValue: r.responderAddress.low)
            s.etherType = r.key.protocolNumber
        } else {
            s.ipProtocol = e.ipProtocol
            s.sourceIP = r.initiatorAddress
            s.destinationIP = r.responderAddress
            s.sourcePort = r.initiatorPort
            s.destinationPort = r.responderPort
            setICMP(&s, p)
            // The MACs of the frame that holds the packet (not a tunnel's): the inventory names
            // VMs libvirt knows by MAC alone, and exceptions may name a MAC.
            if p.macsFrameInnermostPacket {
                let forward = p.source == r.initiatorAddress
                s.sourceMAC = forward ? p.sourceMAC : p.destinationMAC
                s.destinationMAC = forward ? p.destinationMAC : p.sourceMAC
            }
        }
        s.sourceZone = r.sourceZone
        s.destinationZone = r.destinationZone
        s.segmentZone = r.segmentZone
        return s
    }

    /// A packet's endpoints (outside flows), with their zones looked up now.
    private func packetSubject(_ p: DecodedPacket) -> DetectionSubject {
        var s = DetectionSubject()
        s.timestamp = p.timestamp
        s.vlans = p.reportedVLANs
        s.tunnels = p.tunnels
        if p.isIP {
            s.sourceIP = p.source
            s.destinationIP = p.destination
            s.ipProtocol = p.ipProtocol
            if p.hasTransport {
                s.sourcePort = p.sourcePort
                s.destinationPort = p.destinationPort
            }
            s.sourceZone = zones.zone(for: p.source)
            s.destinationZone = zones.zone(for: p.destination)
            setICMP(&s, p)
        } else if p.hasMACs {
            s.sourceMAC = p.sourceMAC
            s.destinationMAC = p.destinationMAC
            s.etherType = p.etherType.rawValue
            s.sourceZone = zones.zone(forMAC: p.sourceMAC)
            s.destinationZone = zones.zone(forMAC: p.destinationMAC)
        }
        s.segmentZone = zones.zone(for: p.segment)
        return s
    }

    private func setICMP(_ s: inout DetectionSubject, _ p: DecodedPacket) {
        guard p.hasTransport, p.ipProtocol == .icmp || p.ipProtocol == .icmpv6 else { return }
        s.icmpType = p.icmpType
        s.icmpCode = p.icmpCode
    }
}

/// A moment of a flow or packet, copied for the rules that span flows
/// (``Detector/RuleSelection``): the packet as decoded (offsets, no bytes)
/// and the flow's record as it was then.
public struct DeferredMoment: Sendable {
    public enum Kind: UInt8, Sendable {
        case flowStart
        case firstReply
        case packetWithoutFlow
    }
    public var kind: Kind
    public var packet: DecodedPacket
    /// nil for a packet without a flow.
    public var flow: FlowRecord?
    public var flowID: UInt64
}
