import Inspect
import Vocabulary
import Zones

/// 4002: an iSCSI login reaches full-feature phase without authentication:
/// the target accepts `AuthMethod=None`, or the initiator skips the security
/// stage altogether. Discovery sessions are not counted.
public final class StorageWithoutAuthenticationRule: Rule {
    public static let metadata = RuleMetadata(
        sid: 4002, name: "storage-without-authentication", defaultSeverity: .high,
        measurePoint: "storage access authenticated",
        summary: "an iSCSI normal-session login completes with `AuthMethod=None`, or without a security stage")
    public static let hooks: RuleHooks = [.appEvent, .oncePerFlow]
    public init(_ setup: RuleSetup) {}

    public func appEvent(_ e: FlowEvent, _ app: AppEvent, _ findings: inout [Finding]) {
        guard case .storageWithoutAuthentication(let ev) = app else { return }
        findings.append(Finding(
            message: "\(ev.detail): \(e.initiatorEndpoint) reached target \(e.responderEndpoint) without authentication",
            evidence: [("protocol", .text(ev.proto))] + ev.evidence,
            key: e.key(sid: Self.metadata.sid)))
    }
}
