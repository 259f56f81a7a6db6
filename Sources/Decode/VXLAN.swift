/// VXLAN (RFC 7348): an 8-byte header with the I flag and a 24-bit VNI, then Ethernet.
///
/// The port only suggests VXLAN (an ephemeral client port can be 4789 too): a
/// payload without the I flag and zero reserved bits is left as plain UDP.
enum VXLANDecoder {
    static func decode(_ b: ByteView, at o: Int, into p: inout DecodedPacket) -> NextLayer {
        guard b.has(8, at: o) else {
            p.flag(.vxlanTruncated)
            return .done
        }
        guard b.u8(o) & 0x08 != 0, b.u16(o + 1) == 0, b.u8(o + 7) == 0 else { return .done }
        let vni = b.u32(o + 4) >> 8
        return p.enterTunnel(.vxlan, identifier: vni, hasIdentifier: true) ? .ethernet(o + 8) : .done
    }
}
