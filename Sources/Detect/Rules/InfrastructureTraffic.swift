import Flows
import Inspect
import Vocabulary
import Zones

/// Shared judgement of rules 3001 and 4001: does a flow stay inside the zones
/// of one role (migration, storage), and does it involve the virtual
/// infrastructure at all?
enum InfrastructureTraffic {
    static let infrastructureRoles: Set<Role> = [.management, .migration, .storage]

    /// The first element of the flow outside zones of `role`, described for the
    /// alert, or nil when the flow stays inside. A segment in no zone (untagged,
    /// a dedicated link) does not count against an IP flow; an address in no zone does.
    static func outside(_ role: Role, _ e: FlowEvent) -> Message? {
        if e.segmentZone != 0, e.segmentRole != role {
            return "the segment is zone \(e.zoneName(e.segmentZone)) (\(e.roleName(e.segmentZone)))"
        }
        // A broadcast or multicast (AoE query-config, FIP solicitations) is judged by its sender.
        let toGroup = e.isEthernet && MACAddress(rawValue: e.responder.low).isGroup
        if e.isEthernet && e.segmentZone == 0 && !(e.sourceRole == role && (e.destinationRole == role || toGroup)) {
            return "the frames are on a segment no \(role.rawValue) zone declares"
        }
        for (zone, who) in [(e.sourceZone, e.initiatorEndpoint), (e.destinationZone, e.responderEndpoint)] {
            if e.isEthernet && zone == 0 { continue }  // MACs are rarely declared: the segment decides
            if zone == 0 { return "\(who) is in no zone" }
            if e.zones.role(zone) != role { return "\(who) is in zone \(e.zoneName(zone)) (\(e.roleName(zone)))" }
        }
        return nil
    }

    /// How many endpoints are hypervisors, managers, storage or migration
    /// interfaces (an address in no zone counts by its segment).
    static func infrastructureEndpoints(_ e: FlowEvent) -> Int {
        [e.infrastructureSourceRole, e.infrastructureDestinationRole].filter { $0.map(infrastructureRoles.contains) ?? false }.count
    }

    /// The VMkernel interfaces of this flow (by the inventory) for `role`'s
    /// service whose own zone (the address's, else the segment's) has a role
    /// `wrong` calls so: vMotion on a guest VLAN. Each becomes a finding of the
    /// calling rule, once per interface (the key is its address). Flows without
    /// an inventory asset return at once.
    static func misplacedVMkernels(_ e: FlowEvent, serving role: Role, wrong: (Role) -> Bool, sid: Int, network: String, _ findings: inout [Finding]) {
        guard e.record.state & FlowState.infrastructureAsset != 0 else { return }
        let sides = [(e.initiatorAsset, e.sourceZone, e.initiator, e.initiatorEndpoint), (e.responderAsset, e.destinationZone, e.responder, e.responderEndpoint)]
        for (asset, addressZone, address, endpoint) in sides {
            guard let asset, asset.kind.isVMkernel, asset.kind.infrastructureRole == role else { continue }
            let zone = addressZone != 0 ? addressZone : e.segmentZone
            guard let zoneRole = e.zones.role(zone), wrong(zoneRole) else { continue }
            findings.append(Finding(
                message: "VMkernel interface \(asset.name) (\(asset.kind.rawValue), \(endpoint)) is in zone \(e.zoneName(zone)) (\(e.roleName(zone))): its service belongs on the \(network) network",
                evidence: [("interface", .text(asset.name)), ("kind", .text(asset.kind.rawValue)), ("host", .text(asset.host ?? "")),
                           ("zone", .text(e.zoneName(zone))), ("zone_role", .text(e.roleName(zone))), ("found_by", .text("inventory"))],
                key: FindingKey(sid: sid, first: address, detail: 0x564D_4B00)))
        }
    }

    /// Ethernet storage is a property of the segment: one finding per segment and
    /// EtherType, however many MAC pairs (and broadcasts) speak it.
    static func key(sid: Int, _ e: FlowEvent) -> FindingKey {
        guard e.isEthernet else { return e.key(sid: sid) }
        let segment = e.packet.pointee.segment
        return FindingKey(sid: sid, detail: UInt64(e.record.key.protocolNumber) | UInt64(segment.vlan) << 16 | UInt64(segment.vni) << 28)
    }

    /// "vmware live migration", but plain "live migration" for a protocol every product uses.
    static func productPrefix(_ ev: InfrastructureEvent) -> String {
        ev.product == "generic" || ev.product == "site" ? "" : ev.product + " "
    }

    static func evidence(_ ev: InfrastructureEvent, outside: Message) -> Evidence {
        [("protocol", .text(ev.proto)), ("product", .text(ev.product)), ("detected_by", .text(ev.detail)), ("outside", .text(outside.description))] + ev.evidence
    }
}
