import Alerting
import CaptureBuilder
import Foundation
import Testing
import Zones

/// What each example capture under Captures/ must raise with its config: (sid, source, destination), in order.
let expectedAlerts: [String: [(Int, String, String)]] = [
    "guest-to-management": [(1001, "192.168.100.10", "10.10.0.5"), (1001, "192.168.100.11", "10.60.0.9")],
    "guest-to-management-ok": [],
    "guest-to-storage": [(1002, "192.168.100.10", "10.20.0.10")],
    "guest-to-storage-ok": [],
    "guest-to-migration": [(1003, "192.168.100.10", "10.30.0.11")],
    "guest-to-migration-ok": [],
    "management-exposed": [(1004, "10.50.0.5", "10.10.0.11"), (1004, "10.50.0.5", "10.10.0.11"), (1004, "203.0.113.50", "10.10.0.5")],
    "management-exposed-ok": [(1001, "192.168.100.10", "10.10.0.5")],
    "zone-policy-violation": [(1005, "10.50.0.5", "192.168.100.10")],
    "zone-policy-violation-ok": [],
    "management-service-misplaced": [(1006, "10.99.0.20", "192.168.100.50"), (1006, "10.10.0.12", "10.20.0.11")],
    "management-service-misplaced-ok": [],
    "undeclared-vlan": [(5002, "192.168.100.10", "192.168.100.11"), (5002, "192.168.100.10", "192.168.100.11")],
    "undeclared-vlan-ok": [],
    "unknown-address": [(7001, "192.168.100.10", "10.77.0.5")],
    "unknown-address-ok": [],
    "cleartext-admin-login": [(2003, "10.99.0.20", "10.10.0.11"), (2001, "10.99.0.20", "10.10.0.11"), (2001, "10.50.0.5", "10.50.0.21"), (1001, "192.168.100.10", "10.10.0.5"), (2003, "192.168.100.10", "10.10.0.5"), (2001, "192.168.100.10", "10.10.0.5"), (2001, "10.99.0.20", "10.10.0.21"), (2001, "10.99.0.20", "10.10.0.12"), (2001, "10.99.0.20", "10.50.0.10"), (1004, "10.50.0.5", "10.10.0.12"), (2001, "10.50.0.5", "10.10.0.12"), (2001, "10.99.0.20", "10.10.0.21"), (2001, "10.99.0.20", "10.10.0.31"), (1004, "10.50.0.5", "10.10.0.11"), (2003, "10.50.0.5", "10.10.0.11"), (2001, "10.50.0.5", "10.10.0.11"), (2003, "10.99.0.20", "10.10.0.41"), (2001, "10.99.0.20", "10.10.0.41")],
    "cleartext-admin-login-ok": [],
    "anonymous-admin-access": [(2002, "192.168.100.10", "10.50.0.21"), (2002, "10.99.0.20", "10.10.0.21"), (1004, "10.50.0.5", "10.10.0.12"), (2001, "10.50.0.5", "10.10.0.12"), (2002, "10.50.0.5", "10.10.0.12"), (2003, "10.99.0.20", "10.10.0.21"), (2002, "10.99.0.20", "10.10.0.21"), (2002, "10.99.0.20", "10.10.0.31"), (2002, "10.99.0.20", "10.10.0.31"), (2002, "192.168.100.10", "10.50.0.10")],
    "anonymous-admin-access-ok": [(2003, "10.99.0.20", "10.10.0.21")],
    "unencrypted-management-protocol": [(2003, "10.99.0.20", "10.10.0.5"), (2003, "10.99.0.20", "10.10.0.11"), (2003, "10.99.0.20", "10.10.0.21")],
    "unencrypted-management-protocol-ok": [],
    "weak-admin-authentication": [(2004, "10.99.0.20", "10.10.0.21"), (2004, "10.99.0.20", "10.10.0.21"), (2004, "10.99.0.20", "10.10.0.41"), (2004, "10.99.0.20", "10.10.0.31"), (1004, "10.50.0.5", "10.10.0.12"), (2004, "10.50.0.5", "10.10.0.12"), (2004, "10.99.0.20", "10.10.0.5")],
    "weak-admin-authentication-ok": [(1004, "10.50.0.5", "10.10.0.12")],
    "console-exposed": [(1001, "192.168.100.10", "10.10.0.21"), (2005, "192.168.100.10", "10.10.0.21"), (2004, "192.168.100.10", "10.10.0.21"), (1001, "192.168.100.10", "10.10.0.41"), (2005, "192.168.100.10", "10.10.0.41"), (2005, "10.50.0.5", "10.10.0.21"), (2004, "10.50.0.5", "10.10.0.21")],
    "console-exposed-ok": [],
    "migration-outside-migration-network": [(3001, "10.10.0.11", "10.10.0.12"), (3001, "10.10.0.41", "10.10.0.42"), (3001, "10.10.0.21", "10.10.0.22"), (3002, "10.10.0.21", "10.10.0.22"), (3001, "10.20.0.21", "10.20.0.20"), (3002, "10.20.0.21", "10.20.0.20"), (3001, "10.10.0.51", "10.10.0.52"), (3002, "10.10.0.51", "10.10.0.52"), (3001, "10.10.0.51", "10.10.0.52"), (3002, "10.10.0.51", "10.10.0.52"), (3001, "10.10.0.21", "10.10.0.22"), (3002, "10.10.0.21", "10.10.0.22"), (3001, "10.10.0.21", "10.10.0.22"), (3002, "10.10.0.21", "10.10.0.22"), (3001, "10.10.0.51", "10.10.0.52"), (3002, "10.10.0.51", "10.10.0.52"), (2003, "10.10.0.51", "10.10.0.52"), (3001, "10.10.0.52", "10.10.0.51"), (3002, "10.10.0.52", "10.10.0.51"), (2003, "10.10.0.52", "10.10.0.51"), (3001, "10.10.0.11", "10.10.0.12")],
    "migration-outside-migration-network-ok": [],
    "unencrypted-migration-stream": [(3002, "10.30.0.21", "10.30.0.22"), (3002, "10.30.0.21", "10.30.0.22")],
    "unencrypted-migration-stream-ok": [],
    "storage-outside-storage-network": [(4001, "10.10.0.11", "10.20.0.10"), (4001, "10.10.0.21", "10.20.0.20"), (4001, "10.10.0.12", "10.20.0.10"), (4001, "10.10.0.21", "10.20.0.30"), (4001, "10.10.0.41", "10.20.0.40"), (4001, "", ""), (4001, "", ""), (4001, "", ""), (4003, "", "")],
    "storage-outside-storage-network-ok": [],
    "storage-without-authentication": [(4002, "10.20.0.11", "10.20.0.10"), (4002, "10.20.0.21", "10.20.0.10")],
    "storage-without-authentication-ok": [],
    "storage-weak-authentication": [(4003, "10.20.0.21", "10.20.0.20"), (4003, "", ""), (4003, "10.20.0.21", "10.20.0.40")],
    "storage-weak-authentication-ok": [],
    "vlan-double-tagging": [(1001, "192.168.100.10", "10.10.0.5"), (5001, "192.168.100.10", "10.10.0.5"), (6001, "192.168.100.10", "10.10.0.5"), (6002, "192.168.100.10", "10.10.0.5"), (5001, "192.168.100.10", "192.168.100.11"), (5001, "", ""), (6001, "", ""), (1001, "192.168.100.31", "10.10.0.5"), (5001, "192.168.100.31", "10.10.0.5"), (6001, "192.168.100.31", "10.10.0.5"), (6002, "192.168.100.31", "10.10.0.5"), (5003, "", "")],
    "vlan-double-tagging-ok": [(5003, "", "")],
    "management-vlan-shared-link": [(5003, "", "")],
    "management-vlan-shared-link-ok": [],
    "overlay-misplaced": [(5004, "192.168.100.10", "192.168.100.11"), (5004, "10.10.0.5", "10.10.0.11"), (6001, "10.10.0.5", "10.10.0.11"), (1006, "10.10.0.5", "10.10.0.11"), (5004, "192.168.100.10", "192.168.100.11"), (5003, "", "")],
    "overlay-misplaced-ok": [],
    "multi-homed-host": [(6001, "10.10.0.70", "10.10.0.11"), (6001, "10.20.0.99", "192.168.100.11"), (6002, "10.20.0.99", "192.168.100.11"), (6001, "", ""), (1001, "fd00:100::70", "ff02::1:ff00:70"), (6001, "fd00:100::70", "ff02::1:ff00:70"), (6001, "10.20.0.21", "10.20.0.10"), (5003, "", "")],
    "multi-homed-host-ok": [(5003, "", "")],
    "gateway-bypass": [(1004, "10.20.0.10", "10.10.0.11"), (6001, "10.20.0.10", "10.10.0.11"), (6002, "10.20.0.10", "10.10.0.11"), (6002, "10.99.0.20", "10.10.0.5"), (6002, "192.168.100.10", "203.0.113.50"), (5003, "", "")],
    "gateway-bypass-ok": [(1004, "10.50.0.5", "10.10.0.5"), (5003, "", "")],
    "example-site": [(1001, "192.168.100.11", "10.10.0.5"), (1004, "10.50.0.5", "10.10.0.11"), (1006, "10.99.0.20", "192.168.100.50"),
                     (5002, "192.168.100.10", "192.168.100.11"), (7001, "192.168.100.10", "10.77.0.5"), (5003, "", "")],
]

