/// An IP protocol number (IPv4 protocol / IPv6 next header), as an open set of values.
@frozen
public struct IPProtocol: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    @inlinable public static var hopByHop: IPProtocol { IPProtocol(rawValue: 0) }
    @inlinable public static var icmp: IPProtocol { IPProtocol(rawValue: 1) }
    @inlinable public static var ipv4: IPProtocol { IPProtocol(rawValue: 4) }
    @inlinable public static var tcp: IPProtocol { IPProtocol(rawValue: 6) }
    @inlinable public static var udp: IPProtocol { IPProtocol(rawValue: 17) }
    @inlinable public static var ipv6: IPProtocol { IPProtocol(rawValue: 41) }
    @inlinable public static var routing: IPProtocol { IPProtocol(rawValue: 43) }
    @inlinable public static var fragment: IPProtocol { IPProtocol(rawValue: 44) }
    @inlinable public static var gre: IPProtocol { IPProtocol(rawValue: 47) }
    @inlinable public static var esp: IPProtocol { IPProtocol(rawValue: 50) }
    @inlinable public static var ah: IPProtocol { IPProtocol(rawValue: 51) }
    @inlinable public static var icmpv6: IPProtocol { IPProtocol(rawValue: 58) }
    @inlinable public static var noNextHeader: IPProtocol { IPProtocol(rawValue: 59) }
    @inlinable public static var destinationOptions: IPProtocol { IPProtocol(rawValue: 60) }
    @inlinable public static var sctp: IPProtocol { IPProtocol(rawValue: 132) }

    /// The name Suricata's EVE uses in `proto`, or the number.
    public var description: String {
        switch rawValue {
        // IANA's protocol keywords, written as Suricata writes them.
        case 1: return "ICMP"
        case 2: return "IGMP"
        case 4: return "IPv4"
        case 6: return "TCP"
        case 17: return "UDP"
        case 33: return "DCCP"
        case 41: return "IPv6"
        case 46: return "RSVP"
        case 47: return "GRE"
        case 50: return "ESP"
        case 51: return "AH"
        case 58: return "IPv6-ICMP"
        case 88: return "EIGRP"
        case 89: return "OSPF"
        case 97: return "ETHERIP"
        case 103: return "PIM"
        case 112: return "VRRP"
        case 115: return "L2TP"
        case 132: return "SCTP"
        case 136: return "UDPLite"
        case 137: return "MPLS-in-IP"
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

    /// Whether the protocol has ports (TCP, UDP, SCTP); ICMP's type and code are not ports.
    @inlinable public var hasPorts: Bool { self == .tcp || self == .udp || self == .sctp }
}
