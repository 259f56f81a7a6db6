/// UDP (RFC 768). The payload may be a VXLAN or Geneve tunnel, routed by port.
enum UDPDecoder {
    static func decode(_ b: ByteView, at o: Int, into p: inout DecodedPacket) -> NextLayer {
        guard b.has(8, at: o), o &+ 8 <= p.ipPayloadEnd else {
            p.flag(.udpTruncated)
            return .done
        }
        p.sourcePort = b.u16(o)
        p.destinationPort = b.u16(o + 2)
        p.hasTransport = true
        let length = Int(b.u16(o + 4))
        var end = p.ipPayloadEnd
        if length != 0 {  // 0 is legal for IPv6 jumbograms
            guard length >= 8 else {
                p.flag(.udpBadLength)
                return .done
            }
            if o &+ length < end { end = o &+ length }
        }
        p.payloadOffset = o &+ 8
        p.payloadLength = end &- (o &+ 8)
        if p.isFragment { return .done }  // a first fragment's payload is incomplete
        // xid, msg_type 0 (CALL), rpcvers 2, a program: tells the flow's client from its server (RFC 5531).
        if p.payloadLength >= 16, b.has(16, at: o &+ 8), b.u32(o &+ 12) == 0, b.u32(o &+ 16) == 2, b.u32(o &+ 20) != 0 { p.isRPCCall = true }
        return .udpPayload(o &+ 8)
    }
}
