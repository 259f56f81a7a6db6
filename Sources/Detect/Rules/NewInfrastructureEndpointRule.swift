import Vocabulary
import Zones

/// 7002: a hypervisor, manager, storage or migration endpoint (an address in
/// a management, storage or migration zone) not seen before. Live sensor
/// only: the endpoints seen are kept in a state file across restarts
/// (``EndpointMemory``). An initiator counts when its flow starts, a
/// responder when it answers: a scan of empty addresses reports nothing.
public final class NewInfrastructureEndpointRule: Rule {
    public static let metadata = RuleMetadata(
        sid: 7002, name: "new-infrastructure-endpoint", defaultSeverity: .low,
        measurePoint: "communication planned",
        summary: "live sensor: an address in a management, storage or migration zone not seen before (an initiator when its flow starts, a responder when it answers), remembered in `--state-file` across restarts; a first start learns for `sensor.baseline_seconds` before reporting")
    public static let hooks: RuleHooks = [.flowStart, .firstReply, .sharedMemory]
    static let roles: Set<Role> = [.management, .storage, .migration]
    private let memory: EndpointMemory?
    /// Addresses this thread already knows to be remembered: most flows cost no lock.
    private var known = Set<IPAddress>()

    public init(_ setup: RuleSetup) { memory = setup.endpointMemory }

    public func flowStarted(_ e: FlowEvent, _ findings: inout [Finding]) {
        check(e.initiator, zone: e.sourceZone, e, &findings)
    }

    public func firstReply(_ e: FlowEvent, _ findings: inout [Finding]) {
        check(e.responder, zone: e.destinationZone, e, &findings)
    }

    private func check(_ address: IPAddress, zone: ZoneID, _ e: FlowEvent, _ findings: inout [Finding]) {
        guard let memory, !e.isEthernet, let role = e.zones.role(zone), Self.roles.contains(role) else { return }
        guard known.count < 1 << 20, known.insert(address).inserted else { return }
        let name = e.zoneName(zone)
        guard memory.remember(address, zone: name) else { return }
        findings.append(Finding(
            message: "new \(role.rawValue) endpoint \(address) in zone \(name), not seen before",
            evidence: [("address", .address(address)), ("zone", .text(name)), ("role", .text(role.rawValue))],
            key: FindingKey(sid: Self.metadata.sid, first: address)))
    }
}
