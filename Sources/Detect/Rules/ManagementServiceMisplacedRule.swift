import Decode
import Vocabulary
import Zones

/// 1006: a hypervisor management service answers on an address or VLAN of a
/// guest, storage or migration zone (a management interface in the wrong zone).
///
/// Only services that only hypervisors, managers and BMCs serve count
/// (`distinctive` in the catalogue): guests run SSH and HTTPS servers too.
/// With an inventory, a management VMkernel interface seen in such a zone is
/// a finding by itself, whatever it serves.
public final class ManagementServiceMisplacedRule: Rule {
    public static let metadata = RuleMetadata(
        sid: 1006, name: "management-service-misplaced", defaultSeverity: .high,
        measurePoint: "management network separated",
        summary: "a hypervisor management service answers on an address or VLAN of a guest, storage or migration zone; with an inventory, a management VMkernel interface is seen in such a zone")
    public static let hooks: RuleHooks = [.flowStart, .firstReply]
    static let wrongRoles: Set<Role> = [.guest, .storage, .migration]

    public init(_ setup: RuleSetup) {}

    /// A management VMkernel interface (by the inventory) in a guest, storage or migration zone.
    public func flowStarted(_ e: FlowEvent, _ findings: inout [Finding]) {
        InfrastructureTraffic.misplacedVMkernels(e, serving: .management, wrong: Self.wrongRoles.contains, sid: Self.metadata.sid, network: "management", &findings)
    }

    public func firstReply(_ e: FlowEvent, _ findings: inout [Finding]) {
        guard e.hasPorts else { return }
        // A reset is a refusal, not an answer.
        let p = e.packet.pointee
        if p.ipProtocol == .tcp && p.tcpFlags & TCPFlags.rst != 0 { return }
        guard let service = e.zones.services.lookup(.management, e.ipProtocol, e.responderPort), service.distinctive else { return }
        let byAddress = e.destinationRole.map { Self.wrongRoles.contains($0) } ?? false
        let byVLAN = e.segmentRole.map { Self.wrongRoles.contains($0) } ?? false
        guard byAddress || byVLAN else { return }
        let zone = byAddress ? e.destinationZone : e.segmentZone
        let role = e.roleName(zone)
        findings.append(Finding(
            message: "\(service.product) management service \(service.name) (\(e.service)) answers on \(e.responderEndpoint) in \(role) zone \(e.zoneName(zone))",
            evidence: [("service", .service(e.service)), ("service_name", .text(service.name)), ("product", .text(service.product)),
                       ("placed_by", .text(byAddress ? "address" : "segment")), ("zone_role", .text(role))],
            key: FindingKey(sid: Self.metadata.sid, first: e.responder, detail: UInt64(e.ipProtocol.rawValue) << 16 | UInt64(e.responderPort))))
    }
}
