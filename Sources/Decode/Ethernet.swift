/// Ethernet II and 802.3/LLC/SNAP frames.
enum EthernetDecoder {
    static let headerLength = 14

    static func decode(_ b: ByteView, at o: Int, into p: inout DecodedPacket) -> NextLayer {
        guard b.has(headerLength, at: o) else {
            p.flag(.ethernetTruncated)
            return .done
        }
        p.destinationMAC = b.mac(o)
        p.sourceMAC = b.mac(o + 6)
        p.hasMACs = true
        p.macTunnelDepth = p.tunnels.count
        let typeOrLength = b.u16(o + 12)
        if typeOrLength >= 0x0600 {
            return .etherType(EtherType(rawValue: typeOrLength), o + headerLength)
        }
        return LLCDecoder.decode(b, at: o + headerLength, into: &p)
    }
}

/// 802.2 LLC after an 802.3 length field; only SNAP carries an EtherType we follow.
enum LLCDecoder {
    static func decode(_ b: ByteView, at o: Int, into p: inout DecodedPacket) -> NextLayer {
        guard b.has(3, at: o) else {
            p.flag(.llcTruncated)
            return .done
        }
        // SNAP: DSAP 0xAA, SSAP 0xAA, control 0x03, then a 3-byte OUI and an EtherType.
        if b.u8(o) == 0xAA && b.u8(o + 1) == 0xAA && b.u8(o + 2) == 0x03 {
            guard b.has(8, at: o) else {
                p.flag(.llcTruncated)
                return .done
            }
            return .etherType(EtherType(rawValue: b.u16(o + 6)), o + 8)
        }
        p.network = .otherEthernet
        return .done
    }
}

/// Captures of Ethernet frames (DLT_EN10MB): the frame is decoded by the main
/// loop as frames inside tunnels are.
enum EthernetLink: LinkLayerDecoder {
    static let linkTypes: [(number: Int32, name: String)] = [(1, "EN10MB")]
    static func decodeLink(_ bytes: ByteView, into p: inout DecodedPacket) -> NextLayer { .ethernet(0) }
}
