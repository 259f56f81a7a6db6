import Decode

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
    /// Zones by id; index 0 is unused so that ids index directly.
    public let zones: [ZoneInfo?]
    private let vlanTable: [ZoneID]
    private let vniTable: [UInt32: ZoneID]
    private let prefixes: PrefixMap<ZoneID>
    private let macTable: [MACAddress: ZoneID]
    private let roleTable: [Role?]
    /// Gateway MAC → gateway index in `config.gateways`.
    private let gatewayMACs: [MACAddress: Int]
    private let allowRules: [ResolvedAllowRule]
    private let zoneIDsByName: [String: ZoneID]

    struct ResolvedAllowRule: Sendable {
        var from: Set<ZoneID>?
        var to: Set<ZoneID>?
        var services: [ServiceSpec]?
    }

    public init(_ config: ZoneConfig) {
        self.config = config
        var zones: [ZoneInfo?] = [nil]
        var vlanTable = [ZoneID](repeating: 0, count: 4096)
        var vniTable: [UInt32: ZoneID] = [:]
        var prefixEntries: [(IPPrefix, ZoneID)] = []
        var macTable: [MACAddress: ZoneID] = [:]
        var byName: [String: ZoneID] = [:]
        for zone in config.zones {
            let id = ZoneID(zones.count)
            zones.append(ZoneInfo(id: id, name: zone.name, role: zone.role))
            byName[zone.name] = id
            for range in zone.vlans { for v in range { vlanTable[Int(v)] = id } }
            for range in zone.vnis { for v in range { vniTable[v] = id } }
            for p in zone.subnets { prefixEntries.append((p, id)) }
            for m in zone.macs { macTable[m] = id }
        }
        self.zones = zones
        self.vlanTable = vlanTable
        self.vniTable = vniTable
        self.prefixes = PrefixMap(prefixEntries)
        self.macTable = macTable
        self.roleTable = zones.map { $0?.role }
        self.zoneIDsByName = byName
        var gatewayMACs: [MACAddress: Int] = [:]
        for (i, g) in config.gateways.enumerated() { for m in g.macs { gatewayMACs[m] = i } }
        self.gatewayMACs = gatewayMACs
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
    public func zone(forVNI vni: UInt32) -> ZoneID { vniTable[vni] ?? 0 }

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
    public func role(_ id: ZoneID) -> Role? { roleTable[Int(id)] }

    public func info(_ id: ZoneID) -> ZoneInfo? { id == 0 ? nil : zones[Int(id)] }

    public func name(_ id: ZoneID) -> String? { info(id)?.name }

    public func id(named name: String) -> ZoneID? { zoneIDsByName[name] }

    /// The gateway a MAC belongs to, if any.
    public func gateway(forMAC mac: MACAddress) -> Gateway? {
        gatewayMACs[mac].map { config.gateways[$0] }
    }

    public var hasGateways: Bool { !gatewayMACs.isEmpty }

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
