import Vocabulary
import Zones

/// 7001: an address that is in no zone. Multicast, broadcast, unspecified,
/// loopback and link-local addresses belong to no host and are not reported.
/// Reported once per address (per throttle window).
public final class UnknownAddressRule: Rule {
    public static let metadata = RuleMetadata(
        sid: 7001, name: "unknown-address", defaultSeverity: .low,
        measurePoint: "communication planned",
        summary: "an address in no zone")
    public static let hooks: RuleHooks = .flowStart
    public init(_ setup: RuleSetup) {}

    public func flowStarted(_ e: FlowEvent, _ findings: inout [Finding]) {
        guard !e.isEthernet else { return }
        check(e.initiator, zone: e.sourceZone, side: "source", &findings)
        if e.responder != e.initiator { check(e.responder, zone: e.destinationZone, side: "destination", &findings) }
    }

    private func check(_ address: IPAddress, zone: ZoneID, side: String, _ findings: inout [Finding]) {
        guard zone == 0, !address.isSpecialPurpose else { return }
        findings.append(Finding(
            message: "\(side) address \(address) is in no zone",
            evidence: [("address", .address(address)), ("side", .text(side))],
            key: FindingKey(sid: Self.metadata.sid, first: address)))
    }
}
