import Decode
import Vocabulary
import Zones

/// 6002: IP traffic between two zones in a frame that no declared gateway
/// sent or receives: it crossed the zone boundary without passing the
/// firewall (routed inside a hypervisor, two subnets on one VLAN, a VM with
/// a leg in each network). Where gateways name the zones they route between,
/// traffic between those zones must pass one of them. Judged on the first
/// frame of each flow; only when the config declares gateways.
public final class GatewayBypassRule: Rule {
    public static let metadata = RuleMetadata(
        sid: 6002, name: "gateway-bypass", defaultSeverity: .high,
        measurePoint: "gateways cannot be bypassed",
        summary: "IP traffic between two zones in a frame that no declared gateway (for that pair, if any is dedicated to it) sent or receives")
    public static let hooks: RuleHooks = .flowStart
    public init(_ setup: RuleSetup) {}

    public func flowStarted(_ e: FlowEvent, _ findings: inout [Finding]) {
        guard e.zones.hasGateways, !e.isEthernet else { return }
        let p = e.packet.pointee
        // The MACs must be those of the frame carrying the IP packet, and both known.
        guard p.macsFrameInnermostPacket, p.destinationMAC != .zero, !p.destinationMAC.isGroup else { return }
        let a = e.sourceZone, b = e.destinationZone
        guard a != 0, b != 0, a != b else { return }
        let zones = e.zones
        if zones.isGateway(p.sourceMAC, between: a, and: b) || zones.isGateway(p.destinationMAC, between: a, and: b) { return }
        let dedicated = zones.gateways(between: a, and: b)
        func note(_ mac: MACAddress) -> Message {
            zones.gateway(forMAC: mac).map { " (gateway \($0.name), not one for these zones)" } ?? Message()
        }
        let expected: Message = dedicated.isEmpty
            ? "neither is a declared gateway's"
            : "the traffic did not pass \(dedicated.map(\.name).joined(separator: " or ")), declared for \(e.zoneName(a)) and \(e.zoneName(b))"
        let from = p.source == e.initiator ? (p.sourceMAC, p.destinationMAC) : (p.destinationMAC, p.sourceMAC)
        findings.append(Finding(
            message: "\(e.initiatorEndpoint) (\(e.zoneName(a))) -> \(e.responderEndpoint) (\(e.zoneName(b))) crossed zones in a frame from \(p.sourceMAC)\(note(p.sourceMAC)) to \(p.destinationMAC)\(note(p.destinationMAC)): \(expected)",
            evidence: [("src_mac", .mac(p.sourceMAC)), ("dest_mac", .mac(p.destinationMAC)),
                       ("expected_gateways", .text(dedicated.isEmpty ? zones.config.gateways.map(\.name).joined(separator: ", ") : dedicated.map(\.name).joined(separator: ", ")))],
            key: FindingKey(sid: Self.metadata.sid, first: IPAddress(high: 0, low: from.0.rawValue), second: IPAddress(high: 0, low: from.1.rawValue),
                                  detail: UInt64(a) << 16 | UInt64(b))))
    }
}
