import Decode
import Foundation
import Testing
import Vocabulary
@testable import Zones

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func parseErrors(_ yaml: String) -> [String] {
    do {
        _ = try ZoneConfig.parse(yaml: yaml, file: "site.yaml")
        return []
    } catch {
        return error.errors.map(\.description)
    }
}

@Suite("Zone configuration")
struct ConfigTests {
    @Test(arguments: ["config/example.yaml", "config/examples/site-roles.yaml", "config/examples/guest-to-management.yaml", "config/examples/zone-policy-violation.yaml", "config/examples/layer2.yaml", "config/examples/inventory.yaml"])
    func shippedConfigsAreValid(path: String) throws {
        let config = try ZoneConfig.load(path: repositoryRoot.appendingPathComponent(path).path)
        #expect(!config.zones.isEmpty)
    }

    @Test func exampleConfigContents() throws {
        let c = try ZoneConfig.load(path: repositoryRoot.appendingPathComponent("config/example.yaml").path)
        let web = try #require(c.zones.first { $0.name == "web" })
        #expect(web.role == .guest && web.vlans == [100...119] && web.vnis == [5000...5000])
        #expect(web.subnets.map(\.description) == ["192.168.100.0/22", "fd00:100::/56"])
        #expect(c.gateways.first?.macs == [MACAddress("00:1b:21:aa:bb:cc")!])
        #expect(c.allow.count == 4 && c.policy == .roles)
        #expect(c.ruleOverrides.first?.key == "undeclared-vlan" && c.ruleOverrides.first?.severity == .high)
        #expect(c.sensor.interfaces == ["eth1"] && c.sensor.maxFlows == 262_144)
    }

    /// Suggestions for a misspelt or abbreviated name (a rule, a key, a role).
    @Test func suggestionsForTyposAndAbbreviations() {
        let rules = ["guest-to-management", "guest-to-storage", "guest-to-migration", "storage-weak-authentication"]
        #expect(Spelling.suggestion("guest-to-mgmt", rules) == " (did you mean \"guest-to-management\"?)")
        #expect(Spelling.suggestion("guest-to-stor", rules) == " (did you mean \"guest-to-storage\"?)")
        #expect(Spelling.suggestion("storage-weak-auth", rules) == " (did you mean \"storage-weak-authentication\"?)")
        #expect(Spelling.suggestion("guest-to-managment", rules) == " (did you mean \"guest-to-management\"?)")
        #expect(Spelling.suggestion("guest-to-m", rules) == " (did you mean one of: guest-to-management, guest-to-migration?)")
        // Not an abbreviation: another first letter, or parts missing.
        #expect(Spelling.suggestion("guest-to-xyz", rules, fallback: " (none)") == " (none)")
        #expect(Spelling.suggestion("guest-mgmt", rules, fallback: " (none)") == " (none)")
    }

