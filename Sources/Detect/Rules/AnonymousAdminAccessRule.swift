import Inspect
import Vocabulary
import Zones

/// 2002: access without authentication, or anonymous authentication, accepted:
/// FTP anonymous, RFB security type None, a default SNMP community answered,
/// libvirt without authentication, IPMI with authentication type none or
/// cipher suite 0, an LDAP anonymous or unauthenticated bind.
public final class AnonymousAdminAccessRule: Rule {
    public static let metadata = RuleMetadata(
        sid: 2002, name: "anonymous-admin-access", defaultSeverity: .critical,
        measurePoint: "no anonymous access",
        summary: "anonymous FTP accepted, RFB security type None accepted, a vendor-default SNMP community answered, libvirt offering no authentication, IPMI auth type none or RMCP+ cipher suite 0, LDAP anonymous or unauthenticated bind accepted")
    public static let hooks: RuleHooks = .appEvent
    public init(_ setup: RuleSetup) {}

    public func appEvent(_ e: FlowEvent, _ app: AppEvent, _ findings: inout [Finding]) {
        guard case .anonymousAccess(let login) = app else { return }
        findings.append(Finding(
            message: "\(login.proto) access without authentication accepted (\(login.method))\(LoginEvidence.who(login)) on \(LoginEvidence.server(e))",
            evidence: LoginEvidence.evidence(login),
            key: LoginEvidence.key(sid: Self.metadata.sid, e, login),
            lowerSeverity: e.insideManagement))
    }
}
