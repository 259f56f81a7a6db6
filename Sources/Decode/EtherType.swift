/// An Ethernet protocol type (`ETH_P_*`), as an open set of values.
@frozen
public struct EtherType: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let ipv4 = EtherType(rawValue: 0x0800)
    public static let arp = EtherType(rawValue: 0x0806)
    public static let transparentEthernetBridging = EtherType(rawValue: 0x6558)
    public static let rarp = EtherType(rawValue: 0x8035)
    /// 802.1Q customer tag (C-tag).
    public static let vlan = EtherType(rawValue: 0x8100)
    public static let ipv6 = EtherType(rawValue: 0x86DD)
    public static let mplsUnicast = EtherType(rawValue: 0x8847)
    public static let mplsMulticast = EtherType(rawValue: 0x8848)
    public static let pppoeDiscovery = EtherType(rawValue: 0x8863)
    public static let pppoeSession = EtherType(rawValue: 0x8864)
    /// ATA over Ethernet: block storage with no authentication at all.
    public static let aoe = EtherType(rawValue: 0x88A2)
    /// 802.1ad service tag (S-tag), the standard QinQ outer tag.
    public static let qinq = EtherType(rawValue: 0x88A8)
    /// ERSPAN type I/II (as a GRE protocol type).
    public static let erspan = EtherType(rawValue: 0x88BE)
    /// ERSPAN type III (as a GRE protocol type).
    public static let erspan3 = EtherType(rawValue: 0x22EB)
    /// MACsec (802.1AE).
    public static let macsec = EtherType(rawValue: 0x88E5)
    /// Fibre Channel over Ethernet.
    public static let fcoe = EtherType(rawValue: 0x8906)
    /// FCoE Initialization Protocol.
    public static let fip = EtherType(rawValue: 0x8914)
    /// Pre-standard QinQ outer tag.
    public static let qinqLegacy = EtherType(rawValue: 0x9100)

    /// Whether this type introduces a VLAN tag (802.1Q, 802.1ad or 0x9100).
    public var isVLANTag: Bool {
        rawValue == 0x8100 || rawValue == 0x88A8 || rawValue == 0x9100
    }
}

/// An IP protocol number (IPv4 protocol / IPv6 next header), as an open set of values.
@frozen
public struct IPProtocol: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let hopByHop = IPProtocol(rawValue: 0)
    public static let icmp = IPProtocol(rawValue: 1)
    public static let ipv4 = IPProtocol(rawValue: 4)
    public static let tcp = IPProtocol(rawValue: 6)
    public static let udp = IPProtocol(rawValue: 17)
    public static let ipv6 = IPProtocol(rawValue: 41)
    public static let routing = IPProtocol(rawValue: 43)
    public static let fragment = IPProtocol(rawValue: 44)
    public static let gre = IPProtocol(rawValue: 47)
    public static let esp = IPProtocol(rawValue: 50)
    public static let ah = IPProtocol(rawValue: 51)
    public static let icmpv6 = IPProtocol(rawValue: 58)
    public static let noNextHeader = IPProtocol(rawValue: 59)
    public static let destinationOptions = IPProtocol(rawValue: 60)
    public static let sctp = IPProtocol(rawValue: 132)

    /// The name Suricata's EVE uses in `proto`, or the number.
    public var description: String {
        switch rawValue {
        case 1: return "ICMP"
        case 6: return "TCP"
        case 17: return "UDP"
        case 47: return "GRE"
        case 50: return "ESP"
        case 51: return "AH"
        case 58: return "IPv6-ICMP"
        case 132: return "SCTP"
        default: return String(rawValue)
        }
    }

    /// Lower-case name for service specs (`tcp/22`).
    public var serviceName: String {
        switch rawValue {
        case 6: return "tcp"
        case 17: return "udp"
        case 1: return "icmp"
        case 58: return "icmp6"
        case 132: return "sctp"
        default: return "ip\(rawValue)"
        }
    }
}
