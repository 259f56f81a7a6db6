import Decode
import Detect
import Vocabulary
import Zones

/// Builds an ``Alert`` from a detection: the one place where a finding gets
/// its zone names, interface and Community ID.
public enum AlertBuilder {
    public static func alert(_ d: Detection, zones: ZoneMap, interface: String?) -> Alert {
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
        a.sourceMAC = s.sourceMAC
        a.destinationMAC = s.destinationMAC
        a.etherType = s.etherType
        if s.flowID != nil, let source = s.sourceIP, let destination = s.destinationIP, let proto = s.ipProtocol {
            // ICMP's type and code stand in for ports, as the specification maps them.
            let portful = proto.hasPorts || proto == .icmp || proto == .icmpv6
            a.communityID = CommunityID(proto: proto.rawValue, source: source, destination: destination,
                                        ports: portful ? (s.sourcePort ?? 0, s.destinationPort ?? 0) : nil)
        }
        a.sourceZone = zones.name(s.sourceZone)
        a.destinationZone = zones.name(s.destinationZone)
        a.segmentZone = zones.name(s.segmentZone)
        a.encapsulation = s.tunnels
        a.evidence = d.finding.evidence
        return a
    }
}
