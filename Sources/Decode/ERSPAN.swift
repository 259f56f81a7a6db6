/// ERSPAN type II and III headers (mirrored frames inside GRE). The header's
/// VLAN field is the original VLAN of the mirrored frame.
enum ERSPANDecoder {
    static func decodeTypeII(_ b: ByteView, at o: Int, into p: inout DecodedPacket) -> NextLayer {
        guard b.has(8, at: o) else {
            p.flag(.erspanTruncated)
            return .done
        }
        let word = b.u32(o)
        guard word >> 28 == 1 else {
            p.flag(.erspanBadVersion)
            return .done
        }
        let vlan = UInt16((word >> 16) & 0x0FFF)
        let session = word & 0x03FF
        guard p.enterTunnel(.erspan2, identifier: session, hasIdentifier: true) else { return .done }
        p.mirrorVLAN = vlan
        return .ethernet(o + 8)
    }

    static func decodeTypeIII(_ b: ByteView, at o: Int, into p: inout DecodedPacket) -> NextLayer {
        guard b.has(12, at: o) else {
            p.flag(.erspanTruncated)
            return .done
        }
        let word = b.u32(o)
        guard word >> 28 == 2 else {
            p.flag(.erspanBadVersion)
            return .done
        }
        let vlan = UInt16((word >> 16) & 0x0FFF)
        let session = word & 0x03FF
        // The O flag (lowest bit of the last 16-bit word) announces an 8-byte platform sub-header.
        let length = b.u16(o + 10) & 1 == 1 ? 20 : 12
        guard b.has(length, at: o) else {
            p.flag(.erspanTruncated)
            return .done
        }
        guard p.enterTunnel(.erspan3, identifier: session, hasIdentifier: true) else { return .done }
        p.mirrorVLAN = vlan
        return .ethernet(o + length)
    }
}
