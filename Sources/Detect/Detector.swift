import Alerting
import Decode
import Flows
import Zones

/// Runs the enabled rules at their moments and hands findings to the alert
/// stage. Each rule fires at most once per flow.
///
/// Not thread-safe: one detector per worker.
public final class Detector {
    public let zones: ZoneMap
    public let dispatcher: AlertDispatcher
    /// The capture interface, for alerts (nil for files).
    public var interfaceName: String?

    let rules: [any Rule]
    let metadata: [RuleMetadata]
    let severities: [Severity]
    private let flowStartRules: [Int]
    private let firstReplyRules: [Int]
    private let segmentRules: [Int]
    private let appEventRules: [Int]
    private let nonFlowRules: [Int]
    private let linkEndRules: [Int]
    private let oncePerFlow: [Bool]
    private let inspection: ApplicationInspection
    private var inspectionOutput = InspectionOutput()
    private var findings: [Finding] = []
    private var seenSegments = Set<UInt64>()
    /// Plain VLAN segments already seen, one bit per VLAN id: the common case
    /// costs a bit test, not a hash (ARP and other flow-less packets come here each time).
    private var seenVLANs = [UInt64](repeating: 0, count: 64)
    private let maxSeenSegments = 1 << 16

    /// The enabled rules with their effective severities.
    public var enabledRules: [(RuleMetadata, Severity)] { Array(zip(metadata, severities)) }

    /// Builds the rule set for a configuration, applying its `rules:` overrides.
    ///
    /// - Throws: ``ConfigErrors`` for overrides that name no rule.
    ///
    /// - Parameters:
    ///   - flowCapacity: the flow table's size (inspection state is kept per flow slot).
    ///   - endpointMemory: the live sensor's infrastructure endpoints (rule 7002 is silent without it).
    public init(zones: ZoneMap, dispatcher: AlertDispatcher, flowCapacity: Int = 1024, endpointMemory: EndpointMemory? = nil) throws(ConfigErrors) {
        self.zones = zones
        self.dispatcher = dispatcher
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
        let active = RuleRegistry.all.filter { enabled[$0.metadata.name] ?? true }
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
        inspection = ApplicationInspection(capacity: flowCapacity, window: config.sensor.streamWindow)
        findings.reserveCapacity(8)
    }

    static func suggestion(_ key: String, _ names: [String]) -> String {
        Spelling.suggestion(key, names, fallback: " (zonewarden rules lists them)")
    }

    /// Classifies a new flow into zones and runs the flow-start rules.
    public func flowStarted(_ flow: UnsafeMutablePointer<FlowRecord>, id: UInt64, packet: UnsafePointer<DecodedPacket>) {
        let segment = packet.pointee.segment
        let (source, destination) = flow.pointee.key.isEthernet
            ? (zones.zone(forMAC: MACAddress(rawValue: flow.pointee.initiatorAddress.low)), zones.zone(forMAC: MACAddress(rawValue: flow.pointee.responderAddress.low)))
            : (zones.zone(for: flow.pointee.initiatorAddress), zones.zone(for: flow.pointee.responderAddress))
        flow.pointee.sourceZone = source
        flow.pointee.destinationZone = destination
        flow.pointee.segmentZone = zones.zone(for: segment)
        flow.pointee.state |= FlowState.classified
        checkSegment(segment, packet: packet)
        guard !flowStartRules.isEmpty else { return }
        run(flowStartRules, FlowEvent(zones: zones, flow: flow, packet: packet, flowID: id)) { $0.flowStarted($1, &$2) }
    }

    /// Runs the first-reply rules (the responder's first packet).
    public func firstReply(_ flow: UnsafeMutablePointer<FlowRecord>, id: UInt64, packet: UnsafePointer<DecodedPacket>) {
        guard !firstReplyRules.isEmpty else { return }
        run(firstReplyRules, FlowEvent(zones: zones, flow: flow, packet: packet, flowID: id)) { $0.firstReply($1, &$2) }
    }

