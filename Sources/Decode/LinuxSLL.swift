/// Linux cooked capture v1 (`any` device): 16-byte header with the protocol last.
enum LinuxSLLDecoder: LinkLayerDecoder {
    static let linkTypes: [(number: Int32, name: String)] = [(113, "LINUX_SLL")]

    static func decodeLink(_ b: ByteView, into p: inout DecodedPacket) -> NextLayer {
        let o = 0
        guard b.has(16, at: o) else {
            p.flag(.sllTruncated)
            return .done
        }
        let hardwareType = b.u16(o + 2)
        let addressLength = b.u16(o + 4)
        if hardwareType == 1 && addressLength == 6 {
            p.sourceMAC = b.mac(o + 6)
            p.hasMACs = true
            p.macTunnelDepth = p.tunnels.count
        }
        return LinuxSLLDecoder.protocolLayer(b.u16(o + 14), b, at: o + 16, into: &p)
    }

    /// The cooked header's protocol field is an EtherType, except for a few
    /// Linux-specific small values (802.3 and 802.2 LLC frames).
    static func protocolLayer(_ value: UInt16, _ b: ByteView, at o: Int, into p: inout DecodedPacket) -> NextLayer {
        if value >= 0x0600 { return .etherType(EtherType(rawValue: value), o) }
        if value == 0x0004 { return LLCDecoder.decode(b, at: o, into: &p) }
        p.network = .otherEthernet
        return .done
    }
}

/// Linux cooked capture v2: 20-byte header with the protocol first.
enum LinuxSLL2Decoder: LinkLayerDecoder {
    static let linkTypes: [(number: Int32, name: String)] = [(276, "LINUX_SLL2")]

    static func decodeLink(_ b: ByteView, into p: inout DecodedPacket) -> NextLayer {
        let o = 0
        guard b.has(20, at: o) else {
            p.flag(.sll2Truncated)
            return .done
        }
        let hardwareType = b.u16(o + 8)
        let addressLength = b.u8(o + 11)
        if hardwareType == 1 && addressLength == 6 {
            p.sourceMAC = b.mac(o + 12)
            p.hasMACs = true
            p.macTunnelDepth = p.tunnels.count
        }
        return LinuxSLLDecoder.protocolLayer(b.u16(o), b, at: o + 20, into: &p)
    }
}
