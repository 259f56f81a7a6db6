import Inspect
import Vocabulary
import Zones

/// 2001: credentials sent in clear (telnet, rlogin, rsh, FTP and authd
/// USER/PASS, HTTP Basic, LDAP simple bind, SNMP v1/v2c communities, VeNCrypt
/// Plain, IPMI 1.5 straight password), on any port and in any zone: a guest's
/// telnet server is as much a finding as a host's. One level lower when both
/// ends are in management zones.
public final class CleartextAdminLoginRule: Rule {
    public static let metadata = RuleMetadata(
        sid: 2001, name: "cleartext-admin-login", defaultSeverity: .high,
        measurePoint: "authentication data encrypted",
        summary: "credentials (or trust-based r-command logins) sent in clear: telnet, rlogin, rsh, FTP and VMware authd USER/PASS, HTTP Basic (also WinRM on 5985), LDAP simple bind and SASL PLAIN, SNMP v1/v2c community, VeNCrypt Plain, IPMI 1.5 straight password")
    public static let hooks: RuleHooks = .appEvent
    public init(_ setup: RuleSetup) {}

    public func appEvent(_ e: FlowEvent, _ app: AppEvent, _ findings: inout [Finding]) {
        guard case .login(let login) = app else { return }
        let cleartext = switch login.credential {
        case .cleartext, .cleartextUnattributed: "credentials sent in clear"
        case .none: "user names sent in clear, no password"
        }
        findings.append(Finding(
            message: "\(LoginEvidence.phrase(e, login)): \(cleartext)",
            evidence: LoginEvidence.evidence(login),
            key: LoginEvidence.key(sid: Self.metadata.sid, e, login),
            lowerSeverity: e.insideManagement))
    }
}
