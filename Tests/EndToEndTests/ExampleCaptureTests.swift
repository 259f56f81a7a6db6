import Alerting
import CaptureBuilder
import Detect
import Foundation
import Testing
import Zones

@Suite("Example captures")
struct ExampleCaptureTests {
    /// Each capture under Captures/ raises exactly what its expectations file says.
    @Test(arguments: CaptureExpectation.captureNames)
    func alertsAreTheExpectedOnes(name: String) throws {
        let expected = try CaptureExpectation.load(name)
        let result = try analyze(configPath: expected.config, [repoPath("Captures/\(name).pcap")])
        #expect(result.errors.isEmpty)
        let sids = result.alerts.map(\.sid)
        if let alerts = expected.alerts {
            let got = result.alerts.map { "\($0.sid) \($0.sourceIP?.description ?? "") \($0.destinationIP?.description ?? "")" }
            #expect(got == alerts.map { "\($0.sid) \($0.source) \($0.destination)" })
        }
        for sid in expected.mustFire { #expect(sids.contains(sid), "\(sid) must fire on \(name)") }
        for sid in expected.mustNotFire { #expect(!sids.contains(sid), "\(sid) must not fire on \(name)") }
        for (sid, n) in expected.counts { #expect(sids.filter { $0 == sid }.count == n, "\(sid) on \(name)") }
    }

    /// Every capture has its expectations, and every rule that can fire offline
    /// has a capture it must fire on and one it must not (rule 7002 needs the
    /// live sensor's memory).
    @Test func everyRuleHasAPositiveAndANegativeCapture() throws {
        let expectations = try CaptureExpectation.captureNames.map(CaptureExpectation.load)
        #expect(expectations.count == ExampleCaptures.all.count)
        let fire = Set(expectations.flatMap(\.mustFire)), silent = Set(expectations.flatMap(\.mustNotFire))
        for rule in RuleRegistry.all.map({ $0.metadata }) where rule.sid != 7002 {
            #expect(fire.contains(rule.sid), "no capture must fire \(rule.sid)")
            #expect(silent.contains(rule.sid), "no capture must not fire \(rule.sid)")
        }
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
        #expect(guest.communityID?.description == CommunityID.compute(proto: 6, source: guest.sourceIP!, destination: guest.destinationIP!, ports: (50010, 443)))
        let vlan = try #require(result.alerts.first { $0.sid == 5002 })
        #expect(vlan.severity == .high, "the config raises undeclared-vlan to high")
        #expect(vlan.evidence("vlan") == .number(77))
        let misplaced = try #require(result.alerts.first { $0.sid == 1006 })
        #expect(misplaced.evidence("service_name")?.stringValue == ("libvirt-tcp") && misplaced.destinationZone == "web")
        #expect(result.pipeline.statistics.decodeErrors == 0)
    }

    @Test func loginDetails() throws {
        let result = try analyze(configPath: "config/examples/site-roles.yaml", [repoPath("Captures/cleartext-admin-login.pcap")])
        let logins = result.alerts.filter { $0.sid == 2001 }
        func detail(_ user: String) -> Alert? { logins.first { $0.evidence("user")?.stringValue == (user) } }
        // Typed one character per segment, accepted.
        #expect(detail("root")?.evidence("credential")?.stringValue == ("redacted (8 chars)"))
        #expect(logins.first { $0.appProto == "telnet" }?.evidence("login")?.stringValue == ("succeeded"))
        // Split into 5-byte segments, each sent twice; refused.
        #expect(detail("backup")?.evidence("login")?.stringValue == ("failed"))
        #expect(detail("backup")?.evidence("credential")?.stringValue == ("redacted (9 chars)"))
        // 9-byte segments in swapped pairs.
        #expect(detail("administrator@vsphere.local")?.evidence("login")?.stringValue == ("succeeded"))
        // Overlapping retransmissions.
        #expect(detail("cn=admin,dc=lab,dc=example")?.evidence("credential")?.stringValue == ("redacted (10 chars)"))
        #expect(detail("vnc-admin")?.evidence("method")?.stringValue == ("VeNCrypt Plain"))
        #expect(detail("LAB\\hvadmin")?.evidence("method")?.stringValue == ("WinRM Basic over HTTP"))
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
        #expect(migration.alerts.first?.evidence("outside")?.stringValue == ("the segment is zone mgmt (management)"))
        let storage = try analyze(config: config, [repoPath("Captures/storage-outside-storage-network-ok.pcap")])
        #expect(storage.alerts.map { "\($0.sid) \($0.destinationPort ?? 0)" } == ["5004 3260", "4001 3260"])
        #expect(storage.alerts.last?.evidence("initiator")?.stringValue == ("iqn.2004-10.org.example:kvm1"))
    }
}
