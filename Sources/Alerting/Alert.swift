import Decode
import Zones

/// A value in an alert's evidence.
public enum EvidenceValue: Sendable, Equatable {
    /// Text; may come from the wire (user names, banners) and is escaped by every format.
    case text(String)
    case number(Int)
    case flag(Bool)
    case list([String])
}

/// One tunnel around the traffic an alert is about.
public struct AlertEncapsulation: Sendable, Equatable {
    public var kind: String
    public var outerSource: String
    public var outerDestination: String
    /// VNI, GRE key or ERSPAN session id.
    public var identifier: UInt32?

    public init(kind: String, outerSource: String, outerDestination: String, identifier: UInt32?) {
        self.kind = kind
        self.outerSource = outerSource
        self.outerDestination = outerDestination
        self.identifier = identifier
    }
}

/// A detection, ready for formatting. Built only when a rule fires, so it may
/// allocate.
public struct Alert: Sendable {
    /// Packet time, nanoseconds since the Unix epoch.
    public var timestamp: UInt64
    public var flowID: UInt64?
    public var interface: String?
    /// VLAN ids, outermost first.
    public var vlans: [UInt16] = []
    public var sourceIP: IPAddress?
    public var sourcePort: UInt16?
    public var destinationIP: IPAddress?
    public var destinationPort: UInt16?
    /// IP protocol number (nil for non-IP frames).
    public var ipProtocol: UInt8?
    public var sourceMAC: MACAddress?
    public var destinationMAC: MACAddress?
    /// EtherType of a non-IP frame.
    public var etherType: UInt16?
    public var appProto: String?
    public var communityID: String?
    public var sid: Int
    public var rule: String
    public var severity: Severity
    /// Human-readable description, EVE's `alert.signature`.
    public var message: String
    public var sourceZone: String?
    public var destinationZone: String?
    public var segmentZone: String?
    public var encapsulation: [AlertEncapsulation] = []
    /// Ordered evidence, EVE's `zonewarden.evidence`.
    public var evidence: [(key: String, value: EvidenceValue)] = []
    /// Alerts with the same throttle key suppressed since the previous one was written.
    public var suppressed: Int = 0

    public init(timestamp: UInt64, sid: Int, rule: String, severity: Severity, message: String) {
        self.timestamp = timestamp
        self.sid = sid
        self.rule = rule
        self.severity = severity
        self.message = message
    }

    /// EVE's `proto`: TCP, UDP, ICMP, IPv6-ICMP, or the number.
    public var protoName: String? {
        ipProtocol.map { IPProtocol(rawValue: $0).description }
    }

    /// The evidence value for `key`, if present.
    public func evidence(_ key: String) -> EvidenceValue? {
        evidence.first { $0.key == key }?.value
    }
}
