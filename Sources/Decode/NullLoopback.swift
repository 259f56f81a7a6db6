/// BSD (DLT_NULL) and OpenBSD (DLT_LOOP) loopback: a 4-byte address family.
enum NullLoopbackDecoder {
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

/// Packets with no link header: the IP version nibble says which.
enum RawIPDecoder {
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
