import Decode
import Flows
import Inspect
import Vocabulary
import Zones

/// What a rule is, for `zonewarden rules`, alerts and documentation.
public struct RuleMetadata: Sendable {
    /// Stable signature id (DESIGN.md's catalogue).
    public let sid: Int
    /// Stable name, used in configs (`rules:`) and alerts.
    public let name: String
    public let defaultSeverity: Severity
    /// The point of BSI IT-Grundschutz M 5.154 the rule checks.
    public let measurePoint: String
    /// When it fires, in one sentence.
    public let summary: String
}

/// The moments at which rules are asked to look at traffic.
public struct RuleHooks: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// The first packet of a flow.
    public static let flowStart = RuleHooks(rawValue: 1)
    /// The first packet the flow's responder sends.
    public static let firstReply = RuleHooks(rawValue: 2)
    /// A segment (VLAN / VNI combination) seen for the first time.
    public static let newSegment = RuleHooks(rawValue: 4)
    /// An application inspector reported something (a login, a protocol in clear ...).
    /// Unlike the other moments, a rule may fire more than once per flow here
    /// (two logins on one connection are two findings); their keys tell them apart.
    public static let appEvent = RuleHooks(rawValue: 8)
    /// With `.appEvent`: fire at most once per flow over all moments, like the
    /// zone rules (a migration flow found by port and then by signature is one finding).
    public static let oncePerFlow = RuleHooks(rawValue: 16)
    /// A packet that belongs to no flow (ARP, later fragments); called for each such packet.
    public static let packetWithoutFlow = RuleHooks(rawValue: 32)
    /// The end of a capture link (a file, or an interface's report interval):
    /// for rules that judge a link as a whole.
    public static let linkEnd = RuleHooks(rawValue: 64)
    /// The rule remembers across flows (a table of MACs, the endpoints known):
    /// with several workers it runs once, on the thread that merges their
    /// findings, in capture order (``Detector/RuleSelection``). Rules on new
    /// segments and on link ends are such rules whether they say so or not.
    public static let sharedMemory = RuleHooks(rawValue: 128)

    /// Whether a rule with these hooks keeps memory that spans flows.
    public var spansFlows: Bool { !intersection([.sharedMemory, .newSegment, .linkEnd]).isEmpty }
}

/// What a rule gets when it is created.
public struct RuleSetup {
    public let zones: ZoneMap
    /// Sids of the rules enabled in this configuration (rules may defer to one another).
    public let enabledSIDs: Set<Int>
    /// Each enabled rule's bit in ``Flows/FlowRecord/firedRules``, by sid.
    let bitsBySID: [Int: UInt64]
    /// The live sensor's memory of infrastructure endpoints (rule 7002); nil offline.
    public let endpointMemory: EndpointMemory?

    /// The bit that marks a flow on which rule `sid` has fired (0 if the rule is off):
    /// for rules that defer to another rule's finding on the same flow.
    public func firedBit(sid: Int) -> UInt64 { bitsBySID[sid] ?? 0 }
}

/// A detection. Adding a rule is one file with a type conforming to `Rule`,
/// plus its line in ``RuleRegistry/all``.
///
/// Rules are called on the detection path (new flows, first replies, new
/// segments, application events), never per packet. They read the flow and
/// the packet (never write them) and report what they find as ``Finding``
/// values; they must not keep the event's pointers beyond the call.
public protocol Rule: AnyObject {
    static var metadata: RuleMetadata { get }
    static var hooks: RuleHooks { get }
    init(_ setup: RuleSetup)
    func flowStarted(_ event: FlowEvent, _ findings: inout [Finding])
    func firstReply(_ event: FlowEvent, _ findings: inout [Finding])
    func segmentSeen(_ event: SegmentEvent, _ findings: inout [Finding])
    func appEvent(_ event: FlowEvent, _ app: AppEvent, _ findings: inout [Finding])
    func packetWithoutFlow(_ event: PacketEvent, _ findings: inout [Finding])
    func linkEnded(_ event: LinkEvent, _ findings: inout [Finding])
}

extension Rule {
    public func flowStarted(_ event: FlowEvent, _ findings: inout [Finding]) {}
    public func firstReply(_ event: FlowEvent, _ findings: inout [Finding]) {}
    public func segmentSeen(_ event: SegmentEvent, _ findings: inout [Finding]) {}
    public func appEvent(_ event: FlowEvent, _ app: AppEvent, _ findings: inout [Finding]) {}
    public func packetWithoutFlow(_ event: PacketEvent, _ findings: inout [Finding]) {}
    public func linkEnded(_ event: LinkEvent, _ findings: inout [Finding]) {}
}

