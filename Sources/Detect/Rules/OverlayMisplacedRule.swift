import Decode
import Vocabulary
import Zones

/// 5004: an overlay out of its place. The outer endpoints of a VXLAN, Geneve,
/// GRE or IP-in-IP tunnel (the VTEPs) must be in a transport-role zone: a
/// tunnel that ends on a guest or management address carries whole networks
/// past every zone boundary. And traffic inside a VNI must belong to the
/// VNI's zone: when neither inner endpoint is in it, the overlay carries
/// another zone's traffic. Mirror encapsulations (ERSPAN) are not overlays.
public final class OverlayMisplacedRule: Rule {
    public static let metadata = RuleMetadata(
        sid: 5004, name: "overlay-misplaced", defaultSeverity: .high,
        measurePoint: "communication planned",
        summary: "a VXLAN, Geneve, GRE or IP-in-IP endpoint outside a transport zone, or traffic inside a VNI neither of whose ends is in the VNI's zone")
    public static let hooks: RuleHooks = .flowStart
    public init(_ setup: RuleSetup) {}

    public func flowStarted(_ e: FlowEvent, _ findings: inout [Finding]) {
        let p = e.packet.pointee
        // GRE whose payload is not followed (keepalives, unknown protocols) is a
        // flow of protocol 47 between the tunnel's endpoints: a tunnel all the same.
        if p.tunnels.isEmpty && !e.isEthernet && e.ipProtocol.rawValue == 47 {
            let t = Encapsulation(kind: .gre, outerSource: e.initiator, outerDestination: e.responder, identifier: 0, hasIdentifier: false)
            check(t, e, &findings)
            return
        }
        guard !p.tunnels.isEmpty else { return }
        for level in 0..<p.tunnels.count {
            let t = p.tunnels[level]
            guard !t.kind.isMirror else { continue }
            check(t, e, &findings)
        }
        // The innermost packet against its VNI's zone.
        guard !e.isEthernet, let t = p.tunnels.innermost, let vni = t.virtualNetworkID else { return }
        let vniZone = e.zones.zone(forVNI: vni)
        guard vniZone != 0, e.sourceZone != vniZone, e.destinationZone != vniZone, e.sourceZone != 0 || e.destinationZone != 0 else { return }
        let owner: Message = "\(e.zoneName(vniZone)) (\(e.roleName(vniZone)))"
        findings.append(Finding(
            message: "\(t.kind.name) VNI \(vni) belongs to zone \(owner) but carries \(e.initiatorEndpoint) (\(e.zoneName(e.sourceZone))) -> \(e.responderEndpoint) (\(e.zoneName(e.destinationZone))): neither end is in the VNI's zone",
            evidence: [("tunnel", .text(t.kind.name)), ("vni", .number(Int(vni))), ("vni_zone", .text(e.zoneName(vniZone)))],
            key: FindingKey(sid: Self.metadata.sid, first: e.initiator, second: e.responder, detail: 1 << 40 | UInt64(vni))))
    }

    /// One finding per tunnel whose first endpoint outside a transport zone is named.
    private func check(_ t: Encapsulation, _ e: FlowEvent, _ findings: inout [Finding]) {
        for side in 0..<2 {
            let endpoint = side == 0 ? t.outerSource : t.outerDestination
            let zone = e.zones.zone(for: endpoint)
            guard e.zones.role(zone) != .transport else { continue }
            let place: Message = zone == 0 ? "in no zone" : "in zone \(e.zoneName(zone)) (\(e.roleName(zone)))"
            findings.append(Finding(
                message: "\(t.kind.name) tunnel \(t.outerSource) -> \(t.outerDestination)\(Self.id(t)): endpoint \(endpoint) is \(place), not in a transport zone",
                evidence: [("tunnel", .text(t.kind.name)), ("tunnel_src", .address(t.outerSource)), ("tunnel_dest", .address(t.outerDestination)),
                           ("misplaced_endpoint", .address(endpoint)), ("endpoint_zone", .text(e.zoneName(zone)))]
                    + (t.virtualNetworkID.map { [("vni", .number(Int($0)))] } ?? []),
                key: FindingKey(sid: Self.metadata.sid, first: t.outerSource, second: t.outerDestination, detail: UInt64(t.identifier) | UInt64(t.kind.rawValue) << 32)))
            return
        }
    }

    private static func id(_ t: Encapsulation) -> Message {
        if let vni = t.virtualNetworkID { return " (VNI \(vni))" }
        return t.hasIdentifier ? " (key \(t.identifier))" : Message()
    }
}
