import Decode
import Detect
import Vocabulary
import Zones

/// Builds an ``Alert`` from a detection: the one place where a finding gets
/// its zone names, interface and Community ID.
public enum AlertBuilder {
    public static func alert(_ d: Detection, zones: ZoneMap, interface: String?) -> Alert {
        var cache = CommunityIDCache()
        return alert(d, zones: zones, interface: interface, cache: &cache)
    }

    /// Builds an alert; `cache` keeps the last flow's Community ID (a SHA-1):
    /// the alerts of one flow usually come together.
    public static func alert(_ d: Detection, zones: ZoneMap, interface: String?, cache: inout CommunityIDCache) -> Alert {
        let s = d.subject
        var a = Alert(timestamp: s.timestamp, sid: d.rule.sid, rule: d.rule.name, severity: d.severity, message: d.finding.message)
        a.flowID = s.flowID
        a.interface = interface
        a.appProto = s.appProtocol
        a.vlans = s.vlans
        a.sourceIP = s.sourceIP
        a.destinationIP = s.destinationIP
        a.sourcePort = s.sourcePort
        a.destinationPort = s.destinationPort
        a.ipProtocol = s.ipProtocol
        a.icmpType = s.icmpType
        a.icmpCode = s.icmpCode
        a.sourceMAC = s.sourceMAC
        a.destinationMAC = s.destinationMAC
        a.etherType = s.etherType
        if s.flowID != nil, let source = s.sourceIP, let destination = s.destinationIP, let proto = s.ipProtocol {
            // ICMP's type and code stand in for ports, as the specification maps them.
            let portful = proto.hasPorts || proto == .icmp || proto == .icmpv6
            a.communityID = cache.id(proto: proto.rawValue, source: source, destination: destination,
                                     ports: portful ? (s.sourcePort ?? 0, s.destinationPort ?? 0) : nil)
        }
        a.sourceZone = zones.name(s.sourceZone)
        a.destinationZone = zones.name(s.destinationZone)
        a.segmentZone = zones.name(s.segmentZone)
        let inventory = zones.config.inventory
        if !inventory.isEmpty {
            // A declared gateway's MAC carries every routed host's packets: it names none of them.
            func mac(_ m: MACAddress?) -> MACAddress? { m.flatMap { zones.gateway(forMAC: $0) == nil ? $0 : nil } }
            a.sourceAsset = inventory.asset(ip: s.sourceIP, mac: mac(s.sourceMAC))
            a.destinationAsset = inventory.asset(ip: s.destinationIP, mac: mac(s.destinationMAC))
        }
        a.encapsulation = s.tunnels
        a.evidence = d.finding.evidence
        return a
    }
}

/// The Community ID of the flow alerted on last.
public struct CommunityIDCache: Sendable {
    private var proto: UInt8 = 0
    private var source = IPAddress.zero, destination = IPAddress.zero
    private var ports: (UInt16, UInt16)?
    private var last: CommunityID?

    public init() {}

    mutating func id(proto: UInt8, source: IPAddress, destination: IPAddress, ports: (UInt16, UInt16)?) -> CommunityID {
        if let last, proto == self.proto, source == self.source, destination == self.destination,
           ports?.0 == self.ports?.0, ports?.1 == self.ports?.1 { return last }
        let id = CommunityID(proto: proto, source: source, destination: destination, ports: ports)
        (self.proto, self.source, self.destination, self.ports, last) = (proto, source, destination, ports, id)
        return id
    }
}
