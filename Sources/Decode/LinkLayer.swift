/// How a capture's packets begin; the sensor maps libpcap link types onto these.
public enum LinkLayer: UInt8, Sendable {
    /// Ethernet II / 802.3 frames (DLT_EN10MB).
    case ethernet
    /// Linux cooked capture v1 (DLT_LINUX_SLL).
    case linuxSLL
    /// Linux cooked capture v2 (DLT_LINUX_SLL2).
    case linuxSLL2
    /// An IPv4 or IPv6 packet with no link header (DLT_RAW, LINKTYPE_IPV4/IPV6).
    case rawIP
    /// BSD loopback: address family in the capturing host's byte order (DLT_NULL).
    case null
    /// OpenBSD loopback: address family in network byte order (DLT_LOOP).
    case loop
}
