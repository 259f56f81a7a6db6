import Inspect
import Vocabulary
import Zones

/// 2005: a VM console (RFB/VNC, SPICE, VMConnect on 2179, VirtualBox VRDE) is
/// reached from a zone that is not admin or management. RDP counts as a VM
/// console only on a hypervisor (a management host) or VMConnect's port: a
/// Windows guest's own remote desktop is not a VM console.
public final class ConsoleExposedRule: Rule {
    public static let metadata = RuleMetadata(
        sid: 2005, name: "console-exposed", defaultSeverity: .high,
        measurePoint: "admin interfaces protected",
        summary: "a VM console (RFB, SPICE, VMConnect 2179, RDP/VRDE on a hypervisor) reached from a zone that is not admin or management")
    public static let hooks: RuleHooks = .appEvent
    public init(_ setup: RuleSetup) {}

    public func appEvent(_ e: FlowEvent, _ app: AppEvent, _ findings: inout [Finding]) {
        guard case .console(let proto, let detail) = app else { return }
        let client = e.effectiveSourceRole
        guard client != .admin && client != .management else { return }
        if proto == "rdp" && e.effectiveDestinationRole != .management && e.responderPort != 2179 { return }
        let from: Message = e.sourceZone != 0 ? "zone \(e.zoneName(e.sourceZone))" : "an address in no zone"
        findings.append(Finding(
            message: "VM console \(detail) on \(e.responderEndpoint):\(e.responderPort) reached from \(from)",
            evidence: [("protocol", .text(proto)), ("detail", .text(detail)), ("client_role", .text(client?.rawValue ?? "none"))],
            key: e.key(sid: Self.metadata.sid)))
    }
}
