import Vocabulary
import Zones

/// 1001: a guest reaches the management network.
public final class GuestToManagementRule: Rule {
    public static let metadata = RuleMetadata(
        sid: 1001, name: "guest-to-management", defaultSeverity: .critical,
        measurePoint: "management network separated",
        summary: "a flow from a guest zone reaches a management address or VLAN")
    public static let hooks: RuleHooks = .flowStart
    public init(_ setup: RuleSetup) {}

    public func flowStarted(_ e: FlowEvent, _ findings: inout [Finding]) {
        if let f = GuestReach.check(e, target: .management, sid: Self.metadata.sid, roleWord: "management") { findings.append(f) }
    }
}
