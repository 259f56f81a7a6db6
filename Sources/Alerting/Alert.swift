import Decode
import Vocabulary
import Zones

/// A detection as the sinks write it: the rule, the severity, what it is
/// about (endpoints, zone names, tags, tunnels, the flow's ids), the message
/// and the evidence. Built by ``AlertBuilder`` from a ``Detect/Detection``;
/// plain values, so building one allocates nothing.
public struct Alert: Sendable {
    /// Packet time, nanoseconds since the Unix epoch.
    public var timestamp: UInt64
    public var flowID: UInt64?
    public var interface: String?
    /// VLAN ids, outermost first.
    public var vlans = VLANIDList()
    public var sourceIP: IPAddress?
    public var sourcePort: UInt16?
    public var destinationIP: IPAddress?
    public var destinationPort: UInt16?
    /// The IP protocol (nil for non-IP frames).
    public var ipProtocol: IPProtocol?
    /// ICMP or ICMPv6 type and code, for an ICMP alert.
    public var icmpType: UInt8?
    public var icmpCode: UInt8?
    public var sourceMAC: MACAddress?
    public var destinationMAC: MACAddress?
    /// EtherType of a non-IP frame.
    public var etherType: UInt16?
    public var appProto: String?
    public var communityID: CommunityID?
    public var sid: Int
    public var rule: String
    public var severity: Severity
    /// What the rule found (EVE's `alert.signature` is the rule's name, `: ` and this).
    public var message: Message
    public var sourceZone: String?
    public var destinationZone: String?
    public var segmentZone: String?
    /// What the inventory calls the source and the destination (`inventory:`): a VM and its host, a VMkernel interface.
    public var sourceAsset: Asset?
    public var destinationAsset: Asset?
    /// Tunnels around the traffic, outermost first.
    public var encapsulation = EncapsulationStack()
    /// Ordered evidence, EVE's `zonewarden.evidence`.
    public var evidence: Evidence = []
    /// Alerts with the same key suppressed since the previous one was written.
    public var suppressed: Int = 0
    /// The evidence file holding the finding's packets (`--evidence`), as a path
    /// under the evidence directory; nil without evidence or for a finding with no packet.
    public var pcap: String?

    public init(timestamp: UInt64, sid: Int, rule: String, severity: Severity, message: Message) {
        self.timestamp = timestamp
        self.sid = sid
        self.rule = rule
        self.severity = severity
        self.message = message
    }

    /// EVE's `alert.signature`: `rule-name: message`.
    public var signature: String { "\(rule): \(message)" }

    /// EVE's `proto`: TCP, UDP, ICMP, IPv6-ICMP, or the number.
    public var protoName: String? { ipProtocol?.description }

    /// Whether the protocol has ports (TCP, UDP, SCTP); ICMP's type/code are not ports in EVE.
    public var hasPorts: Bool { ipProtocol?.hasPorts ?? false }

    /// The evidence value for `key`, if present.
    public func evidence(_ key: String) -> EvidenceValue? { evidence.value(key) }
}
