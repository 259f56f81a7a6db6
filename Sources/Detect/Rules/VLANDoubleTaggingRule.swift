import Decode
import Vocabulary
import Zones

/// 5001: a frame with two or more VLAN tags where no zone declares the outer
/// tag as a carrier of the inner one (`outer_vlans:`). A switch port that
/// forwards a double-tagged frame strips the outer tag and delivers the inner
/// one: the classic VLAN-hopping attack out of a guest VLAN. Checked on the
/// outer frame and on a frame inside an overlay; once per flow (every flow
/// keys on its tag stack) and for each ARP or other frame without a flow.
public final class VLANDoubleTaggingRule: Rule {
    public static let metadata = RuleMetadata(
        sid: 5001, name: "vlan-double-tagging", defaultSeverity: .high,
        measurePoint: "VLAN alone is not enough",
        summary: "a frame (or a frame inside an overlay) with two or more VLAN tags whose outer tags no zone declares in `outer_vlans` for the inner VLAN: VLAN hopping, or undeclared QinQ")
    public static let hooks: RuleHooks = [.flowStart, .packetWithoutFlow]
    public init(_ setup: RuleSetup) {}

    public func flowStarted(_ e: FlowEvent, _ findings: inout [Finding]) {
        check(e.zones, e.packet, &findings)
    }

    public func packetWithoutFlow(_ e: PacketEvent, _ findings: inout [Finding]) {
        check(e.zones, e.packet, &findings)
    }

    private func check(_ zones: ZoneMap, _ packet: UnsafePointer<DecodedPacket>, _ findings: inout [Finding]) {
        let p = packet.pointee
        if p.vlans.count >= 2 && !zones.isPlannedStack(p.vlans) { report(p.vlans, inside: false, zones, p, &findings) }
        if p.innerVLANs.count >= 2 && !zones.isPlannedStack(p.innerVLANs) { report(p.innerVLANs, inside: true, zones, p, &findings) }
    }

    private func report(_ stack: VLANStack, inside: Bool, _ zones: ZoneMap, _ p: DecodedPacket, _ findings: inout [Finding]) {
        let tags = (0..<stack.count).map { stack[$0] }.filter { $0.id != 0 }
        let inner = tags.last!.id
        let outer = tags.dropLast().map { String($0.id) }.joined(separator: ", ")
        let text = tags.map { "\($0.id) (0x\(String($0.tpid, radix: 16)))" }.joined(separator: " > ")
        let innerZone = zones.zone(forVLAN: inner)
        let owner: Message = innerZone == 0 ? "VLAN \(inner) is in no zone and no zone declares" : "zone \(zones.label(innerZone)) does not declare"
        // MACs of the frame that carried the stack: the outer frame's unless inside an overlay.
        let framed = p.macTunnelDepth == (inside ? p.tunnels.count : 0) && p.hasMACs
        let macs: Message = framed ? " from \(p.sourceMAC) to \(p.destinationMAC)" : Message()
        var evidence: Evidence = [
            ("tags", .text(text)), ("outer_vlan", .number(Int(tags[0].id))), ("inner_vlan", .number(Int(inner)))]
        if framed { evidence.append(contentsOf: [("src_mac", .mac(p.sourceMAC)), ("dest_mac", .mac(p.destinationMAC))]) }
        if inside { evidence.append(("inside", .text(p.tunnels.innermost!.kind.name))) }
        findings.append(Finding(
            message: "frame\(macs) tagged \(text)\(inside ? " inside a tunnel" : ""): \(owner) outer VLAN \(outer) in outer_vlans (VLAN hopping, or undeclared QinQ)",
            evidence: evidence,
            key: FindingKey(sid: Self.metadata.sid, first: IPAddress(high: 0, low: p.sourceMAC.rawValue), detail: stack.packedKey)))
    }
}
