import Alerting
import CaptureBuilder
import Foundation
import Testing

/// A `qinq` or `vlan` fact of `../shared/captures/expected.json`: the tag stack of a capture.
struct TagFact: CustomStringConvertible, Sendable {
    let file: String
    let kind: String
    let vlans: [Int]
    var description: String { "\(file) \(vlans)" }
}

let sharedTagFacts: [TagFact] = {
    guard let dir = sharedCaptures, let data = try? Data(contentsOf: dir.appendingPathComponent("expected.json")),
          let entries = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] else { return [] }
    return entries.flatMap { entry in
        (entry["facts"] as! [[String: Any]]).compactMap { f -> TagFact? in
            guard let kind = f["kind"] as? String, kind == "qinq" || kind == "vlan", let vlans = f["vlan"] as? [Int] else { return nil }
            return TagFact(file: entry["file"] as! String, kind: kind, vlans: vlans)
        }
    }
}()

/// Runs the binary with a zone that declares the fact's innermost VLAN, with or without its outer VLANs in `outer_vlans`.
func tagAlerts(_ fact: TagFact, declareOuter: Bool) throws -> [[String: Any]] {
    let outer = declareOuter && fact.vlans.count > 1 ? ", outer_vlans: [\(fact.vlans.dropLast().map(String.init).joined(separator: ", "))]" : ""
    let yaml = "zones:\n  tenant: { role: guest, vlans: [\(fact.vlans.last!)]\(outer) }\nrules:\n  unknown-address: off\n  undeclared-vlan: off\n"
    let config = temporaryDirectory().appendingPathComponent("qinq.yaml").path
    try yaml.write(toFile: config, atomically: true, encoding: .utf8)
    let r = try zonewarden(["analyze", "-c", config, "--format", "eve", sharedCaptures!.appendingPathComponent(fact.file).path])
    #expect(r.status == 0, "\(r.stderr)")
    return try r.stdoutLines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
}

@Suite("Shared captures: QinQ and double tags against outer_vlans",
       .enabled(if: sharedCaptures != nil, "../shared/captures is absent: skipping"))
struct SharedTagFactsTests {
    /// Undeclared, every stacked capture raises 5001 naming its tags; declared, none does; single tags never.
    @Test(arguments: sharedTagFacts)
    func doubleTagging(_ fact: TagFact) throws {
        let undeclared = try tagAlerts(fact, declareOuter: false).filter { $0.sid == 5001 }
        if fact.vlans.count > 1 {
            let stack = fact.vlans.map(String.init).joined(separator: " > ")
            #expect(!undeclared.isEmpty, "\(fact)")
            #expect(undeclared.contains { ($0.evidence["tags"] as? String)?.replacing(#/\s\(0x[0-9a-f]+\)/#, with: "") == stack },
                    "\(fact): \(undeclared.map { $0.evidence["tags"] ?? "-" })")
            #expect(undeclared.contains { $0.evidence["outer_vlan"] as? Int == fact.vlans[0] && $0.evidence["inner_vlan"] as? Int == fact.vlans.last! })
            #expect(try tagAlerts(fact, declareOuter: true).filter { $0.sid == 5001 }.isEmpty, "\(fact): declared QinQ")
        } else {
            // Other frames of the same file may be stacked; none of this VLAN's.
            #expect(!undeclared.contains { $0.evidence["inner_vlan"] as? Int == fact.vlans[0] }, "\(fact): a single tag")
        }
    }

    @Test func theTagFactsAreAllRead() {
        #expect(sharedTagFacts.filter { $0.kind == "qinq" }.count >= 4 && sharedTagFacts.contains { $0.vlans.count == 3 })
    }
}

@Suite("Layer-2 rules: evidence")
struct Layer2EvidenceTests {
    static let config = "config/examples/layer2.yaml"

