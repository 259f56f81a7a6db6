/// A libpcap data link type (`DLT_*` / `LINKTYPE_*`), as an open set of values.
public struct LinkType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// BSD loopback: a 4-byte address family in host byte order of the capturing machine.
    public static let null = LinkType(rawValue: 0)
    /// Ethernet (DLT_EN10MB).
    public static let ethernet = LinkType(rawValue: 1)
    /// Raw IP, no link header (DLT_RAW as libpcap reports it on Linux).
    public static let raw = LinkType(rawValue: 12)
    /// OpenBSD loopback: address family in network byte order.
    public static let loop = LinkType(rawValue: 108)
    /// Linux cooked capture v1 (DLT_LINUX_SLL).
    public static let linuxSLL = LinkType(rawValue: 113)
    /// Raw IPv4 (LINKTYPE_IPV4).
    public static let ipv4 = LinkType(rawValue: 228)
    /// Raw IPv6 (LINKTYPE_IPV6).
    public static let ipv6 = LinkType(rawValue: 229)
    /// Linux cooked capture v2 (DLT_LINUX_SLL2).
    public static let linuxSLL2 = LinkType(rawValue: 276)

    /// libpcap's name for the link type (`EN10MB`, `LINUX_SLL2`, ...), or its number.
    public var name: String { Libpcap.datalinkName(rawValue) ?? "DLT \(rawValue)" }

    public var description: String { "\(name) (\(rawValue))" }
}
