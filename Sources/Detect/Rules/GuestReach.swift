import Vocabulary
import Zones

/// The shared logic of rules 1001-1003: a flow started in a guest zone reaches
/// an address or a VLAN of a protected role, and no `allow` entry covers it.
enum GuestReach {
    static func check(_ e: FlowEvent, target: Role, sid: Int, roleWord: String) -> Finding? {
        guard e.effectiveSourceRole == .guest else { return nil }
        let byAddress = e.destinationRole == target
        let byVLAN = e.segmentRole == target
        guard byAddress || byVLAN, !e.isAllowed else { return nil }
        let reachedZone = byAddress ? e.destinationZone : e.segmentZone
        let how: Message = byAddress ? "\(roleWord) host \(e.responderEndpoint)" : "\(e.responderEndpoint) on the \(roleWord) segment"
        let who: Message = e.isEthernet ? "guest frame" : "guest \(e.initiatorEndpoint)"
        var evidence: Evidence = [
            ("service", .service(e.service)),
            ("reached", .text(byAddress ? "address" : "segment")),
        ]
        if let entry = e.zones.services.lookup(.management, e.ipProtocol, e.responderPort), e.hasPorts {
            evidence.append(("service_name", .text(entry.name)))
        }
        return Finding(
            message: "\(who) in zone \(e.zoneName(e.sourceZone != 0 ? e.sourceZone : e.segmentZone)) reached \(how) (zone \(e.zoneName(reachedZone))) on \(e.service)",
            evidence: evidence,
            key: e.key(sid: sid))
    }
}
