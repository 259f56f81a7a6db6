/// 802.1Q, 802.1ad and 0x9100 tags, stacked to any depth up to ``VLANStack/capacity``.
enum VLANDecoder {
    static func decode(_ b: ByteView, at o: Int, tpid: UInt16, into p: inout DecodedPacket) -> NextLayer {
        guard b.has(4, at: o) else {
            p.flag(.vlanTruncated)
            return .done
        }
        let tag = VLANTag(tpid: tpid, tci: b.u16(o))
        let pushed = p.tunnels.isEmpty ? p.vlans.push(tag) : p.innerVLANs.push(tag)
        guard pushed else {
            p.flag(.vlanTooManyTags)
            return .done
        }
        return .etherType(EtherType(rawValue: b.u16(o + 2)), o + 4)
    }
}
