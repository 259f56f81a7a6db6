import Alerting
import Foundation
import Testing
import Zones

/// A config that puts the shared captures' servers into zones so that the zone
/// rules run on them.
let sharedConfigYAML = """
    zones:
      mgmt:   { role: management, vlans: [10, 123], subnets: [192.168.10.188/32, 199.233.217.249/32, "2001:470:4867:99::21/128", 127.0.0.0/8, 10.0.0.2/32, 192.168.2.0/24, 172.31.19.73/32] }
      guests: { role: guest, vlans: [20, 42, 3399, 3199], vnis: [123], subnets: [192.168.0.0/16, 10.0.0.0/24, 141.142.0.0/16] }
      storage: { role: storage, subnets: [10.0.3.0/24, 10.111.131.0/24] }
      internet: { role: external, subnets: [public] }
      underlay: { role: transport, vlans: [40] }
    # Gateways, so that every real capture also runs through the gateway-bypass rule.
    gateways:
      - { name: gw, macs: ["00:00:5e:00:01:01"], zones: [mgmt, guests] }
    rules:
      unknown-address: off
    """

@Suite("Shared captures through the whole pipeline", .enabled(if: sharedCaptures != nil, "../shared/captures is absent: skipping"))
struct SharedCaptureTests {
    static var files: [String] {
        guard let dir = sharedCaptures else { return [] }
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [])
            .filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted()
    }

    @Test(arguments: files)
    func analysedWithoutCrash(file: String) throws {
        let config = try ZoneConfig.parse(yaml: sharedConfigYAML, file: "shared.yaml")
        let result = try analyze(config: config, [sharedCaptures!.appendingPathComponent(file).path])
        if ["nflog-http.pcap", "radiotap-80211.pcap", "fddi-dns-inverse-query.pcap"].contains(file) {
            #expect(result.errors.map(\.kind) == [.unsupportedLinkType])
        } else {
            #expect(result.errors.isEmpty, "\(file): \(result.errors)")
            #expect(result.pipeline.statistics.packets > 0)
        }
    }

    @Test func vlanCollisionsAreThreeFlows() throws {
        let config = try ZoneConfig.parse(yaml: sharedConfigYAML, file: "shared.yaml")
        let result = try analyze(config: config, [sharedCaptures!.appendingPathComponent("vlan-collisions-mixed-tagging.pcap").path])
        // One HTTP 5-tuple untagged, on VLAN 42 and on 10/20: three flows (plus nothing else in the trace).
        #expect(result.pipeline.flows.statistics.created == 3)
    }

    @Test func decodeErrorsAreCountedByLayer() throws {
        let config = try ZoneConfig.parse(yaml: sharedConfigYAML, file: "shared.yaml")
        let paths = ["trunc-ip4.pcap", "trunc-ip6.pcap", "ip-bogus-header-len.pcap"].map { sharedCaptures!.appendingPathComponent($0).path }
        let result = try analyze(config: config, paths)
        let counts = Dictionary(uniqueKeysWithValues: result.pipeline.statistics.anomalyCounts.map { ($0.name, $0.count) })
        #expect(counts == ["decode.ipv4.truncated": 1, "decode.ipv4.zero_total_length": 1, "decode.ipv6.truncated": 1])
        #expect(result.pipeline.statistics.decodeErrorsByLayer.map(\.layer) == ["ipv4", "ipv6"])
    }

    @Test func guestToManagementOnSharedCaptures() throws {
        let config = try ZoneConfig.parse(yaml: sharedConfigYAML, file: "shared.yaml")
        // 192.168.10.132 (guest) logs in to the FTP server 192.168.10.188 (management).
        let result = try analyze(config: config, [sharedCaptures!.appendingPathComponent("ftp-login-failed-admin.pcap").path])
        // Host to host on one LAN, past the declared gateway: 6002 too.
        #expect(result.alerts.map(\.sid) == [1001, 6002, 2003, 2001])
        #expect(result.alerts.first?.destinationPort == 21)
    }
}
