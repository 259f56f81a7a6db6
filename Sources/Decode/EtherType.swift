/// An Ethernet protocol type (`ETH_P_*`), as an open set of values.
@frozen
public struct EtherType: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    @inlinable public static var ipv4: EtherType { EtherType(rawValue: 0x0800) }
    @inlinable public static var arp: EtherType { EtherType(rawValue: 0x0806) }
    @inlinable public static var transparentEthernetBridging: EtherType { EtherType(rawValue: 0x6558) }
    @inlinable public static var rarp: EtherType { EtherType(rawValue: 0x8035) }
    /// 802.1Q customer tag (C-tag).
    @inlinable public static var vlan: EtherType { EtherType(rawValue: 0x8100) }
    @inlinable public static var ipv6: EtherType { EtherType(rawValue: 0x86DD) }
    @inlinable public static var mplsUnicast: EtherType { EtherType(rawValue: 0x8847) }
    @inlinable public static var mplsMulticast: EtherType { EtherType(rawValue: 0x8848) }
    @inlinable public static var pppoeDiscovery: EtherType { EtherType(rawValue: 0x8863) }
    @inlinable public static var pppoeSession: EtherType { EtherType(rawValue: 0x8864) }
    /// ATA over Ethernet: block storage with no authentication at all.
    @inlinable public static var aoe: EtherType { EtherType(rawValue: 0x88A2) }
    /// 802.1ad service tag (S-tag), the standard QinQ outer tag.
    @inlinable public static var qinq: EtherType { EtherType(rawValue: 0x88A8) }
    /// ERSPAN type I/II (as a GRE protocol type).
    @inlinable public static var erspan: EtherType { EtherType(rawValue: 0x88BE) }
    /// ERSPAN type III (as a GRE protocol type).
    @inlinable public static var erspan3: EtherType { EtherType(rawValue: 0x22EB) }
    /// MACsec (802.1AE).
    @inlinable public static var macsec: EtherType { EtherType(rawValue: 0x88E5) }
    /// Fibre Channel over Ethernet.
    @inlinable public static var fcoe: EtherType { EtherType(rawValue: 0x8906) }
    /// FCoE Initialization Protocol.
    @inlinable public static var fip: EtherType { EtherType(rawValue: 0x8914) }
    /// Pre-standard QinQ outer tag.
    @inlinable public static var qinqLegacy: EtherType { EtherType(rawValue: 0x9100) }

    /// Whether this type introduces a VLAN tag (802.1Q, 802.1ad or 0x9100).
    public var isVLANTag: Bool {
        self == .vlan || self == .qinq || self == .qinqLegacy
    }
}
