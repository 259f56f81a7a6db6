import Vocabulary
import Zones

/// 5003: one capture link (a file, or a live interface) carries frames of a
/// management VLAN and of a guest VLAN: the management network shares a
/// physical link with the guests and is separated from them by VLAN tags
/// alone. Reported when the link ends, once per pair of zones, with the
/// frames of each.
public final class ManagementVLANSharedLinkRule: Rule {
    public static let metadata = RuleMetadata(
        sid: 5003, name: "management-vlan-shared-link", defaultSeverity: .medium,
        measurePoint: "VLAN alone is not enough",
        summary: "one capture link (a file, or an interface) carries frames of a management VLAN and of a guest VLAN; reported at the end of the link, once per pair of zones, with the VLANs and frames of each")
    public static let hooks: RuleHooks = .linkEnd
    public init(_ setup: RuleSetup) {}

    public func linkEnded(_ e: LinkEvent, _ findings: inout [Finding]) {
        // Per zone: its VLANs seen on the link and their frames.
        var seen: [ZoneID: (vlans: [UInt16], frames: UInt64)] = [:]
        for vlan in 1..<4095 where e.vlanFrames[vlan] > 0 {
            let zone = e.zones.zone(forVLAN: UInt16(vlan))
            guard let role = e.zones.role(zone), role == .management || role == .guest else { continue }
            seen[zone, default: ([], 0)].vlans.append(UInt16(vlan))
            seen[zone, default: ([], 0)].frames += e.vlanFrames[vlan]
        }
        let management = seen.keys.filter { e.zones.role($0) == .management }.sorted()
        let guests = seen.keys.filter { e.zones.role($0) == .guest }.sorted()
        var linkHash: UInt64 = 14_695_981_039_346_656_037
        for byte in e.name.utf8 { linkHash = (linkHash ^ UInt64(byte)) &* 1_099_511_628_211 }
        for m in management {
            for g in guests {
                let (mv, mf) = seen[m]!, (gv, gf) = seen[g]!
                let list = { (v: [UInt16]) in v.map { "\($0)" }.joined(separator: ", ") }
                findings.append(Finding(
                    message: "management VLAN\(mv.count > 1 ? "s" : "") \(list(mv)) (zone \(e.zoneName(m)), \(mf) frame\(mf == 1 ? "" : "s")) and guest VLAN\(gv.count > 1 ? "s" : "") \(list(gv)) (zone \(e.zoneName(g)), \(gf) frame\(gf == 1 ? "" : "s")) share the link \(e.name): the management network is separated from guests by VLAN tags alone",
                    evidence: [("link", .text(e.name)),
                               ("management_zone", .text(e.zoneName(m))), ("management_vlans", .text(list(mv))), ("management_frames", .number(Int(mf))),
                               ("guest_zone", .text(e.zoneName(g))), ("guest_vlans", .text(list(gv))), ("guest_frames", .number(Int(gf)))],
                    key: FindingKey(sid: Self.metadata.sid, detail: linkHash ^ (UInt64(m) << 48 | UInt64(g) << 32))))
            }
        }
    }
}
