import Decode
import Vocabulary
import Zones

/// What the detect stage hands on: a rule's finding with the rule, the
/// severity it has in this configuration, and what it is about. A value:
/// the alert stage (another module, perhaps another thread) needs nothing
/// else, and the flow may be gone by the time it is written.
public struct Detection: Sendable {
    public var rule: RuleMetadata
    /// The rule's configured severity, with the finding's own or lowered one applied.
    public var severity: Severity
    public var finding: Finding
    public var subject: DetectionSubject

    public var sid: Int { rule.sid }

    /// An order for detections of one instant that do not follow from the
    /// capture (flows expiring together, the flows pending at the end): by
    /// time, then endpoints, then rule. One pipeline and several workers
    /// hand such detections on in this order, so the throttle keeps the same one.
    public static func precedes(_ a: Detection, _ b: Detection) -> Bool {
        let x = a.subject, y = b.subject
        if x.timestamp != y.timestamp { return x.timestamp < y.timestamp }
        let xs = x.sourceIP ?? .zero, ys = y.sourceIP ?? .zero
        if xs != ys { return xs < ys }
        let xd = x.destinationIP ?? .zero, yd = y.destinationIP ?? .zero
        if xd != yd { return xd < yd }
        if x.sourcePort != y.sourcePort { return (x.sourcePort ?? 0) < (y.sourcePort ?? 0) }
        if x.destinationPort != y.destinationPort { return (x.destinationPort ?? 0) < (y.destinationPort ?? 0) }
        return a.sid < b.sid
    }

    public init(rule: RuleMetadata, severity: Severity, finding: Finding, subject: DetectionSubject) {
        self.rule = rule
        self.severity = severity
        self.finding = finding
        self.subject = subject
    }
}

/// What a detection is about, copied from the flow and packet at detection
/// time: endpoints, zones, tags and tunnels.
public struct DetectionSubject: Sendable {
    /// Packet time, nanoseconds since the Unix epoch.
    public var timestamp: UInt64 = 0
    /// The flow's id; nil for packets outside flows and for links.
    public var flowID: UInt64?
    public var sourceIP: IPAddress?
    public var destinationIP: IPAddress?
    public var sourcePort: UInt16?
    public var destinationPort: UInt16?
    /// The IP protocol (nil for non-IP frames).
    public var ipProtocol: IPProtocol?
    public var sourceMAC: MACAddress?
    public var destinationMAC: MACAddress?
    /// The EtherType of a non-IP frame.
    public var etherType: UInt16?
    public var sourceZone: ZoneID = 0
    public var destinationZone: ZoneID = 0
    public var segmentZone: ZoneID = 0
    /// The application protocol recognised on the flow.
    public var appProtocol: String?
    /// VLAN ids, outermost first (with those inside the innermost tunnel).
    public var vlans = VLANIDList()
    /// Tunnels around the traffic, outermost first.
    public var tunnels = EncapsulationStack()
    /// ICMP or ICMPv6 type and code of the packet, when it is one.
    public var icmpType: UInt8?
    public var icmpCode: UInt8?

    public init() {}
}
