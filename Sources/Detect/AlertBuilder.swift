import Alerting
import Decode
import Flows
import Zones

/// Turns a rule's finding into an ``Alert`` with the flow's (or packet's)
/// addresses, zones, tags and tunnels.
enum AlertBuilder {
    static func alert(for finding: Finding, metadata: RuleMetadata, severity: Severity, event: FlowEvent, interface: String?) -> Alert {
        let r = event.flow.pointee
        let p = event.packet.pointee
        var a = Alert(timestamp: p.timestamp, sid: metadata.sid, rule: metadata.name, severity: finding.severity ?? severity,
                      message: "\(metadata.name): \(finding.message)")
        a.flowID = event.flowID
        a.interface = interface
        a.appProto = event.appProtocol
        a.vlans = p.reportedVLANs
        if r.key.isEthernet {
            a.sourceMAC = MACAddress(rawValue: r.initiatorAddress.low)
            a.destinationMAC = MACAddress(rawValue: r.responderAddress.low)
            a.etherType = r.key.protocolNumber
        } else {
            let proto = UInt8(truncatingIfNeeded: r.key.protocolNumber)
            a.ipProtocol = proto
            a.sourceIP = r.initiatorAddress
            a.destinationIP = r.responderAddress
            a.sourcePort = r.initiatorPort
            a.destinationPort = r.responderPort
            let portful = proto == 6 || proto == 17 || proto == 132 || proto == 1 || proto == 58
            a.communityID = CommunityID.compute(proto: proto, source: r.initiatorAddress, destination: r.responderAddress,
                                                ports: portful ? (r.initiatorPort, r.responderPort) : nil)
        }
        a.sourceZone = event.zones.name(r.sourceZone)
        a.destinationZone = event.zones.name(r.destinationZone)
        a.segmentZone = event.zones.name(r.segmentZone)
        a.encapsulation = encapsulation(p)
        a.evidence = finding.evidence
        return a
    }

    /// An alert about a packet that belongs to no flow (ARP, a new segment).
    static func alert(for finding: Finding, metadata: RuleMetadata, severity: Severity, packet p: DecodedPacket, zones: ZoneMap, interface: String?) -> Alert {
        var a = Alert(timestamp: p.timestamp, sid: metadata.sid, rule: metadata.name, severity: finding.severity ?? severity,
                      message: "\(metadata.name): \(finding.message)")
        a.interface = interface
        a.vlans = p.reportedVLANs
        if p.isIP {
            a.sourceIP = p.source
            a.destinationIP = p.destination
            a.ipProtocol = p.ipProtocol.rawValue
            if p.hasTransport {
                a.sourcePort = p.sourcePort
                a.destinationPort = p.destinationPort
            }
            a.sourceZone = zones.name(zones.zone(for: p.source))
            a.destinationZone = zones.name(zones.zone(for: p.destination))
        } else if p.hasMACs {
            a.sourceMAC = p.sourceMAC
            a.destinationMAC = p.destinationMAC
            a.etherType = p.etherType.rawValue
            a.sourceZone = zones.name(zones.zone(forMAC: p.sourceMAC))
            a.destinationZone = zones.name(zones.zone(forMAC: p.destinationMAC))
        }
        a.segmentZone = zones.name(zones.zone(for: p.segment))
        a.encapsulation = encapsulation(p)
        a.evidence = finding.evidence
        return a
    }

    static func encapsulation(_ p: DecodedPacket) -> [AlertEncapsulation] {
        (0..<p.tunnels.count).map { i in
            let t = p.tunnels[i]
            return AlertEncapsulation(kind: t.kind.name, outerSource: t.outerSource.description,
                                      outerDestination: t.outerDestination.description,
                                      identifier: t.hasIdentifier ? t.identifier : nil)
        }
    }
}
