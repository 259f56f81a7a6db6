import Decode
import Testing
import Vocabulary
@testable import Zones

@Suite("Layer-2 configuration: QinQ, gateways per zone pair, multi-homed hosts")
struct Layer2ConfigTests {
    static let yaml = """
        zones:
          mgmt:    { role: management, vlans: [10], subnets: [10.10.0.0/24] }
          admin:   { role: admin, vlans: [15], subnets: [10.99.0.0/24] }
          storage: { role: storage, vlans: [20], subnets: [10.20.0.0/24] }
          guests:  { role: guest, vlans: ["100-119"], outer_vlans: [200, "300-301"], subnets: [192.168.100.0/22] }
          tenants: { role: guest, vlans: [150], outer_vlans: [200] }
        gateways:
          - { name: fw-core, macs: ["00:1b:21:aa:bb:cc"] }
          - { name: fw-mgmt, macs: ["00:1b:21:aa:bb:dd"], zones: [admin, mgmt] }
        multi_homed:
          forbidden: [[guest, management], [management, storage]]
          allowed_macs: ["02:00:00:00:00:01"]
        sensor:
          max_macs: 4096
        """
    let map = ZoneMap(try! ZoneConfig.parse(yaml: Layer2ConfigTests.yaml, file: "x"))

    static func stack(_ tags: [(UInt16, UInt16)]) -> VLANStack {
        var s = VLANStack()
        for (tpid, id) in tags { s.push(VLANTag(tpid: tpid, tci: id)) }
        return s
    }

    /// (tags outermost first, planned?)
    @Test(arguments: [
        ([(0x8100, 100)], true),
        ([(0x88A8, 200), (0x8100, 100)], true),
        ([(0x88A8, 301), (0x8100, 119)], true),
        ([(0x8100, 200), (0x8100, 150)], true),
        ([(0x8100, 0), (0x8100, 100)], true),           // a priority tag is no VLAN
        ([(0x88A8, 202), (0x8100, 100)], false),        // an S-VLAN the zone does not declare
        ([(0x8100, 100), (0x8100, 10)], false),         // VLAN hopping into management
        ([(0x88A8, 300), (0x8100, 150)], false),        // 300 carries guests, not tenants
        ([(0x88A8, 200), (0x8100, 999)], true),         // an undeclared C-VLAN on a declared S-VLAN: 5002's finding
        ([(0x88A8, 999), (0x8100, 998)], false),
        ([(0x9100, 300), (0x88A8, 200), (0x8100, 100)], true),
        ([(0x9100, 400), (0x88A8, 200), (0x8100, 100)], false),
    ] as [([(UInt16, UInt16)], Bool)])
    func plannedStacks(tags: [(UInt16, UInt16)], planned: Bool) {
        #expect(map.isPlannedStack(Self.stack(tags)) == planned, "\(tags)")
    }

    @Test func gatewaysPerZonePair() throws {
        let core = MACAddress("00:1b:21:aa:bb:cc")!, mgmtFW = MACAddress("00:1b:21:aa:bb:dd")!, host = MACAddress("02:00:00:00:00:09")!
        let mgmt = try #require(map.id(named: "mgmt")), admin = try #require(map.id(named: "admin")), guests = try #require(map.id(named: "guests"))
        #expect(map.isGateway(mgmtFW, between: admin, and: mgmt) && map.isGateway(mgmtFW, between: mgmt, and: admin))
        #expect(!map.isGateway(core, between: admin, and: mgmt), "admin-mgmt has its own gateway")
        #expect(map.isGateway(core, between: guests, and: mgmt) && map.isGateway(mgmtFW, between: guests, and: mgmt))
        #expect(!map.isGateway(host, between: guests, and: mgmt))
        #expect(map.gateways(between: mgmt, and: admin).map(\.name) == ["fw-mgmt"] && map.gateways(between: guests, and: mgmt).isEmpty)
    }

    @Test func multiHomedSettings() {
        #expect(map.forbiddenPartners(of: .guest) == 1 << UInt16(Role.management.index))
        #expect(map.forbiddenPartners(of: .management) == (1 << UInt16(Role.guest.index) | 1 << UInt16(Role.storage.index)))
        #expect(map.forbiddenPartners(of: .admin) == 0)
        #expect(map.mayBeMultiHomed(MACAddress("02:00:00:00:00:01")!) && !map.mayBeMultiHomed(MACAddress("02:00:00:00:00:02")!))
        #expect(map.config.sensor.maxMACs == 4096)
        let defaults = ZoneMap(try! ZoneConfig.parse(yaml: "zones:\n  g: { role: guest, vlans: [100] }\n", file: "x"))
        #expect(defaults.forbiddenPartners(of: .guest) == (1 << UInt16(Role.management.index) | 1 << UInt16(Role.storage.index) | 1 << UInt16(Role.migration.index)))
        #expect(defaults.config.sensor.maxMACs == 65_536)
    }

    @Test(arguments: [
        ("zones:\n  g: { role: guest, vlans: [100], outer_vlans: [5000] }\n",
         "site.yaml:2:49: VLAN \"5000\" must be an id 1-4094 or a range such as \"200-210\""),
        ("zones:\n  g: { role: guest, vlans: [100] }\ngateways:\n  - { name: fw, macs: [\"00:1b:21:aa:bb:cc\"], zones: [g, mgmnt] }\n",
         "site.yaml:4:57: unknown zone \"mgmnt\" in gateway zones (expected one of: g)"),
        ("zones:\n  g: { role: guest, vlans: [100] }\ngateways:\n  - { name: fw, macs: [\"00:1b:21:aa:bb:cc\"], zones: [g] }\n",
         "site.yaml:4:53: gateway zones: name at least two zones it routes between"),
        ("zones:\n  g: { role: guest, vlans: [100] }\nmulti_homed:\n  forbidden: [[guest, managment]]\n",
         "site.yaml:4:23: unknown role \"managment\" (did you mean \"management\"?)"),
        ("zones:\n  g: { role: guest, vlans: [100] }\nmulti_homed:\n  forbidden: [[guest, management, storage]]\n",
         "site.yaml:4:15: a forbidden pair names two roles, such as [guest, management]"),
        ("zones:\n  g: { role: guest, vlans: [100] }\nmulti_homed:\n  allowed_macs: [\"02:00\"]\n",
         "site.yaml:4:18: MAC address \"02:00\" must look like 00:1b:21:aa:bb:cc"),
        ("zones:\n  g: { role: guest, vlans: [100] }\nmulti_homed:\n  allowed: []\n",
         "site.yaml:4:3: unknown key \"allowed\" in multi_homed (expected one of: forbidden, allowed_macs)"),
        ("zones:\n  g: { role: guest, vlans: [100] }\nsensor:\n  max_macs: 12\n",
         "site.yaml:4:13: max_macs \"12\" must be a whole number 1024-50000000"),
    ])
    func mistakes(yaml: String, message: String) {
        #expect(parseErrors(yaml) == [message])
    }
}
