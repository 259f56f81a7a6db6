import Vocabulary
import Zones

/// 1004: a management service of a management host is contacted from outside
/// the admin and management zones.
///
/// A guest client is rule 1001's (critical) case: when 1001 is enabled, 1004
/// leaves guests to it rather than report the same flow twice.
public final class ManagementExposedRule: Rule {
    public static let metadata = RuleMetadata(
        sid: 1004, name: "management-exposed", defaultSeverity: .high,
        measurePoint: "admin interfaces protected",
        summary: "a management service of a management host is contacted from a zone that is not admin or management")
    public static let hooks: RuleHooks = .flowStart
    private let guestRuleEnabled: Bool

    public init(_ setup: RuleSetup) {
        guestRuleEnabled = setup.enabledSIDs.contains(GuestToManagementRule.metadata.sid)
    }

    public func flowStarted(_ e: FlowEvent, _ findings: inout [Finding]) {
        guard e.hasPorts, e.infrastructureDestinationRole == .management else { return }
        guard let service = e.zones.services.lookup(.management, e.ipProtocol, e.responderPort) else { return }
        let source = e.infrastructureSourceRole
        if source == .admin || source == .management { return }
        // A guest reaching a management zone is rule 1001's; one reaching a host only the inventory calls management is this rule's.
        if source == .guest && guestRuleEnabled && e.effectiveDestinationRole == .management { return }
        guard !e.isAllowed else { return }
        let from: Message = e.sourceZone != 0 ? "zone \(e.zoneName(e.sourceZone))" : "an address in no zone"
        findings.append(Finding(
            message: "management service \(service.name) (\(e.service)) of \(e.responderEndpoint) in zone \(e.zoneName(e.effectiveDestinationZone)) contacted from \(from)",
            evidence: [("service", .service(e.service)), ("service_name", .text(service.name)), ("product", .text(service.product)),
                       ("client_role", .text(source?.rawValue ?? "none"))],
            key: e.key(sid: Self.metadata.sid)))
    }
}
