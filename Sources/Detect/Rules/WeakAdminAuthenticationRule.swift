import Inspect
import Vocabulary
import Zones

/// 2004: authentication that protects the secret weakly: VNC password
/// authentication without TLS, SPICE without TLS, RDP standard security, IPMI
/// 1.5 MD2/MD5, SNMPv3 noAuthNoPriv, TLS 1.0/1.1 (or SSL 3.0) on a management service.
public final class WeakAdminAuthenticationRule: Rule {
    public static let metadata = RuleMetadata(
        sid: 2004, name: "weak-admin-authentication", defaultSeverity: .medium,
        measurePoint: "authentication data encrypted",
        summary: "VNC password authentication without TLS, SPICE without TLS, RDP standard security, IPMI 1.5 MD2/MD5, SNMPv3 noAuthNoPriv, SSL 3.0/TLS 1.0/1.1 on a management service")
    public static let hooks: RuleHooks = .appEvent
    public init(_ setup: RuleSetup) {}

    public func appEvent(_ e: FlowEvent, _ app: AppEvent, _ findings: inout [Finding]) {
        guard case .weakAuthentication(let login) = app else { return }
        findings.append(Finding(
            message: "weak protection of the login: \(login.method)\(LoginEvidence.who(login)) on \(LoginEvidence.server(e))",
            evidence: LoginEvidence.evidence(login),
            key: LoginEvidence.key(sid: Self.metadata.sid, e, login),
            lowerSeverity: e.insideManagement))
    }
}
