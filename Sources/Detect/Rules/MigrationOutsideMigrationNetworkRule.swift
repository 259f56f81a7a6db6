import Inspect
import Vocabulary
import Zones

/// 3001: live-migration traffic whose segment or endpoints are not in a
/// migration zone. Found by port (vMotion 8000, FT logging, Hyper-V 6600, the
/// QEMU and Proxmox ranges, xend 8002 ...) between two infrastructure hosts, or
/// by a migration stream's signature between any hosts. A guest reaching a
/// migration zone is rule 1003's finding.
public final class MigrationOutsideMigrationNetworkRule: Rule {
    public static let metadata = RuleMetadata(
        sid: 3001, name: "migration-outside-migration-network", defaultSeverity: .high,
        measurePoint: "migration network separated",
        summary: "live-migration traffic whose segment or an endpoint is not in a migration zone: by port between two infrastructure hosts (vMotion 8000, FT logging 8100/8200/8300, Hyper-V 6600, QEMU 49152-49216, Proxmox 60000-60050, xend 8002/8003, NBD 10809), or by a stream's signature between any hosts; a vMotion or FT VMkernel interface the inventory names seen outside a migration zone")
    public static let hooks: RuleHooks = [.flowStart, .appEvent, .oncePerFlow]
    private let guestRuleBit: UInt64

    public init(_ setup: RuleSetup) {
        guestRuleBit = setup.firedBit(sid: GuestToMigrationRule.metadata.sid)
    }

    public func flowStarted(_ e: FlowEvent, _ findings: inout [Finding]) {
        InfrastructureTraffic.misplacedVMkernels(e, serving: .migration, wrong: { $0 != .migration }, sid: Self.metadata.sid, network: "migration", &findings)
        guard e.hasPorts, let service = e.zones.services.lookup(.migration, e.ipProtocol, e.responderPort) else { return }
        // By port only between two infrastructure hosts: 8000 or 49152+ between guests is something else.
        guard InfrastructureTraffic.infrastructureEndpoints(e) == 2 else { return }
        report(InfrastructureEvent(proto: service.name, product: service.product, detail: "port \(e.service) (\(service.name))"), e, &findings)
    }

    public func appEvent(_ e: FlowEvent, _ app: AppEvent, _ findings: inout [Finding]) {
        guard case .migration(let ev) = app else { return }
        report(ev, e, &findings)
    }

    private func report(_ ev: InfrastructureEvent, _ e: FlowEvent, _ findings: inout [Finding]) {
        guard e.record.firedRules & guestRuleBit == 0, let outside = InfrastructureTraffic.outside(.migration, e) else { return }
        findings.append(Finding(
            message: "\(InfrastructureTraffic.productPrefix(ev))live migration (\(ev.detail)) from \(e.initiatorEndpoint) to \(e.responderEndpoint) outside the migration network: \(outside)",
            evidence: InfrastructureTraffic.evidence(ev, outside: outside),
            key: e.key(sid: Self.metadata.sid)))
    }
}
