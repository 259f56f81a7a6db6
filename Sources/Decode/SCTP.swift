/// SCTP (RFC 9260): the common header's ports, so that an SCTP flow is keyed,
/// judged and hashed (Community ID) by its ports as TCP and UDP are. The
/// chunks that follow are the payload; nothing reads them.
enum SCTPDecoder {
    static func decode(_ b: ByteView, at o: Int, into p: inout DecodedPacket) -> NextLayer {
        // Source port, destination port, verification tag, checksum.
        guard b.has(12, at: o), o &+ 12 <= p.ipPayloadEnd else {
            p.flag(.sctpTruncated)
            return .done
        }
        p.sourcePort = b.u16(o)
        p.destinationPort = b.u16(o + 2)
        p.hasTransport = true
        p.payloadOffset = o &+ 12
        p.payloadLength = p.ipPayloadEnd &- (o &+ 12)
        return .done
    }
}
