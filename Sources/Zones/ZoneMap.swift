import Decode
import Vocabulary

/// A zone's index in a ``ZoneMap``; 0 means "in no zone".
public typealias ZoneID = UInt16

/// What the detection stage needs to know about a zone.
public struct ZoneInfo: Sendable {
    public let id: ZoneID
    public let name: String
    public let role: Role
}

/// Fast lookups from VLAN ids, VNIs, addresses and MACs to zones, built once
/// from a ``ZoneConfig`` and read-only afterwards (safe to share across threads).
///
/// VLANs are a 4096-entry table, VNIs and MACs hash tables, addresses a
/// ``PrefixMap`` (one binary search, longest prefix wins).
public final class ZoneMap: Sendable {
    public let config: ZoneConfig
    /// Names and infrastructure kinds for addresses (`inventory:`); empty without one.
    public let inventory: Inventory
    /// Zones by id; index 0 is unused so that ids index directly.
    public let zones: [ZoneInfo?]
    private let vlanTable: [ZoneID]
    /// VNI ranges, disjoint and sorted, as parallel arrays for a binary search.
    private let vniLows: [UInt32]
    private let vniHighs: [UInt32]
    private let vniZones: [ZoneID]
    private let prefixes: PrefixMap<ZoneID>
    private let macTable: [MACAddress: ZoneID]
    private let roleTable: [Role?]
    /// Gateway MACs with their index in `config.gateways` (few: a sorted list beats hashing).
    private let gatewayMACs: SmallMACSet
    private let allowRules: [ResolvedAllowRule]
    private let zoneIDsByName: [String: ZoneID]
    /// Per zone, the outer VLANs that may carry its VLANs (4096-bit sets); index 0:
    /// the outer VLANs any zone declares, for inner VLANs in no zone.
    private let outerVLANs: [[UInt64]?]
    /// Gateways dedicated to a pair of zones (key: the smaller id << 16 | the larger).
    private let pairGateways: [UInt32: [Int]]
    /// Per role (by ``Role/allCases`` index), the roles a MAC must not also send from.
    private let forbiddenRoles: [UInt16]
    private let multiHomedAllowed: SmallMACSet

    struct ResolvedAllowRule: Sendable {
        var from: Set<ZoneID>?
        var to: Set<ZoneID>?
        var services: [ServiceSpec]?
    }

    public init(_ config: ZoneConfig) {
        self.config = config
        self.inventory = config.inventory
        var zones: [ZoneInfo?] = [nil]
        var vlanTable = [ZoneID](repeating: 0, count: 4096)
        var vniRanges: [(ClosedRange<UInt32>, ZoneID)] = []
        var prefixEntries: [(IPPrefix, ZoneID)] = []
        var macTable: [MACAddress: ZoneID] = [:]
        var byName: [String: ZoneID] = [:]
        for zone in config.zones {
            let id = ZoneID(zones.count)
            zones.append(ZoneInfo(id: id, name: zone.name, role: zone.role))
            byName[zone.name] = id
            for range in zone.vlans { for v in range { vlanTable[Int(v)] = id } }
            for range in zone.vnis { vniRanges.append((range, id)) }
            for p in zone.subnets { prefixEntries.append((p, id)) }
            for m in zone.macs { macTable[m] = id }
        }
        self.zones = zones
        self.vlanTable = vlanTable
        vniRanges.sort { $0.0.lowerBound < $1.0.lowerBound }
        self.vniLows = vniRanges.map { $0.0.lowerBound }
        self.vniHighs = vniRanges.map { $0.0.upperBound }
        self.vniZones = vniRanges.map { $0.1 }
        self.prefixes = PrefixMap(prefixEntries)
        self.macTable = macTable
        self.roleTable = zones.map { $0?.role }
        self.zoneIDsByName = byName
        self.gatewayMACs = SmallMACSet(config.gateways.enumerated().flatMap { i, g in g.macs.map { ($0, i) } })
        var outer: [[UInt64]?] = Array(repeating: nil, count: zones.count)
        for (i, zone) in config.zones.enumerated() where !zone.outerVLANs.isEmpty {
            var bits = [UInt64](repeating: 0, count: 64)
            var any = outer[0] ?? [UInt64](repeating: 0, count: 64)
            for range in zone.outerVLANs {
                for v in range {
                    bits[Int(v) >> 6] |= 1 << UInt64(v & 63)
                    any[Int(v) >> 6] |= 1 << UInt64(v & 63)
                }
            }
            outer[i + 1] = bits
            outer[0] = any
        }
        self.outerVLANs = outer
        var pairs: [UInt32: [Int]] = [:]
        for (i, g) in config.gateways.enumerated() {
            let ids = g.zones.compactMap { byName[$0] }
            for a in ids { for b in ids where a < b { pairs[UInt32(a) << 16 | UInt32(b), default: []].append(i) } }
        }
        self.pairGateways = pairs
        var forbidden = [UInt16](repeating: 0, count: Role.allCases.count)
        for (a, b) in config.multiHomed.forbidden {
            forbidden[a.index] |= 1 << UInt16(b.index)
            forbidden[b.index] |= 1 << UInt16(a.index)
        }
        self.forbiddenRoles = forbidden
        self.multiHomedAllowed = SmallMACSet(config.multiHomed.allowedMACs.map { ($0, 0) })
        self.allowRules = config.allow.map { rule in
            ResolvedAllowRule(from: rule.from.map { Set($0.compactMap { byName[$0] }) },
                              to: rule.to.map { Set($0.compactMap { byName[$0] }) },
                              services: rule.services)
        }
    }

