import Alerting
import Zones

/// 1005: with `policy: default-deny`, a flow between two zones that no `allow`
/// entry covers. Flows another zone rule already reported are not reported
/// again; addresses in no zone are rule 7001's.
public final class ZonePolicyViolationRule: Rule {
    public static let metadata = RuleMetadata(
        sid: 1005, name: "zone-policy-violation", defaultSeverity: .medium,
        measurePoint: "communication planned",
        summary: "with policy: default-deny, a cross-zone flow no allow entry covers")
    public static let hooks: RuleHooks = .flowStart
    private let active: Bool
    static let zoneRuleSIDs: Set<Int> = [1001, 1002, 1003, 1004]

    public init(_ setup: RuleSetup) {
        active = setup.zones.config.policy == .defaultDeny
    }

    public func flowStarted(_ e: FlowEvent, _ findings: inout [Finding]) {
        guard active, e.sourceZone != 0, e.destinationZone != 0, e.sourceZone != e.destinationZone else { return }
        guard !findings.contains(where: { Self.zoneRuleSIDs.contains($0.throttle.sid) }), !e.isAllowed else { return }
        findings.append(Finding(
            message: "flow from zone \(e.zoneName(e.sourceZone)) to zone \(e.zoneName(e.destinationZone)) on \(e.serviceText) is not in the allow list",
            evidence: [("service", .text(e.serviceText)), ("policy", .text("default-deny"))],
            throttle: e.throttleKey(sid: Self.metadata.sid)))
    }
}
