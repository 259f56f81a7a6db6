import Alerting
import Foundation
import Testing
import Zones

/// The configuration that puts the shared captures' servers into zones so
/// that the zone rules run on them (also used by scripts/alert-corpus).
let sharedConfigYAML = try! String(contentsOfFile: repoPath("Tests/Data/shared-captures.yaml"), encoding: .utf8)

@Suite("Shared captures through the whole pipeline", .enabled(if: sharedCaptures != nil, "../shared/captures is absent: skipping"))
struct SharedCaptureTests {
    static var files: [String] { sharedCaptureFiles }

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