    /// The zone that declares a VLAN id (0 if none).
    @inline(__always)
    public func zone(forVLAN vlan: UInt16) -> ZoneID { vlanTable[Int(vlan & 0x0FFF)] }

    /// The zone that declares a VNI (0 if none).
    @inline(__always)
    public func zone(forVNI vni: UInt32) -> ZoneID {
        // The last range starting at or below `vni`.
        var low = 0, high = vniLows.count
        while low < high {
            let mid = (low + high) / 2
            if vniLows[mid] <= vni { low = mid + 1 } else { high = mid }
        }
        return low > 0 && vni <= vniHighs[low - 1] ? vniZones[low - 1] : 0
    }

    /// The zone of the most specific subnet containing `address` (0 if none).
    @inline(__always)
    public func zone(for address: IPAddress) -> ZoneID { prefixes.lookup(address) ?? 0 }

    /// The zone that declares a MAC address (0 if none).
    @inline(__always)
    public func zone(forMAC mac: MACAddress) -> ZoneID { macTable[mac] ?? 0 }

    /// The zone of a segment: its VLAN's zone, else its VNI's zone.
    @inline(__always)
    public func zone(for segment: Segment) -> ZoneID {
        if segment.vlan != 0 {
            let z = zone(forVLAN: segment.vlan)
            if z != 0 { return z }
        }
        return segment.hasVNI ? zone(forVNI: segment.vni) : 0
    }

    /// Whether the segment's VLAN (or VNI, for overlays without an inner tag) is declared.
    public func isDeclared(_ segment: Segment) -> Bool {
        if segment.vlan != 0 { return zone(forVLAN: segment.vlan) != 0 }
        if segment.hasVNI { return zone(forVNI: segment.vni) != 0 }
        return true
    }

    @inline(__always)
    /// Nil for id 0, and for an id another configuration gave (a finding made before a live reload to fewer zones).
    public func role(_ id: ZoneID) -> Role? { Int(id) < roleTable.count ? roleTable[Int(id)] : nil }

    public func info(_ id: ZoneID) -> ZoneInfo? { id == 0 || Int(id) >= zones.count ? nil : zones[Int(id)] }

    public func name(_ id: ZoneID) -> String? { info(id)?.name }

    /// A zone's name for messages: never nil ("no zone" for id 0).
    public func label(_ id: ZoneID) -> String { info(id)?.name ?? "no zone" }

