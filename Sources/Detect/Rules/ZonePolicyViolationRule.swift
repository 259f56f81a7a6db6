import Vocabulary
import Zones

/// 1005: with `policy: default-deny`, a flow between two zones that no `allow`
/// entry covers. Flows another zone rule already reported are not reported
/// again; addresses in no zone are rule 7001's.
public final class ZonePolicyViolationRule: Rule {
    public static let metadata = RuleMetadata(
        sid: 1005, name: "zone-policy-violation", defaultSeverity: .medium,
        measurePoint: "communication planned",
        summary: "with `policy: default-deny`, a cross-zone flow no `allow` entry covers")
    public static let hooks: RuleHooks = .flowStart
    private let active: Bool
    /// The zone rules whose finding on a flow covers it (this rule runs after them).
    private let zoneRuleBits: UInt64

    public init(_ setup: RuleSetup) {
        active = setup.zones.config.policy == .defaultDeny
        let zoneRules: [any Rule.Type] = [GuestToManagementRule.self, GuestToStorageRule.self, GuestToMigrationRule.self, ManagementExposedRule.self]
        zoneRuleBits = zoneRules.reduce(UInt64(0)) { $0 | setup.firedBit(sid: $1.metadata.sid) }
    }

    public func flowStarted(_ e: FlowEvent, _ findings: inout [Finding]) {
        guard active, e.sourceZone != 0, e.destinationZone != 0, e.sourceZone != e.destinationZone else { return }
        guard e.record.firedRules & zoneRuleBits == 0, !e.isAllowed else { return }
        findings.append(Finding(
            message: "flow from \(e.zoneClause(e.sourceZone)) to \(e.zoneClause(e.destinationZone)) on \(e.service) is not in the allow list",
            evidence: [("service", .service(e.service)), ("policy", .text("default-deny"))],
            key: e.key(sid: Self.metadata.sid)))
    }
}
