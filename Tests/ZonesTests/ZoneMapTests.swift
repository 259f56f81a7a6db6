import Decode
import Testing
import Vocabulary
@testable import Zones

@Suite("Zone lookups")
struct ZoneMapTests {
    static let yaml = """
        zones:
          mgmt:    { role: management, vlans: [10], subnets: [10.10.0.0/16, "fd00:10::/64"] }
          esxi:    { role: management, subnets: [10.10.5.0/24] }
          storage: { role: storage, vlans: [20], macs: ["02:00:00:00:20:01"] }
          guests:  { role: guest, vlans: ["100-140"], vnis: [5000, "6000-6009"], subnets: [192.168.0.0/16] }
        gateways:
          - { name: fw, macs: ["00:1b:21:aa:bb:cc"] }
        allow:
          - { from: guests, to: mgmt, services: [udp/123] }
          - { from: any, to: storage }
        """

    let map = ZoneMap(try! ZoneConfig.parse(yaml: ZoneMapTests.yaml, file: "x"))

    @Test func lookups() {
        #expect(map.name(map.zone(forVLAN: 10)) == "mgmt")
        #expect(map.name(map.zone(forVLAN: 140)) == "guests")
        #expect(map.zone(forVLAN: 141) == 0)
        #expect(map.name(map.zone(forVNI: 6005)) == "guests")
        #expect(map.zone(forVNI: 6010) == 0)
        #expect(map.name(map.zone(for: IPAddress("10.10.1.1")!)) == "mgmt")
        #expect(map.name(map.zone(for: IPAddress("10.10.5.9")!)) == "esxi", "longest prefix wins")
        #expect(map.name(map.zone(for: IPAddress("fd00:10::5")!)) == "mgmt")
        #expect(map.zone(for: IPAddress("fd00:11::5")!) == 0)
        #expect(map.name(map.zone(forMAC: MACAddress("02:00:00:00:20:01")!)) == "storage")
        #expect(map.gateway(forMAC: MACAddress("00:1b:21:aa:bb:cc")!)?.name == "fw")
        #expect(map.role(map.zone(forVLAN: 20)) == .storage)
    }

    @Test func segments() {
        #expect(map.name(map.zone(for: Segment(vlan: 10))) == "mgmt")
        #expect(map.name(map.zone(for: Segment(vlan: 0, vni: 5000, hasVNI: true))) == "guests")
        #expect(map.name(map.zone(for: Segment(vlan: 20, vni: 5000, hasVNI: true))) == "storage", "a VLAN tag is more specific than the VNI")
        #expect(map.isDeclared(Segment(vlan: 10)) && !map.isDeclared(Segment(vlan: 11)))
        #expect(!map.isDeclared(Segment(vlan: 0, vni: 77, hasVNI: true)))
        #expect(map.isDeclared(Segment()))
    }

    @Test func allowRules() {
        let guests = map.id(named: "guests")!, mgmt = map.id(named: "mgmt")!, storage = map.id(named: "storage")!
        #expect(map.isAllowed(from: guests, to: mgmt, proto: .udp, port: 123))
        #expect(!map.isAllowed(from: guests, to: mgmt, proto: .tcp, port: 123))
        #expect(map.isAllowed(from: mgmt, to: storage, proto: .tcp, port: 3260))
        #expect(map.isAllowed(from: 0, to: storage, proto: .tcp, port: 3260), "any includes addresses in no zone")
    }
}

@Suite("Prefix map")
struct PrefixMapTests {
    @Test func nestedAndAdjacent() {
        let entries: [(String, Int)] = [("10.0.0.0/8", 1), ("10.1.0.0/16", 2), ("10.1.2.0/24", 3), ("10.1.2.128/25", 4), ("11.0.0.0/8", 5), ("0.0.0.0/0", 6)]
        let map = PrefixMap(entries.map { (try! IPPrefix.parse($0.0).get(), $0.1) })
        let cases: [(String, Int?)] = [("10.0.0.1", 1), ("10.1.0.1", 2), ("10.1.2.1", 3), ("10.1.2.200", 4), ("10.1.3.0", 2), ("10.2.0.0", 1),
                                       ("11.255.255.255", 5), ("12.0.0.0", 6), ("255.255.255.255", 6), ("0.0.0.0", 6), ("::1", nil)]
        for (address, value) in cases { #expect(map.lookup(IPAddress(address)!) == value, "\(address)") }
    }

    @Test func topOfTheAddressSpace() {
        let map = PrefixMap([(try! IPPrefix.parse("::/0").get(), 1), (try! IPPrefix.parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00/120").get(), 2)])
        #expect(map.lookup(IPAddress("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")!) == 2)
        #expect(map.lookup(IPAddress("ffff:ffff:ffff:ffff:ffff:ffff:ffff:feff")!) == 1)
    }

    /// Against a linear longest-prefix scan, with thousands of random nested prefixes.
    @Test func agreesWithLinearScan() {
        var rng = SystemRandomNumberGenerator()
        var seen = Set<IPPrefix>()
        var entries: [(IPPrefix, Int)] = []
        while entries.count < 3000 {
            let v4 = Bool.random(using: &rng)
            let prefix: IPPrefix
            if v4 {
                let length = Int.random(in: 8...32, using: &rng)
                prefix = IPPrefix(address: IPAddress(ipv4: UInt32(0x0A00_0000) | UInt32.random(in: 0...0x00FF_FFFF, using: &rng)), length: 96 + length)
            } else {
                let length = Int.random(in: 16...128, using: &rng)
                prefix = IPPrefix(address: IPAddress(high: 0xFD00_0000_0000_0000 | UInt64.random(in: 0...0xFFFF_FFFF, using: &rng) << 16, low: UInt64.random(in: 0...UInt64.max, using: &rng)), length: length)
            }
            if seen.insert(prefix).inserted { entries.append((prefix, entries.count)) }
        }
        let map = PrefixMap(entries)
        for _ in 0..<20_000 {
            let probe: IPAddress
            let (p, _) = entries.randomElement(using: &rng)!
            let r = p.range
            // Probe inside a random prefix, near its edges, or just outside.
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: probe = r.first
            case 1: probe = r.last
            case 2: probe = IPAddress(high: r.first.high, low: r.first.low &+ UInt64.random(in: 0...255, using: &rng))
            default: probe = IPAddress(high: r.last.high, low: r.last.low &+ 1)
            }
            let expected = entries.filter { $0.0.contains(probe) }.max { $0.0.length < $1.0.length }?.1
            #expect(map.lookup(probe) == expected)
        }
    }
}
