import Vocabulary
import Zones

/// 1003: a guest reaches the live-migration network.
public final class GuestToMigrationRule: Rule {
    public static let metadata = RuleMetadata(
        sid: 1003, name: "guest-to-migration", defaultSeverity: .high,
        measurePoint: "migration network separated",
        summary: "a flow from a guest zone reaches a migration address or VLAN")
    public static let hooks: RuleHooks = .flowStart
    public init(_ setup: RuleSetup) {}

    public func flowStarted(_ e: FlowEvent, _ findings: inout [Finding]) {
        if let f = GuestReach.check(e, target: .migration, sid: Self.metadata.sid, roleWord: "migration") { findings.append(f) }
    }
}