    /// For packets that belong to no flow (ARP, ...): the new-segment check.
    public func packetWithoutFlow(_ packet: UnsafePointer<DecodedPacket>) {
        guard packet.pointee.hasMACs || packet.pointee.isIP else { return }
        checkSegment(packet.pointee.segment, packet: packet)
        guard !nonFlowRules.isEmpty else { return }
        let event = PacketEvent(zones: zones, packet: packet)
        gather(nonFlowRules) { $0.packetWithoutFlow(event, &$1) }
        dispatchPacketFindings(packet)
    }

    /// The end of a capture link: rules that judge a whole link report.
    /// `vlanFrames` counts the link's frames per VLAN id; `timestamp` is its last packet's.
    public func linkEnded(name: String, vlanFrames: UnsafeBufferPointer<UInt64>, timestamp: UInt64) {
        guard !linkEndRules.isEmpty else { return }
        let event = LinkEvent(zones: zones, name: name, vlanFrames: vlanFrames)
        gather(linkEndRules) { $0.linkEnded(event, &$1) }
        var packet = DecodedPacket()
        packet.timestamp = timestamp
        withUnsafePointer(to: &packet) { dispatchPacketFindings($0) }
    }

    /// Whether any enabled rule listens to application events (else nothing is inspected).
    public var inspectsApplications: Bool { !appEventRules.isEmpty }

    /// Offers a packet's payload to the application inspectors and runs the
    /// rules on what they report. `bytes` are the packet's captured bytes.
    public func inspectPayload(flows: FlowTable, index: Int32, packet: UnsafePointer<DecodedPacket>, bytes: UnsafeRawBufferPointer, fromInitiator: Bool) {
        guard !appEventRules.isEmpty else {
            flows.record(index).pointee.state |= FlowState.inspectionDone
            return
        }
        inspectionOutput.events.removeAll(keepingCapacity: true)
        inspectionOutput.appProtocol = nil
        inspectionOutput.finished = false
        inspection.packetBytes = bytes
        let record = flows.record(index)
        inspection.inspect(flows: flows, index: index, packet: packet, fromClient: fromInitiator, hints: { self.hints(record) }, &inspectionOutput)
        if let name = inspectionOutput.appProtocol { record.pointee.appProtocol = InspectorRegistry.protocolID(name) }
        guard !inspectionOutput.events.isEmpty else { return }
        let event = FlowEvent(zones: zones, flow: record, packet: packet, flowID: flows.id(index))
        for app in inspectionOutput.events { runAppEvent(app, event) }
    }

    /// A flow is being removed: inspectors report what is still pending.
    public func flowEnded(flows: FlowTable, index: Int32) {
        // Only flows whose record says an inspection holds state: ending a flow costs nothing otherwise.
        guard flows.record(index).pointee.state & FlowState.inspecting != 0, inspection.isInspecting(index) else { return }
        inspectionOutput.events.removeAll(keepingCapacity: true)
        inspectionOutput.appProtocol = nil
        guard var context = inspection.flowEnded(index, &inspectionOutput), !inspectionOutput.events.isEmpty else { return }
        let record = flows.record(index)
        context.timestamp = record.pointee.lastSeen
        withUnsafePointer(to: &context) { packet in
            let event = FlowEvent(zones: zones, flow: record, packet: packet, flowID: flows.id(index))
            for app in inspectionOutput.events { runAppEvent(app, event) }
        }
    }

    /// End of input: every inspection still in progress reports what is pending.
    public func finishInspections(flows: FlowTable) {
        for index in inspection.inspectedIndexes { flowEnded(flows: flows, index: index) }
    }

    private func runAppEvent(_ app: AppEvent, _ event: FlowEvent) {
        findings.removeAll(keepingCapacity: true)
        for i in appEventRules {
            let bit = UInt64(1) << UInt64(i)
            let once = oncePerFlow[i]
            if once && event.flow.pointee.firedRules & bit != 0 { continue }
            let before = findings.count
            rules[i].appEvent(event, app, &findings)
            if findings.count > before && once { event.flow.pointee.firedRules |= bit }
            for j in before..<findings.count { findings[j].ruleIndex = i }
        }
        dispatchFindings(event)
    }