@Suite("Example captures")
struct ExampleCaptureTests {
    @Test func everyExampleHasExpectations() {
        #expect(Set(ExampleCaptures.all.map(\.name)) == Set(expectedAlerts.keys))
    }

    @Test(arguments: ExampleCaptures.all.map(\.name))
    func alertsAreExactlyTheExpectedOnes(name: String) throws {
        let example = ExampleCaptures.all.first { $0.name == name }!
        let result = try analyze(configPath: "config/\(example.config)", [repoPath("Captures/\(name).pcap")])
        #expect(result.errors.isEmpty)
        let got = result.alerts.map { ($0.sid, $0.sourceIP?.description ?? "", $0.destinationIP?.description ?? "") }
        let want = expectedAlerts[name]!
        #expect(got.map { "\($0.0) \($0.1) \($0.2)" } == want.map { "\($0.0) \($0.1) \($0.2)" })
    }

    /// The committed captures are exactly what the builder makes today.
    @Test(arguments: ExampleCaptures.all.map(\.name))
    func capturesAreUpToDate(name: String) throws {
        let example = ExampleCaptures.all.first { $0.name == name }!
        let fresh = temporaryDirectory().appendingPathComponent("\(name).pcap").path
        try ExampleCaptures.script(example).write(to: fresh)
        let committed = try Data(contentsOf: URL(fileURLWithPath: repoPath("Captures/\(name).pcap")))
        #expect(try Data(contentsOf: URL(fileURLWithPath: fresh)) == committed, "run scripts/make-captures")
    }

