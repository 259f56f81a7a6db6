/// TCP (RFC 9293): ports, flags, sequence numbers and the payload's place.
enum TCPDecoder {
    static func decode(_ b: ByteView, at o: Int, into p: inout DecodedPacket) -> NextLayer {
        guard b.has(20, at: o), o &+ 20 <= p.ipPayloadEnd else {
            p.flag(.tcpTruncated)
            return .done
        }
        let dataOffset = Int(b.u8(o + 12) >> 4) &* 4
        guard dataOffset >= 20 else {
            p.flag(.tcpBadDataOffset)
            return .done
        }
        p.sourcePort = b.u16(o)
        p.destinationPort = b.u16(o + 2)
        p.tcpSequence = b.u32(o + 4)
        p.tcpAcknowledgement = b.u32(o + 8)
        p.tcpFlags = b.u8(o + 13)
        p.hasTransport = true
        let payloadStart = o &+ dataOffset
        if payloadStart > p.ipPayloadEnd {
            p.flag(.tcpTruncated)  // options cut off by the snapshot length
            p.payloadOffset = p.ipPayloadEnd
            p.payloadLength = 0
            return .done
        }
        p.payloadOffset = payloadStart
        p.payloadLength = p.ipPayloadEnd &- payloadStart
        return .done
    }
}

/// TCP flag bits.
public enum TCPFlags {
    public static let fin: UInt8 = 0x01
    public static let syn: UInt8 = 0x02
    public static let rst: UInt8 = 0x04
    public static let psh: UInt8 = 0x08
    public static let ack: UInt8 = 0x10
}
