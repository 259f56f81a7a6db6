import Vocabulary

/// ARP and RARP. Addresses are recorded for Ethernet/IPv4 ARP only.
enum ARPDecoder {
    static func decode(_ b: ByteView, at o: Int, into p: inout DecodedPacket) -> NextLayer {
        guard b.has(8, at: o) else {
            p.flag(.arpTruncated)
            return .done
        }
        p.network = .arp
        p.arpOperation = b.u16(o + 6)
        let hardwareLength = Int(b.u8(o + 4)), protocolLength = Int(b.u8(o + 5))
        guard b.u16(o) == 1, b.u16(o + 2) == EtherType.ipv4.rawValue, hardwareLength == 6, protocolLength == 4 else {
            return .done
        }
        guard b.has(28, at: o) else {
            p.flag(.arpTruncated)
            return .done
        }
        p.arpSenderMAC = b.mac(o + 8)
        p.arpSenderIP = IPAddress(ipv4: b.u32(o + 14))
        p.arpTargetMAC = b.mac(o + 18)
        p.arpTargetIP = IPAddress(ipv4: b.u32(o + 24))
        return .done
    }
}