    @Test func doubleTagging() throws {
        let alerts = try analyze(configPath: Self.config, [repoPath("Captures/vlan-double-tagging.pcap")]).alerts.filter { $0.sid == 5001 }
        #expect(alerts.map { $0.evidence("tags")?.stringValue } == ["100 (0x8100) > 10 (0x8100)", "300 (0x88a8) > 101 (0x8100)",
                                                                    "102 (0x8100) > 20 (0x8100)", "100 (0x8100) > 10 (0x8100)"])
        #expect(alerts[0].evidence("src_mac")?.stringValue == ("02:00:c0:a8:64:0a") && alerts[0].destinationZone == "mgmt")
        #expect(alerts[2].sourceIP == nil, "the ARP frame has no flow")
        #expect(alerts[3].evidence("inside")?.stringValue == ("vxlan"))
    }

    @Test func sharedLinkCounts() throws {
        let alert = try #require(try analyze(configPath: Self.config, [repoPath("Captures/management-vlan-shared-link.pcap")]).alerts.first)
        #expect(alert.sid == 5003 && alert.evidence("link")?.stringValue == ("management-vlan-shared-link.pcap"))
        #expect(alert.evidence("management_vlans")?.stringValue == ("10") && alert.evidence("guest_vlans")?.stringValue == ("100, 101"))
        #expect(alert.evidence("management_frames") == .number(8) && alert.evidence("guest_frames") == .number(12))
        // Two files are two links: one finding each, though the second file alone would not raise it.
        let two = try analyze(configPath: Self.config, [repoPath("Captures/management-vlan-shared-link.pcap"), repoPath("Captures/management-vlan-shared-link-ok.pcap")])
        #expect(two.alerts.filter { $0.sid == 5003 }.count == 1)
    }

    @Test func overlays() throws {
        let alerts = try analyze(configPath: Self.config, [repoPath("Captures/overlay-misplaced.pcap")]).alerts.filter { $0.sid == 5004 }
        #expect(alerts.map { ($0.evidence("misplaced_endpoint") ?? $0.evidence("vni_zone"))?.stringValue } == ["192.168.100.70", "guests", "10.10.0.11"])
    }

    /// GRE carrying a protocol the decoder does not follow (0x8909 here) is
    /// still a tunnel between its endpoints for 5004, and counted as a decode
    /// anomaly; between two transport-zone endpoints it is fine.
    @Test func greWithAnUnknownPayloadIsATunnel() throws {
        let s = CaptureScript()
        let guest = CaptureBuilder.Host("192.168.100.70"), underlay = CaptureBuilder.Host("10.40.0.1"), underlay2 = CaptureBuilder.Host("10.40.0.2")
        let gre: [UInt8] = [0x00, 0x00, 0x89, 0x09] + [UInt8](repeating: 0xAB, count: 20)
        for _ in 0..<3 {
            s.append(s.ipPacket(from: guest, to: underlay, proto: 47, transport: gre, wire: Wire(tags: [Frames.dot1q(100)])))
            s.append(s.ipPacket(from: underlay, to: underlay2, proto: 47, transport: gre, wire: Wire(tags: [Frames.dot1q(40)])))
        }
        let capture = temporaryDirectory().appendingPathComponent("gre-unknown.pcap").path
        try s.write(to: capture)
        let result = try analyze(configPath: "config/example.yaml", [capture])
        let alerts = result.alerts.filter { $0.sid == 5004 }
        #expect(alerts.map { $0.evidence("misplaced_endpoint")?.stringValue } == ["192.168.100.70"], "\(result.alerts.map(\.sid))")
        #expect(alerts.first?.evidence("tunnel")?.stringValue == "gre")
        #expect(result.pipeline.statistics.anomalyCounts.map(\.name) == ["decode.gre.unknown_payload"])
        #expect(result.pipeline.statistics.anomalyCounts.first?.count == 6)
    }

    @Test func multiHomedEvidence() throws {
        let alerts = try analyze(configPath: Self.config, [repoPath("Captures/multi-homed-host.pcap")]).alerts.filter { $0.sid == 6001 }
        let seen = alerts.map { "\($0.evidence("mac")!.plainText) \($0.evidence("first_seen_via")!.plainText) | \($0.evidence("second_seen_via")!.plainText)" }
        #expect(seen == [
            "02:aa:00:00:00:01 192.168.100.70 on VLAN 100 | 10.10.0.70 on VLAN 10",
            "02:aa:00:00:00:02 10.20.0.99 on VLAN 100 | VLAN 100",
            "02:aa:00:00:00:03 10.30.0.77 on VLAN 100 | VLAN 100",
            "02:aa:00:00:00:04 fd00:100::70 on VLAN 10 | VLAN 10",
            "02:00:0a:0a:00:15 10.10.0.21 on VLAN 10 | 10.20.0.21 on VLAN 20",
        ])
        // Without multi_homed.forbidden's management-storage pair, the KVM host is fine.
        var yaml = try String(contentsOfFile: repoPath(Self.config), encoding: .utf8)
        yaml = yaml.replacingOccurrences(of: ", [management, storage]]", with: "]")
        let path = temporaryDirectory().appendingPathComponent("defaults.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let defaults = try zonewarden(["analyze", "-c", path, "--format", "eve", repoPath("Captures/multi-homed-host.pcap")])
        #expect(defaults.stdoutLines.filter { $0.contains("\"signature_id\":6001") }.count == 4)
    }

    @Test func gatewayBypassExplainsTheMACs() throws {
        let alerts = try analyze(configPath: Self.config, [repoPath("Captures/gateway-bypass.pcap")]).alerts.filter { $0.sid == 6002 }
        #expect(alerts.count == 3)
        #expect(alerts[1].message.description.contains("00:1b:21:aa:bb:cc (gateway fw-core, not one for these zones)") && alerts[1].message.description.contains("did not pass fw-mgmt"))
        #expect(alerts[1].evidence("expected_gateways")?.stringValue == ("fw-mgmt"))
        #expect(alerts[2].evidence("dest_mac")?.stringValue == ("02:bb:00:00:00:01"))
        // Without gateways in the config there is nothing to bypass.
        let none = try analyze(configPath: "config/examples/site-roles.yaml", [repoPath("Captures/gateway-bypass.pcap")])
        #expect(!none.alerts.contains { $0.sid == 6002 })
    }
}