    /// A tab in the indentation, the commonest YAML mistake, is named as such.
    @Test func tabIndentationIsNamed() {
        do {
            _ = try ZoneConfig.parse(yaml: "zones:\n  mgmt:\n\trole: management\n", file: "site.yaml")
            Issue.record("no error")
        } catch {
            #expect(error.errors.count == 1 && error.errors[0].description.hasPrefix("site.yaml:3:")
                    && error.errors[0].description.hasSuffix("line 3 is indented with a tab: YAML indents with spaces only"), "\(error)")
        }
    }

    /// Each mistake gives exactly one line naming file, line, column and the problem.
    @Test(arguments: [
        ("zones:\n  mgmt: { role: management, subnets: [10.0.0.0/33] }\n",
         "site.yaml:2:39: subnet \"10.0.0.0/33\": prefix length must be 0-32"),
        ("zones:\n  mgmt: { role: management, subnets: [\"fd00::/129\"] }\n",
         "site.yaml:2:39: subnet \"fd00::/129\": prefix length must be 0-128"),
        ("zones:\n  mgmt: { role: management, subnets: [10.0.0.1/16] }\n",
         "site.yaml:2:39: subnet \"10.0.0.1/16\": host bits are set (did you mean 10.0.0.0/16?)"),
        ("zones:\n  mgmt: { role: management, subnets: [10.0.300.0/24] }\n",
         "site.yaml:2:39: subnet \"10.0.300.0/24\": not an IPv4 or IPv6 address or prefix (or the keyword public)"),
        ("zones:\n  mgmt: { role: managment, vlans: [10] }\n",
         "site.yaml:2:17: unknown role \"managment\" (did you mean \"management\"?)"),
        ("zones:\n  mgmt: { role: management, vlans: [10] }\nsensor:\n  interfaces: [eth1, eth2, eth1]\n",
         "site.yaml:4:28: interface eth1 is listed twice"),
        ("zones:\n  mgmt: { role: management, vlans: [10] }\nallow:\n  - { from: guests, to: mgmt }\n",
         "site.yaml:4:13: allow rule names unknown zone \"guests\" (expected one of: mgmt)"),
        ("zones:\n  mgmt: { role: management, vlans: [10] }\n  guests: { role: guest, vlans: [\"5-12\"] }\n",
         "site.yaml:3:34: VLAN 10 is already declared in zone \"mgmt\" (line 2)"),
        ("zones:\n  a: { role: management, subnets: [10.0.0.0/8] }\n  b: { role: guest, subnets: [10.0.0.0/8] }\n",
         "site.yaml:3:31: subnet 10.0.0.0/8 is already declared in zone \"a\" (line 2); overlapping subnets must be strictly more specific"),
        ("zones:\n  a: { role: guest, vnis: [5000] }\n  b: { role: guest, vnis: [\"4000-6000\"] }\n",
         "site.yaml:3:28: VNI 5000 is already declared in zone \"a\" (line 2)"),
        ("zones:\n  mgmt: { role: management, vlan: [10] }\n",
         "site.yaml:2:29: unknown key \"vlan\" in zone \"mgmt\" (did you mean \"vlans\"?)"),
        ("zone:\n  mgmt: { role: management, vlans: [10] }\n",
         "site.yaml:1:1: unknown key \"zone\" in the configuration (did you mean \"zones\"?)"),
        ("zones:\n  mgmt: { role: management, vlans: [4095] }\n",
         "site.yaml:2:37: VLAN \"4095\" must be an id 1-4094 or a range such as \"100-140\""),
        ("zones:\n  mgmt: { role: management, vlans: [\"20-10\"] }\n",
         "site.yaml:2:37: VLAN \"20-10\" must be an id 1-4094 or a range such as \"100-140\""),
        ("zones:\n  mgmt: { role: management, macs: [\"00:11:22:33:44\"] }\n",
         "site.yaml:2:36: MAC address \"00:11:22:33:44\" must look like 00:1b:21:aa:bb:cc"),
        ("zones:\n  mgmt: { vlans: [10] }\n",
         "site.yaml:2:3: zone \"mgmt\" has no role (one of: management, admin, storage, migration, guest, transport, service, external)"),
        ("zones:\n  mgmt: { role: management }\n",
         "site.yaml:2:3: zone \"mgmt\" declares no vlans, vnis, subnets or macs, so nothing can belong to it"),
        ("zones:\n  mgmt: { role: management, vlans: [10] }\npolicy: deny-all\n",
         "site.yaml:3:9: policy \"deny-all\" must be \"roles\" or \"default-deny\""),
        ("zones:\n  mgmt: { role: management, vlans: [10] }\nallow:\n  - { from: mgmt, to: mgmt, services: [tcp/99999] }\n",
         "site.yaml:4:40: service \"tcp/99999\": port \"99999\" must be 0-65535"),
        ("zones:\n  mgmt: { role: management, vlans: [10] }\nrules:\n  unknown-address: { severity: extreme }\n",
         "site.yaml:4:32: severity \"extreme\" must be critical, high, medium or low"),
        ("zones:\n  mgmt: { role: management, vlans: [10] }\nsensor:\n  max_flows: 10\n",
         "site.yaml:4:14: max_flows \"10\" must be a whole number 1024-50000000"),
        ("zones:\n  mgmt: { role: management, vlans: [10]\n",
         "site.yaml:3:1: invalid YAML: did not find expected ',' or '}' (while parsing a flow mapping at line 2)"),
        ("policy: roles\n", "site.yaml:1:1: missing zones: section (at least one zone with a role)"),
        ("", "site.yaml: empty configuration: expected a mapping with a zones: section"),
        ("- a\n- b\n", "site.yaml:1:1: the configuration must be a mapping of key: value, not a list"),
    ])
    func mistakes(yaml: String, message: String) {
        let errors = parseErrors(yaml)
        #expect(errors == [message])
    }

    @Test func everyMistakeIsReportedAtOnce() {
        let errors = parseErrors("zones:\n  a: { role: nope, vlans: [0] }\n  b: { role: guest, subnets: [1.2.3.4/40] }\npolicy: x\n")
        #expect(errors.count == 4)
        #expect(errors.allSatisfy { $0.hasPrefix("site.yaml:") && !$0.contains("\n") })
    }

    @Test func missingFile() {
        do {
            _ = try ZoneConfig.load(path: "/nonexistent/zones.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "/nonexistent/zones.yaml: cannot read configuration: no such file")
        }
    }

    @Test func yaml11LookalikesStayStrings() throws {
        // 00:11:22:33:44:55 would be a sexagesimal number to a YAML 1.1 resolver.
        let c = try ZoneConfig.parse(yaml: "zones:\n  a: { role: storage, macs: [00:11:22:33:44:55], vlans: [010] }\nrules:\n  unknown-address: off\n", file: "x")
        #expect(c.zones[0].macs == [MACAddress("00:11:22:33:44:55")!])
        #expect(c.zones[0].vlans == [10...10])
        #expect(c.ruleOverrides[0].enabled == false)
    }

    @Test func nestedPrefixesAreAllowed() throws {
        let c = try ZoneConfig.parse(yaml: "zones:\n  dc: { role: service, subnets: [10.0.0.0/8] }\n  mgmt: { role: management, subnets: [10.10.0.0/16] }\n", file: "x")
        #expect(c.zones.count == 2)
    }

    @Test func servicesSection() throws {
        let c = try ZoneConfig.parse(yaml: """
            zones:
              mgmt: { role: management, vlans: [10] }
            services:
              management: [tcp/8443, { port: udp/7000, name: bmc-agent, distinctive: true }]
              console: { replace: true, ports: [tcp/5900-5910] }
            """, file: "x")
        #expect(c.services.lookup(.management, .tcp, 8443)?.name == "management-tcp/8443")
        #expect(c.services.lookup(.management, .udp, 7000)?.name == "bmc-agent")
        #expect(c.services.lookup(.management, .tcp, 902)?.name == "vmware-authd", "built-ins stay")
        #expect(c.services.lookup(.console, .tcp, 5905) != nil)
        #expect(c.services.lookup(.console, .tcp, 2179) == nil, "replace drops the built-in consoles")
    }

    @Test func publicKeyword() throws {
        let c = try ZoneConfig.parse(yaml: "zones:\n  internet: { role: external, subnets: [public] }\n  dmz: { role: service, subnets: [198.51.100.0/24] }\n", file: "x")
        let map = ZoneMap(c)
        #expect(map.name(map.zone(for: IPAddress("8.8.8.8")!)) == "internet")
        #expect(map.name(map.zone(for: IPAddress("198.51.100.7")!)) == "dmz")
        #expect(map.zone(for: IPAddress("10.1.2.3")!) == 0)
        #expect(map.zone(for: IPAddress("192.168.1.1")!) == 0)
        #expect(map.zone(for: IPAddress("172.20.0.1")!) == 0)
        #expect(map.name(map.zone(for: IPAddress("172.32.0.1")!)) == "internet")
        #expect(map.name(map.zone(for: IPAddress("2001:db8::1")!)) == "internet")
        #expect(map.zone(for: IPAddress("fd00::1")!) == 0)
    }
}

