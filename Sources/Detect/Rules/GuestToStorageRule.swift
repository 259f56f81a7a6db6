import Vocabulary
import Zones

/// 1002: a guest reaches the storage network.
public final class GuestToStorageRule: Rule {
    public static let metadata = RuleMetadata(
        sid: 1002, name: "guest-to-storage", defaultSeverity: .high,
        measurePoint: "storage network separated",
        summary: "a flow from a guest zone reaches a storage address or VLAN")
    public static let hooks: RuleHooks = .flowStart
    public init(_ setup: RuleSetup) {}

    public func flowStarted(_ e: FlowEvent, _ findings: inout [Finding]) {
        if let f = GuestReach.check(e, target: .storage, sid: Self.metadata.sid, roleWord: "storage") { findings.append(f) }
    }
}
