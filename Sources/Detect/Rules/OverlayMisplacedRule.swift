import Alerting
import Decode
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
        summary: "VXLAN/Geneve/GRE tunnel endpoints outside a transport-role zone, or inner traffic whose zone contradicts the VNI's zone")
    public static let hooks: RuleHooks = .flowStart
    public init(_ setup: RuleSetup) {}

    public func flowStarted(_ e: FlowEvent, _ findings: inout [Finding]) {
        let p = e.packet.pointee
        guard !p.tunnels.isEmpty else { return }
        for level in 0..<p.tunnels.count {
            let t = p.tunnels[level]
            guard !t.kind.isMirror else { continue }
            for side in 0..<2 {
                let endpoint = side == 0 ? t.outerSource : t.outerDestination
                let zone = e.zones.zone(for: endpoint)
                guard e.zones.role(zone) != .transport else { continue }
                let place = zone == 0 ? "in no zone" : "in zone \(e.zoneName(zone)) (\(e.zones.role(zone)!.rawValue))"
                findings.append(Finding(
                    message: "\(t.kind.name) tunnel \(t.outerSource) -> \(t.outerDestination)\(Self.id(t)): endpoint \(endpoint) is \(place), not in a transport zone",
                    evidence: [("tunnel", .text(t.kind.name)), ("tunnel_src", .text(t.outerSource.description)), ("tunnel_dest", .text(t.outerDestination.description)),
                               ("misplaced_endpoint", .text(endpoint.description)), ("endpoint_zone", .text(e.zoneName(zone)))]
                        + (t.virtualNetworkID.map { [("vni", .number(Int($0)))] } ?? []),
                    throttle: ThrottleKey(sid: Self.metadata.sid, first: t.outerSource, second: t.outerDestination, detail: UInt64(t.identifier) | UInt64(t.kind.rawValue) << 32)))
                break  // one finding per tunnel
            }
        }
        // The innermost packet against its VNI's zone.
        guard !e.isEthernet, let t = p.tunnels.innermost, let vni = t.virtualNetworkID else { return }
        let vniZone = e.zones.zone(forVNI: vni)
        guard vniZone != 0, e.sourceZone != vniZone, e.destinationZone != vniZone, e.sourceZone != 0 || e.destinationZone != 0 else { return }
        let owner = "\(e.zoneName(vniZone)) (\(e.zones.role(vniZone)!.rawValue))"
        findings.append(Finding(
            message: "\(t.kind.name) VNI \(vni) belongs to zone \(owner) but carries \(e.initiatorText) (\(e.zoneName(e.sourceZone))) -> \(e.responderText) (\(e.zoneName(e.destinationZone))): neither end is in the VNI's zone",
            evidence: [("tunnel", .text(t.kind.name)), ("vni", .number(Int(vni))), ("vni_zone", .text(e.zoneName(vniZone)))],
            throttle: ThrottleKey(sid: Self.metadata.sid, first: e.initiator, second: e.responder, detail: 1 << 40 | UInt64(vni))))
    }

    private static func id(_ t: Encapsulation) -> String {
        t.virtualNetworkID.map { " (VNI \($0))" } ?? (t.hasIdentifier ? " (key \(t.identifier))" : "")
    }
}