@Suite("Service specs")
struct ServiceSpecTests {
    @Test(arguments: [("tcp/22", "tcp/22"), ("UDP/5404-5405", "udp/5404-5405"), ("tcp/any", "tcp/any"), ("sctp/3868", "sctp/3868")])
    func valid(text: String, canonical: String) throws {
        #expect(try ServiceSpec.parse(text).get().description == canonical)
    }

    @Test(arguments: ["22", "icmp/8", "tcp/", "tcp/1-2-3", "tcp/70000", "tcp/9-1"])
    func invalid(text: String) {
        if case .success = ServiceSpec.parse(text) { Issue.record("\(text) parsed") }
    }
}

/// Configurations at and past the sizes a site can reach.
@Suite("Configuration limits")
struct ConfigLimitTests {
    @Test func tooManyZones() {
        let yaml = "zones:\n" + (0..<65_540).map { "  z\($0): { role: guest, vnis: [\($0 + 1)] }\n" }.joined()
        let errors = parseErrors(yaml)
        #expect(errors == ["site.yaml:65537:3: too many zones: at most 65535 can be declared"], "\(errors.count) errors: \(errors.prefix(3))")
    }

    /// VNI ranges cost what their number costs, not what they span: all 2^24
    /// VNIs in a few zones load at once, and each VNI finds its zone.
    @Test(.timeLimit(.minutes(1)))
    func wideVNIRanges() throws {
        let yaml = """
            zones:
              mgmt: { role: management, vnis: [1-4095, 16000000] }
              web: { role: guest, vnis: [4096-9999999] }
              db: { role: guest, vnis: [10000000-15999999, 16000001-16777215] }
            """
        let map = ZoneMap(try ZoneConfig.parse(yaml: yaml, file: "site.yaml"))
        let id = { (name: String) in ZoneID(map.config.zones.firstIndex { $0.name == name }! + 1) }
        #expect(map.zone(forVNI: 1) == id("mgmt") && map.zone(forVNI: 4095) == id("mgmt") && map.zone(forVNI: 16_000_000) == id("mgmt"))
        #expect(map.zone(forVNI: 4096) == id("web") && map.zone(forVNI: 9_999_999) == id("web"))
        #expect(map.zone(forVNI: 10_000_000) == id("db") && map.zone(forVNI: 16_777_215) == id("db"))
        #expect(map.zone(forVNI: 0) == 0)
        // An overlap anywhere inside a wide range is still found.
        let clash = parseErrors(yaml + "\n  other: { role: guest, vnis: [12345678] }\n")
        #expect(clash == ["site.yaml:5:32: VNI 12345678 is already declared in zone \"db\" (line 4)"], "\(clash)")
    }
}
