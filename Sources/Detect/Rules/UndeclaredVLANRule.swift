import Decode
import Vocabulary
import Zones

/// 5002: traffic on a VLAN or VNI that no zone declares. Reported once per
/// segment (priority-only tags, VLAN 0, are not VLANs).
public final class UndeclaredVLANRule: Rule {
    public static let metadata = RuleMetadata(
        sid: 5002, name: "undeclared-vlan", defaultSeverity: .medium,
        measurePoint: "communication planned",
        summary: "a VLAN or VNI that no zone declares")
    public static let hooks: RuleHooks = .newSegment
    public init(_ setup: RuleSetup) {}

    public func segmentSeen(_ e: SegmentEvent, _ findings: inout [Finding]) {
        let s = e.segment
        if s.vlan != 0 && e.zones.zone(forVLAN: s.vlan) == 0 {
            findings.append(Finding(
                message: "VLAN \(s.vlan) is not declared in any zone",
                evidence: [("vlan", .number(Int(s.vlan)))],
                key: FindingKey(sid: Self.metadata.sid, detail: UInt64(s.vlan))))
        } else if s.vlan == 0 && s.hasVNI && e.zones.zone(forVNI: s.vni) == 0 {
            let kind = e.packet.pointee.tunnels.innermost?.kind.name ?? "overlay"
            findings.append(Finding(
                message: "\(kind) VNI \(s.vni) is not declared in any zone",
                evidence: [("vni", .number(Int(s.vni))), ("overlay", .text(kind))],
                key: FindingKey(sid: Self.metadata.sid, detail: 1 << 32 | UInt64(s.vni))))
        }
    }
}
