/// BSD loopback (DLT_NULL): a 4-byte address family in the capturing host's byte order.
enum NullLoopbackDecoder: LinkLayerDecoder {
    static let linkTypes: [(number: Int32, name: String)] = [(0, "NULL")]

    static func decodeLink(_ b: ByteView, into p: inout DecodedPacket) -> NextLayer {
        decode(b, at: 0, networkOrder: false, into: &p)
    }

    /// The address family at `o` (OpenBSD's loopback writes it in network order).
    static func decode(_ b: ByteView, at o: Int, networkOrder: Bool, into p: inout DecodedPacket) -> NextLayer {
        guard b.has(4, at: o) else {
            p.flag(.nullTruncated)
            return .done
        }
        var family = networkOrder ? b.u32(o) : b.u32le(o)
        // DLT_NULL uses the capturing host's byte order: a value that does not
        // fit 16 bits was written big-endian.
        if !networkOrder && family > 0xFFFF { family = family.byteSwapped }
        switch family {
        case 2: return .ipv4(o + 4)
        case 10, 24, 28, 30: return .ipv6(o + 4)  // AF_INET6 on Linux, NetBSD/OpenBSD, FreeBSD, macOS
        default:
            p.flag(.nullUnknownFamily)
            return .done
        }
    }
}

/// OpenBSD loopback (DLT_LOOP): the address family in network byte order.
enum OpenBSDLoopbackDecoder: LinkLayerDecoder {
    static let linkTypes: [(number: Int32, name: String)] = [(108, "LOOP")]

    static func decodeLink(_ b: ByteView, into p: inout DecodedPacket) -> NextLayer {
        NullLoopbackDecoder.decode(b, at: 0, networkOrder: true, into: &p)
    }
}

/// Packets with no link header (DLT_RAW, LINKTYPE_IPV4/IPV6): the IP version nibble says which.
enum RawIPDecoder: LinkLayerDecoder {
    static let linkTypes: [(number: Int32, name: String)] = [(12, "RAW"), (14, "RAW"), (101, "RAW"), (228, "IPV4"), (229, "IPV6")]

    static func decodeLink(_ b: ByteView, into p: inout DecodedPacket) -> NextLayer { .rawIP(0) }

    static func decode(_ b: ByteView, at o: Int, into p: inout DecodedPacket) -> NextLayer {
        guard b.has(1, at: o) else {
            p.flag(.ipv4Truncated)
            return .done
        }
        switch b.u8(o) >> 4 {
        case 4: return .ipv4(o)
        case 6: return .ipv6(o)
        default:
            p.flag(.rawUnknownVersion)
            return .done
        }
    }
}
