/// ICMP and ICMPv6: type and code (the flow's "ports", as Zeek and Community ID map them).
enum ICMPDecoder {
    static func decode(_ b: ByteView, at o: Int, into p: inout DecodedPacket) -> NextLayer {
        guard b.has(4, at: o), o &+ 4 <= p.ipPayloadEnd else {
            p.flag(.icmpTruncated)
            return .done
        }
        record(b, at: o, into: &p)
        return .done
    }

    static func decodeV6(_ b: ByteView, at o: Int, into p: inout DecodedPacket) -> NextLayer {
        guard b.has(4, at: o), o &+ 4 <= p.ipPayloadEnd else {
            p.flag(.icmpv6Truncated)
            return .done
        }
        record(b, at: o, into: &p)
        return .done
    }

    static func record(_ b: ByteView, at o: Int, into p: inout DecodedPacket) {
        p.icmpType = b.u8(o)
        p.icmpCode = b.u8(o + 1)
        p.hasTransport = true
        p.payloadOffset = min(o &+ 8, p.ipPayloadEnd)
        p.payloadLength = p.ipPayloadEnd &- p.payloadOffset
    }
}