    @Test func alertDetailsOfTheSiteExample() throws {
        let result = try analyze(configPath: "config/example.yaml", [repoPath("Captures/example-site.pcap")])
        let guest = try #require(result.alerts.first { $0.sid == 1001 })
        #expect(guest.severity == .critical && guest.sourceZone == "web" && guest.destinationZone == "mgmt" && guest.vlans == [100])
        #expect(guest.communityID == CommunityID.compute(proto: 6, source: guest.sourceIP!, destination: guest.destinationIP!, ports: (50010, 443)))
        let vlan = try #require(result.alerts.first { $0.sid == 5002 })
        #expect(vlan.severity == .high, "the config raises undeclared-vlan to high")
        #expect(vlan.evidence("vlan") == .number(77))
        let misplaced = try #require(result.alerts.first { $0.sid == 1006 })
        #expect(misplaced.evidence("service_name") == .text("libvirt-tcp") && misplaced.destinationZone == "web")
        #expect(result.pipeline.statistics.decodeErrors == 0)
    }

    /// Each rule's positive capture raises it; its negative (-ok) capture does not.
    @Test(arguments: [("cleartext-admin-login", 2001), ("anonymous-admin-access", 2002), ("unencrypted-management-protocol", 2003),
                      ("weak-admin-authentication", 2004), ("console-exposed", 2005),
                      ("migration-outside-migration-network", 3001), ("unencrypted-migration-stream", 3002),
                      ("storage-outside-storage-network", 4001), ("storage-without-authentication", 4002),
                      ("storage-weak-authentication", 4003), ("vlan-double-tagging", 5001), ("management-vlan-shared-link", 5003),
                      ("overlay-misplaced", 5004), ("multi-homed-host", 6001), ("gateway-bypass", 6002)])
    func positiveAndNegative(name: String, sid: Int) {
        #expect(expectedAlerts[name]!.contains { $0.0 == sid })
        #expect(!expectedAlerts["\(name)-ok"]!.contains { $0.0 == sid })
    }

