/// PPPoE session frames (RFC 2516) carrying PPP with IPv4 or IPv6.
enum PPPoEDecoder {
    static func decode(_ b: ByteView, at o: Int, into p: inout DecodedPacket) -> NextLayer {
        guard b.has(8, at: o) else {
            p.flag(.pppoeTruncated)
            return .done
        }
        p.viaPPPoE = true
        switch b.u16(o + 6) {
        case 0x0021: return .ipv4(o + 8)
        case 0x0057: return .ipv6(o + 8)
        default:
            p.network = .otherEthernet
            return .done
        }
    }
}
