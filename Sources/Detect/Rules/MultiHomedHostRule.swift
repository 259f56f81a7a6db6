import Decode
import Flows
import Vocabulary
import Zones

/// 6001: one MAC address (not a gateway's) sends from addresses or VLANs of
/// zones whose roles must not meet: by default a guest with management,
/// storage or migration (`multi_homed.forbidden`). That is a VM or host with
/// a foot in both networks (a trunk with VLAN sub-interfaces, a VM routing or
/// bridging between its interfaces), a path around every gateway.
///
/// Senders are learnt when a flow starts and when its responder first
/// answers, from every ARP packet and IPv6 neighbour discovery: never per
/// packet of a flow. The MACs live in a fixed-size table (`sensor.max_macs`).
public final class MultiHomedHostRule: Rule {
    public static let metadata = RuleMetadata(
        sid: 6001, name: "multi-homed-host", defaultSeverity: .high,
        measurePoint: "no undesired connections via multi-homed VMs",
        summary: "one MAC (not a gateway's, not in `multi_homed.allowed_macs`) sends from addresses or VLANs of zones whose roles must not meet (`multi_homed.forbidden`)")
    public static let hooks: RuleHooks = [.flowStart, .firstReply, .packetWithoutFlow, .sharedMemory]
    /// What each MAC has been seen in.
    public let table: MACTable

    public init(_ setup: RuleSetup) {
        table = MACTable(capacity: setup.zones.config.sensor.maxMACs)
    }

    public func flowStarted(_ e: FlowEvent, _ findings: inout [Finding]) { observe(e.zones, e.packet, &findings) }
    public func firstReply(_ e: FlowEvent, _ findings: inout [Finding]) { observe(e.zones, e.packet, &findings) }
    public func packetWithoutFlow(_ e: PacketEvent, _ findings: inout [Finding]) { observe(e.zones, e.packet, &findings) }

    private func observe(_ zones: ZoneMap, _ packet: UnsafePointer<DecodedPacket>, _ findings: inout [Finding]) {
        let p = packet.pointee
        guard p.macsFrameInnermostPacket else { return }
        var mac = p.sourceMAC
        var address = p.isIP ? p.source : IPAddress.zero
        if p.network == .arp {
            mac = p.arpSenderMAC
            address = p.arpSenderIP
        } else if !p.isIP {
            return
        }
        guard mac != .zero, !mac.isGroup else { return }
        let segment = p.segment
        let segmentZone = zones.zone(for: segment)
        let addressZone = address == .zero ? 0 : zones.zone(for: address)
        guard segmentZone != 0 || addressZone != 0 else { return }
        guard zones.gateway(forMAC: mac) == nil, !zones.mayBeMultiHomed(mac) else { return }
        // A hypervisor's own interfaces (by the inventory) belong in several networks; one in the
        // wrong network is rule 1006's, 3001's or 4001's finding.
        if !zones.inventory.isEmpty, (address != .zero ? zones.inventory.asset(for: address) : nil)?.kind.infrastructureRole != nil
            || zones.inventory.asset(forMAC: mac)?.kind.infrastructureRole != nil { return }
        let entry = table.entry(mac, now: p.timestamp)
        if addressZone != 0 { place(addressZone, segment: segment, address: address, entry, zones, &findings) }
        if segmentZone != 0 { place(segmentZone, segment: segment, address: .zero, entry, zones, &findings) }
    }

    private func place(_ zone: ZoneID, segment: Segment, address: IPAddress, _ entry: UnsafeMutablePointer<MACTable.Entry>,
                       _ zones: ZoneMap, _ findings: inout [Finding]) {
        guard MACTable.add(zone, segment: segment, address: address, to: entry) else { return }
        guard let role = zones.role(zone) else { return }
        let forbidden = zones.forbiddenPartners(of: role)
        guard forbidden != 0 else { return }
        let newest = Int(entry.pointee.zoneCount) - 1
        for i in 0..<newest {
            let other = entry.pointee.zones[i]
            guard let otherRole = zones.role(other), forbidden & (1 << UInt16(otherRole.index)) != 0 else { continue }
            let bit = UInt64(1) << UInt64(min(role.index, otherRole.index) * 8 + max(role.index, otherRole.index))
            guard entry.pointee.reported & bit == 0 else { continue }
            entry.pointee.reported |= bit
            let mac = entry.pointee.mac
            func how(_ slot: Int) -> String {
                let a = entry.pointee.addresses[slot], segment = MACTable.segmentText(entry.pointee.segments[slot])
                return a == .zero ? (segment ?? "an untagged segment") : "\(a)" + (segment.map { " on \($0)" } ?? "")
            }
            func zoneText(_ z: ZoneID) -> Message { "\(zones.label(z)) (\(zones.roleLabel(z)))" }
            findings.append(Finding(
                message: "MAC \(mac) sends in zone \(zoneText(other)) via \(how(i)) and in zone \(zoneText(zone)) via \(how(newest)): one host in networks that must not meet (a router belongs under gateways:, a planned host under multi_homed.allowed_macs)",
                evidence: [("mac", .mac(mac)),
                           ("first_zone", .text(zones.label(other))), ("first_seen_via", .text(how(i))),
                           ("second_zone", .text(zones.label(zone))), ("second_seen_via", .text(how(newest)))],
                key: FindingKey(sid: Self.metadata.sid, first: IPAddress(high: 0, low: mac.rawValue), detail: bit)))
        }
    }
}