/// What makes two findings "the same" (the alert stage writes the first and
/// counts the repeats): the rule and, by default, source, destination and
/// service; rules about a segment use the VLAN or VNI.
public struct FindingKey: Hashable, Sendable {
    public var sid: Int
    public var first: IPAddress
    public var second: IPAddress
    /// Service (protocol << 16 | port), VLAN, or another rule-specific value.
    public var detail: UInt64

    public init(sid: Int, first: IPAddress = .zero, second: IPAddress = .zero, detail: UInt64 = 0) {
        self.sid = sid
        self.first = first
        self.second = second
        self.detail = detail
    }

    /// The fields folded into one word first: the throttle hashes a key for every detection.
    public func hash(into hasher: inout Hasher) {
        @inline(__always) func mix(_ h: UInt64, _ word: UInt64) -> UInt64 {
            let m = (h ^ word) &* 0xBF58_476D_1CE4_E5B9
            return m ^ (m >> 31)
        }
        var h = UInt64(bitPattern: Int64(sid)) &* 0x9E37_79B9_7F4A_7C15
        h = mix(h, first.high)
        h = mix(h, first.low)
        h = mix(h, second.high)
        h = mix(h, second.low)
        h = mix(h, detail)
        hasher.combine(h)
    }
}

/// What a rule reports: the message, the evidence, and what makes repeats the
/// same. Building one allocates twice (the message's text, the evidence);
/// handing it on (detection, alert) only counts references.
public struct Finding: Sendable {
    public var message: Message
    public var evidence: Evidence
    public var key: FindingKey
    /// A severity other than the rule's configured one.
    public var severity: Severity?
    /// Report one level below the rule's configured severity (cleartext findings
    /// inside the management network: NET.1.1.A7, SYS.1.5.A5).
    public var lowerSeverity = false

    public init(message: Message, evidence: Evidence = [], key: FindingKey, severity: Severity? = nil, lowerSeverity: Bool = false) {
        self.message = message
        self.evidence = evidence
        self.key = key
        self.severity = severity
        self.lowerSeverity = lowerSeverity
    }
}

/// What every event offers rules: zone names and roles that are never nil.
public protocol ZoneNaming {
    var zones: ZoneMap { get }
}

extension ZoneNaming {
    /// A zone's name for messages, or "no zone".
    public func zoneName(_ id: ZoneID) -> String { zones.label(id) }
    /// "zone mgmt", or "no zone" (never "zone no zone").
    public func zoneClause(_ id: ZoneID) -> String { id == 0 ? "no zone" : "zone \(zones.label(id))" }
    /// A zone's role name for messages, or "none".
    public func roleName(_ id: ZoneID) -> String { zones.roleLabel(id) }
}

/// A flow at a detection moment, with its zones already looked up. Read-only:
/// which rules have fired on the flow is the detector's business.
public struct FlowEvent: ZoneNaming {
    public let zones: ZoneMap
    /// The flow's record.
    public let flow: UnsafePointer<FlowRecord>
    /// The packet that triggered the event.
    public let packet: UnsafePointer<DecodedPacket>
    /// The flow's id (EVE `flow_id`).
    public let flowID: UInt64

    public init(zones: ZoneMap, flow: UnsafePointer<FlowRecord>, packet: UnsafePointer<DecodedPacket>, flowID: UInt64) {
        self.zones = zones
        self.flow = flow
        self.packet = packet
        self.flowID = flowID
    }

    public var record: FlowRecord { flow.pointee }
    public var isEthernet: Bool { flow.pointee.key.isEthernet }
    public var initiator: IPAddress { flow.pointee.initiatorAddress }
    public var responder: IPAddress { flow.pointee.responderAddress }
    public var initiatorPort: UInt16 { flow.pointee.initiatorPort }
    public var responderPort: UInt16 { flow.pointee.responderPort }
    /// The IP protocol (meaningless for Ethernet flows).
    public var ipProtocol: IPProtocol { IPProtocol(rawValue: UInt8(truncatingIfNeeded: flow.pointee.key.protocolNumber)) }
    /// The EtherType of an Ethernet flow.
    public var etherType: EtherType { EtherType(rawValue: flow.pointee.key.protocolNumber) }
    public var hasPorts: Bool { !isEthernet && ipProtocol.hasPorts }

