/// An MPLS label stack; the payload after the bottom label is recognised by its
/// first nibble (IPv4, IPv6, or a pseudowire control word before Ethernet).
enum MPLSDecoder {
    static let maximumLabels = 8

    static func decode(_ b: ByteView, at start: Int, into p: inout DecodedPacket) -> NextLayer {
        var o = start
        while true {
            guard b.has(4, at: o) else {
                p.flag(.mplsTruncated)
                return .done
            }
            let entry = b.u32(o)
            if p.mplsLabelCount < 4 { p.mplsLabels[p.mplsLabelCount] = entry >> 12 }
            p.mplsLabelCount += 1
            o += 4
            if entry & 0x100 != 0 { break }  // bottom of stack
            if p.mplsLabelCount >= maximumLabels {
                p.flag(.mplsTooManyLabels)
                return .done
            }
        }
        guard b.has(1, at: o) else {
            p.flag(.mplsTruncated)
            return .done
        }
        switch b.u8(o) >> 4 {
        case 4: return .ipv4(o)
        case 6: return .ipv6(o)
        case 0:
            // Ethernet pseudowire with the 4-byte control word (RFC 4385).
            return .ethernet(o + 4)
        default:
            p.flag(.mplsUnknownPayload)
            return .done
        }
    }
}
