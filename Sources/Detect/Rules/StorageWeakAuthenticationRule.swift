import Alerting
import Zones

/// 4003: storage access with weak or no per-user authentication: NFS calls
/// carrying only AUTH_SYS or AUTH_NONE (the server trusts the claimed uid),
/// AoE (no authentication in the protocol), SMB sessions neither signed nor
/// encrypted. IP protocols count when an infrastructure host takes part.
public final class StorageWeakAuthenticationRule: Rule {
    public static let metadata = RuleMetadata(
        sid: 4003, name: "storage-weak-authentication", defaultSeverity: .medium,
        measurePoint: "storage access authenticated",
        summary: "NFS calls with AUTH_SYS/AUTH_NONE only, AoE (no authentication at all), unsigned SMB2/3 storage sessions")
    public static let hooks: RuleHooks = [.flowStart, .appEvent, .oncePerFlow]
    public init(_ setup: RuleSetup) {}

    public func flowStarted(_ e: FlowEvent, _ findings: inout [Finding]) {
        guard e.isEthernet, e.record.key.protocolNumber == 0x88A2 else { return }
        findings.append(Finding(
            message: "ATA over Ethernet between \(e.initiatorText) and \(e.responderText): the protocol has no authentication",
            evidence: [("protocol", .text("aoe"))],
            throttle: InfrastructureTraffic.throttleKey(sid: Self.metadata.sid, e)))
    }

    public func appEvent(_ e: FlowEvent, _ app: AppEvent, _ findings: inout [Finding]) {
        guard case .storageWeakAuthentication(let ev) = app, InfrastructureTraffic.infrastructureEndpoints(e) > 0 else { return }
        findings.append(Finding(
            message: "\(ev.detail): \(e.initiatorText) to \(e.responderText)",
            evidence: [("protocol", .text(ev.proto))] + ev.evidence,
            throttle: e.throttleKey(sid: Self.metadata.sid)))
    }
}