    /// A zone's role name for messages: never nil ("none" for id 0).
    public func roleLabel(_ id: ZoneID) -> String { role(id)?.rawValue ?? "none" }

    public func id(named name: String) -> ZoneID? { zoneIDsByName[name] }

    /// The gateway a MAC belongs to, if any.
    public func gateway(forMAC mac: MACAddress) -> Gateway? {
        gatewayMACs.value(mac).map { config.gateways[$0] }
    }

    public var hasGateways: Bool { !gatewayMACs.isEmpty }

    /// Whether `mac` is a gateway that traffic between zones `a` and `b` may pass:
    /// one dedicated to that pair if the config names any, else any gateway.
    public func isGateway(_ mac: MACAddress, between a: ZoneID, and b: ZoneID) -> Bool {
        guard let index = gatewayMACs.value(mac) else { return false }
        guard let dedicated = pairGateways[UInt32(min(a, b)) << 16 | UInt32(max(a, b))] else { return true }
        return dedicated.contains(index)
    }

    /// The gateways dedicated to traffic between zones `a` and `b` (empty: any gateway may route it).
    public func gateways(between a: ZoneID, and b: ZoneID) -> [Gateway] {
        (pairGateways[UInt32(min(a, b)) << 16 | UInt32(max(a, b))] ?? []).map { config.gateways[$0] }
    }

    /// Whether a VLAN stack (outermost first) is planned: fewer than two real
    /// tags, or every outer tag declared in `outer_vlans` of the zone of the
    /// innermost tag (of any zone, if the innermost VLAN is in none).
    public func isPlannedStack(_ stack: VLANStack) -> Bool {
        var inner: UInt16 = 0
        var i = stack.count - 1
        while i >= 0 {
            let id = stack[i].id
            i -= 1
            if id == 0 { continue }  // priority tags are no VLANs
            if inner == 0 { inner = id; continue }
            guard let allowed = outerVLANs[Int(zone(forVLAN: inner))], allowed[Int(id) >> 6] & (1 << UInt64(id & 63)) != 0 else { return false }
        }
        return true
    }

    /// The roles that must not share a MAC with `role`, as a bit set over ``Role/allCases`` indexes.
    public func forbiddenPartners(of role: Role) -> UInt16 { forbiddenRoles[role.index] }

    /// Whether a MAC may send from zones of roles that must not meet (`multi_homed.allowed_macs`).
    public func mayBeMultiHomed(_ mac: MACAddress) -> Bool { multiHomedAllowed.value(mac) != nil }

    /// Whether an `allow` entry covers a flow from `source` to `destination` on
    /// `proto`/`port`.
    public func isAllowed(from source: ZoneID, to destination: ZoneID, proto: IPProtocol, port: UInt16) -> Bool {
        for rule in allowRules {
            if let from = rule.from, !from.contains(source) { continue }
            if let to = rule.to, !to.contains(destination) { continue }
            if let services = rule.services, !services.contains(where: { $0.matches(proto, port) }) { continue }
            return true
        }
        return false
    }

    /// The service catalogue in effect (built-ins plus `services:`).
    public var services: ServiceCatalogue { config.services }
}

/// MAC addresses with a value, sorted for binary search: for the handful of
/// gateway and allowed MACs a site declares, asked on every flow start.
struct SmallMACSet: Sendable {
    private let keys: [UInt64]
    private let values: [Int]

    init(_ pairs: [(MACAddress, Int)]) {
        var firsts: [UInt64: Int] = [:]
        for (mac, v) in pairs where firsts[mac.rawValue] == nil { firsts[mac.rawValue] = v }
        let sorted = firsts.sorted { $0.key < $1.key }
        keys = sorted.map(\.key)
        values = sorted.map(\.value)
    }

    var isEmpty: Bool { keys.isEmpty }

    func value(_ mac: MACAddress) -> Int? {
        var low = 0, high = keys.count
        while low < high {
            let mid = (low + high) / 2
            if keys[mid] < mac.rawValue { low = mid + 1 } else { high = mid }
        }
        return low < keys.count && keys[low] == mac.rawValue ? values[low] : nil
    }
}
