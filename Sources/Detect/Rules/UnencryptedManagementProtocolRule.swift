import Inspect
import Vocabulary
import Zones

/// 2003: a management host serves a management protocol in clear (HTTP,
/// WinRM on 5985, vboxwebsrv, CIM 5988, libvirt on 16509, telnet, FTP, authd
/// without SSL), seen from the server's own answer, even before any login.
/// An HTTP redirect to HTTPS is not serving in clear.
public final class UnencryptedManagementProtocolRule: Rule {
    public static let metadata = RuleMetadata(
        sid: 2003, name: "unencrypted-management-protocol", defaultSeverity: .medium,
        measurePoint: "admin interfaces encrypted",
        summary: "a management host serves HTTP (WinRM, CIM, XAPI ...), libvirt RPC, telnet, FTP or authd logins in clear, even before any login")
    public static let hooks: RuleHooks = .appEvent
    public init(_ setup: RuleSetup) {}

    public func appEvent(_ e: FlowEvent, _ app: AppEvent, _ findings: inout [Finding]) {
        guard case .cleartextService(let proto, let detail) = app, e.infrastructureDestinationRole == .management else { return }
        findings.append(Finding(
            message: "management host \(e.responderEndpoint) (zone \(e.zoneName(e.effectiveDestinationZone))) serves \(detail) in clear on \(e.service)",
            evidence: [("protocol", .text(proto)), ("service", .service(e.service))],
            key: FindingKey(sid: Self.metadata.sid, first: e.responder, detail: UInt64(e.ipProtocol.rawValue) << 16 | UInt64(e.responderPort)),
            lowerSeverity: e.insideManagement))
    }
}