    @Test func loginDetails() throws {
        let result = try analyze(configPath: "config/examples/site-roles.yaml", [repoPath("Captures/cleartext-admin-login.pcap")])
        let logins = result.alerts.filter { $0.sid == 2001 }
        func detail(_ user: String) -> Alert? { logins.first { $0.evidence("user") == .text(user) } }
        // Typed one character per segment, accepted.
        #expect(detail("root")?.evidence("credential") == .text("redacted (8 chars)"))
        #expect(logins.first { $0.appProto == "telnet" }?.evidence("login") == .text("succeeded"))
        // Split into 5-byte segments, each sent twice; refused.
        #expect(detail("backup")?.evidence("login") == .text("failed"))
        #expect(detail("backup")?.evidence("credential") == .text("redacted (9 chars)"))
        // 9-byte segments in swapped pairs.
        #expect(detail("administrator@vsphere.local")?.evidence("login") == .text("succeeded"))
        // Overlapping retransmissions.
        #expect(detail("cn=admin,dc=lab,dc=example")?.evidence("credential") == .text("redacted (10 chars)"))
        #expect(detail("vnc-admin")?.evidence("method") == .text("VeNCrypt Plain"))
        #expect(detail("LAB\\hvadmin")?.evidence("method") == .text("WinRM Basic over HTTP"))
        #expect(detail("vpxuser")?.appProto == "vmauthd")
        // Inside the management network, one level lower (high → medium) where both ends are management.
        #expect(logins.first { $0.appProto == "ipmi" }?.severity == .high, "the admin workstation is not in a management zone")
    }

    @Test func overlayTrafficIsClassifiedByVNI() throws {
        let result = try analyze(configPath: "config/example.yaml", [repoPath("Captures/example-site.pcap")])
        // web1 → db1 over VXLAN VNI 5000 is guest-to-guest: no alert for it.
        #expect(!result.alerts.contains { $0.destinationIP?.description == "192.168.101.20" })
    }

    /// The overlay negatives hold because of the VNIs: declared to the management zone
    /// instead, the same migration and iSCSI flows are outside their networks.
    @Test func overlaysAreJudgedByTheirVNI() throws {
        var yaml = try String(contentsOfFile: repoPath("config/examples/site-roles.yaml"), encoding: .utf8)
        yaml = yaml.replacingOccurrences(of: "vnis: [6001], ", with: "").replacingOccurrences(of: "vnis: [6000], ", with: "")
            .replacingOccurrences(of: "role: management, vlans: [10],", with: "role: management, vlans: [10], vnis: [6000, 6001],")
        let path = temporaryDirectory().appendingPathComponent("overlay.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let config = try ZoneConfig.load(path: path)
        let migration = try analyze(config: config, [repoPath("Captures/migration-outside-migration-network-ok.pcap")])
        // 5004 agrees: the VNI now belongs to management but carries migration (storage) hosts.
        #expect(migration.alerts.map { "\($0.sid) \($0.destinationPort ?? 0)" } == ["3001 49154", "5004 49154"])
        #expect(migration.alerts.first?.evidence("outside") == .text("the segment is zone mgmt (management)"))
        let storage = try analyze(config: config, [repoPath("Captures/storage-outside-storage-network-ok.pcap")])
        #expect(storage.alerts.map { "\($0.sid) \($0.destinationPort ?? 0)" } == ["5004 3260", "4001 3260"])
        #expect(storage.alerts.last?.evidence("initiator") == .text("iqn.2004-10.org.example:kvm1"))
    }
}