    /// Turns the findings gathered for a flow event into alerts.
    private func dispatchFindings(_ event: FlowEvent) {
        for f in findings {
            let base = severities[f.ruleIndex]
            let severity = f.lowerSeverity ? base.lowered : base
            let rule = metadata[f.ruleIndex]
            guard let suppressed = dispatcher.admit(sid: rule.sid, severity: f.severity ?? severity, timestamp: event.packet.pointee.timestamp, key: f.throttle) else { continue }
            var alert = AlertBuilder.alert(for: f, metadata: rule, severity: severity, event: event, interface: interfaceName)
            alert.suppressed = suppressed
            dispatcher.write(alert)
        }
    }

    private func hints(_ record: UnsafeMutablePointer<FlowRecord>) -> FlowHints {
        let r = record.pointee
        let proto = UInt8(truncatingIfNeeded: r.key.protocolNumber)
        let serverRole = zones.role(r.destinationZone) ?? zones.role(r.segmentZone)
        let management = serverRole == .management && zones.services.lookup(.management, IPProtocol(rawValue: proto), r.responderPort) != nil
        return FlowHints(transport: proto, serverPort: r.responderPort, clientPort: r.initiatorPort, managementService: management)
    }

    private func checkSegment(_ segment: Segment, packet: UnsafePointer<DecodedPacket>) {
        guard !segmentRules.isEmpty, segment.vlan != 0 || segment.hasVNI else { return }
        if !segment.hasVNI {
            let word = Int(segment.vlan >> 6), bit = UInt64(1) << UInt64(segment.vlan & 63)
            guard seenVLANs[word] & bit == 0 else { return }
            seenVLANs[word] |= bit
        } else {
            let key = UInt64(segment.vlan) << 32 | UInt64(segment.vni) | 1 << 48
            guard seenSegments.count < maxSeenSegments, seenSegments.insert(key).inserted else { return }
        }
        let event = SegmentEvent(zones: zones, segment: segment, packet: packet)
        gather(segmentRules) { $0.segmentSeen(event, &$1) }
        dispatchPacketFindings(packet)
    }

    /// Gathers the findings of the rules at `indexes` for a moment that is no flow's.
    private func gather(_ indexes: [Int], _ call: (any Rule, inout [Finding]) -> Void) {
        findings.removeAll(keepingCapacity: true)
        for i in indexes {
            let before = findings.count
            call(rules[i], &findings)
            for j in before..<findings.count { findings[j].ruleIndex = i }
        }
    }

    /// Turns findings about a packet (not a flow) into alerts.
    private func dispatchPacketFindings(_ packet: UnsafePointer<DecodedPacket>) {
        for f in findings {
            let i = f.ruleIndex
            guard let suppressed = dispatcher.admit(sid: metadata[i].sid, severity: f.severity ?? severities[i], timestamp: packet.pointee.timestamp, key: f.throttle) else { continue }
            var alert = AlertBuilder.alert(for: f, metadata: metadata[i], severity: severities[i], packet: packet.pointee, zones: zones, interface: interfaceName)
            alert.suppressed = suppressed
            dispatcher.write(alert)
        }
    }

    private func run(_ indexes: [Int], _ event: FlowEvent, _ call: (any Rule, FlowEvent, inout [Finding]) -> Void) {
        findings.removeAll(keepingCapacity: true)
        for i in indexes {
            let bit = UInt64(1) << UInt64(i)
            if event.flow.pointee.firedRules & bit != 0 { continue }
            let before = findings.count
            call(rules[i], event, &findings)
            if findings.count > before {
                event.flow.pointee.firedRules |= bit
                for j in before..<findings.count { findings[j].ruleIndex = i }
            }
        }
        dispatchFindings(event)
    }
}