    public var sourceZone: ZoneID { flow.pointee.sourceZone }
    public var destinationZone: ZoneID { flow.pointee.destinationZone }
    public var segmentZone: ZoneID { flow.pointee.segmentZone }
    public var sourceRole: Role? { zones.role(sourceZone) }
    public var destinationRole: Role? { zones.role(destinationZone) }
    public var segmentRole: Role? { zones.role(segmentZone) }

    /// The initiator's role: its address's zone, or for an address in no zone,
    /// the segment's zone (a host on a zone's VLAN is taken to be in it).
    public var effectiveSourceRole: Role? { sourceRole ?? segmentRole }
    /// The responder's role, likewise.
    public var effectiveDestinationRole: Role? { destinationRole ?? segmentRole }
    /// The asset the inventory names the initiator; nil for most flows at no
    /// cost (only flows the classifier marked with an infrastructure asset ask).
    public var initiatorAsset: Asset? {
        flow.pointee.state & FlowState.infrastructureAsset != 0 ? FlowClassifier(zones: zones).asset(initiatorOf: flow.pointee) : nil
    }
    /// The asset the inventory names the responder, likewise.
    public var responderAsset: Asset? {
        flow.pointee.state & FlowState.infrastructureAsset != 0 ? FlowClassifier(zones: zones).asset(responderOf: flow.pointee) : nil
    }
    /// The initiator's role for the infrastructure rules (1004, 1006, 2003,
    /// 3001, 4001): what the inventory says it is (a VMkernel interface for
    /// vMotion is a migration endpoint whatever zone its subnet is in), else
    /// its zone's role (``effectiveSourceRole``).
    public var infrastructureSourceRole: Role? { initiatorAsset?.kind.infrastructureRole ?? effectiveSourceRole }
    /// The responder's role for the infrastructure rules, likewise.
    public var infrastructureDestinationRole: Role? { responderAsset?.kind.infrastructureRole ?? effectiveDestinationRole }

    /// The responder's zone, or the segment's when its address is in none.
    public var effectiveDestinationZone: ZoneID { destinationZone != 0 ? destinationZone : segmentZone }

    /// The responder's service: `tcp/443`, the protocol, or the EtherType.
    public var service: FlowService {
        if isEthernet { return .etherType(flow.pointee.key.protocolNumber) }
        return hasPorts ? .port(ipProtocol, responderPort) : .ipProtocol(ipProtocol)
    }

    /// The default key: rule, initiator, responder, service.
    public func key(sid: Int) -> FindingKey {
        let service = UInt64(flow.pointee.key.protocolNumber) << 16 | UInt64(hasPorts ? responderPort : 0)
        return FindingKey(sid: sid, first: initiator, second: responder, detail: service)
    }

    /// Whether an `allow` entry covers this flow's zones and service.
    public var isAllowed: Bool {
        zones.isAllowed(from: sourceZone, to: destinationZone, proto: ipProtocol, port: hasPorts ? responderPort : 0)
    }

    /// Whether both ends are in management zones (where NET.1.1.A7 tolerates cleartext).
    public var insideManagement: Bool { effectiveSourceRole == .management && effectiveDestinationRole == .management }

    /// The application protocol recognised on the flow, if any.
    public var appProtocol: String? { InspectorRegistry.protocolName(flow.pointee.appProtocol) }

    /// The initiator as messages name it: its address, or its MAC for Ethernet flows.
    public var initiatorEndpoint: Endpoint { isEthernet ? .mac(MACAddress(rawValue: initiator.low)) : .ip(initiator) }
    /// The responder, likewise.
    public var responderEndpoint: Endpoint { isEthernet ? .mac(MACAddress(rawValue: responder.low)) : .ip(responder) }
}

/// A packet on a segment seen for the first time.
public struct SegmentEvent: ZoneNaming {
    public let zones: ZoneMap
    public let segment: Segment
    public let packet: UnsafePointer<DecodedPacket>
}

/// A packet that belongs to no flow (ARP, ...).
public struct PacketEvent: ZoneNaming {
    public let zones: ZoneMap
    public let packet: UnsafePointer<DecodedPacket>
}

/// A capture link (a file, or a live interface) as a whole.
public struct LinkEvent: ZoneNaming {
    public let zones: ZoneMap
    /// The file or interface name.
    public let name: String
    /// Frames per VLAN id of the outer frame's innermost tag (index 0: untagged).
    public let vlanFrames: UnsafeBufferPointer<UInt64>
}
