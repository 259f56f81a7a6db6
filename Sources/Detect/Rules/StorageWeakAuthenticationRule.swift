import Decode
import Inspect
import Vocabulary
import Zones

/// 4003: storage access with weak or no per-user authentication: NFS calls
/// carrying only AUTH_SYS or AUTH_NONE (the server trusts the claimed uid),
/// AoE (no authentication in the protocol), SMB sessions neither signed nor
/// encrypted. IP protocols count when an infrastructure host takes part.
public final class StorageWeakAuthenticationRule: Rule {
    public static let metadata = RuleMetadata(
        sid: 4003, name: "storage-weak-authentication", defaultSeverity: .medium,
        measurePoint: "storage access authenticated",
        summary: "NFS calls with AUTH_SYS/AUTH_NONE only, AoE (no authentication at all), SMB2/3 sessions neither signed nor encrypted")
    public static let hooks: RuleHooks = [.flowStart, .appEvent, .oncePerFlow]
    public init(_ setup: RuleSetup) {}

    public func flowStarted(_ e: FlowEvent, _ findings: inout [Finding]) {
        guard e.isEthernet, e.etherType == .aoe else { return }
        findings.append(Finding(
            message: "ATA over Ethernet between \(e.initiatorEndpoint) and \(e.responderEndpoint): the protocol has no authentication",
            evidence: [("protocol", .text("aoe"))],
            key: InfrastructureTraffic.key(sid: Self.metadata.sid, e)))
    }

    public func appEvent(_ e: FlowEvent, _ app: AppEvent, _ findings: inout [Finding]) {
        guard case .storageWeakAuthentication(let ev) = app, InfrastructureTraffic.infrastructureEndpoints(e) > 0 else { return }
        findings.append(Finding(
            message: "\(ev.detail): \(e.initiatorEndpoint) to \(e.responderEndpoint)",
            evidence: [("protocol", .text(ev.proto))] + ev.evidence,
            key: e.key(sid: Self.metadata.sid)))
    }
}
