/// Geneve (RFC 8926): version 0, variable options, a 24-bit VNI, then Ethernet or IP.
/// A payload on the Geneve port with another version is left as plain UDP.
enum GeneveDecoder {
    static func decode(_ b: ByteView, at o: Int, into p: inout DecodedPacket) -> NextLayer {
        guard b.has(8, at: o) else {
            p.flag(.geneveTruncated)
            return .done
        }
        let first = b.u8(o)
        guard first >> 6 == 0 else { return .done }
        let length = 8 + Int(first & 0x3F) * 4
        guard b.has(length, at: o) else {
            p.flag(.geneveTruncated)
            return .done
        }
        let protocolType = b.u16(o + 2)
        let vni = b.u32(o + 4) >> 8
        guard p.enterTunnel(.geneve, identifier: vni, hasIdentifier: true) else { return .done }
        switch EtherType(rawValue: protocolType) {
        case .transparentEthernetBridging: return .ethernet(o + length)
        case .ipv4: return .ipv4(o + length)
        case .ipv6: return .ipv6(o + length)
        default: return .done
        }
    }
}
