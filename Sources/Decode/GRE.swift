/// GRE (RFC 2784/2890) carrying IPv4, IPv6, Ethernet (transparent bridging,
/// NVGRE), MPLS, or ERSPAN mirror traffic. PPTP's enhanced GRE (version 1)
/// carries PPP and is not followed.
enum GREDecoder {
    static func decode(_ b: ByteView, at o: Int, into p: inout DecodedPacket) -> NextLayer {
        guard b.has(4, at: o) else {
            p.flag(.greTruncated)
            return .done
        }
        let flags = b.u16(o)
        let version = flags & 0x0007
        if version == 1 { return .done }
        guard version == 0 else {
            p.flag(.greBadVersion)
            return .done
        }
        let protocolType = b.u16(o + 2)
        let hasChecksum = flags & 0xC000 != 0  // checksum or (RFC 1701) routing present
        let hasKey = flags & 0x2000 != 0
        let hasSequence = flags & 0x1000 != 0
        var length = 4
        if hasChecksum { length += 4 }
        let keyOffset = o + length
        if hasKey { length += 4 }
        if hasSequence { length += 4 }
        guard b.has(length, at: o) else {
            p.flag(.greTruncated)
            return .done
        }
        let key: UInt32 = hasKey ? b.u32(keyOffset) : 0
        let inner = o + length
        switch EtherType(rawValue: protocolType) {
        case .ipv4:
            return p.enterTunnel(.gre, identifier: key, hasIdentifier: hasKey) ? .ipv4(inner) : .done
        case .ipv6:
            return p.enterTunnel(.gre, identifier: key, hasIdentifier: hasKey) ? .ipv6(inner) : .done
        case .transparentEthernetBridging:
            // NVGRE: key present, checksum and sequence absent; the key's top 24 bits are the VSID.
            if hasKey && !hasChecksum && !hasSequence {
                return p.enterTunnel(.nvgre, identifier: key >> 8, hasIdentifier: true) ? .ethernet(inner) : .done
            }
            return p.enterTunnel(.gre, identifier: key, hasIdentifier: hasKey) ? .ethernet(inner) : .done
        case .erspan:
            // ERSPAN type I has no sequence number and no ERSPAN header; type II has both.
            if !hasSequence {
                return p.enterTunnel(.erspan1) ? .ethernet(inner) : .done
            }
            return ERSPANDecoder.decodeTypeII(b, at: inner, into: &p)
        case .erspan3:
            return ERSPANDecoder.decodeTypeIII(b, at: inner, into: &p)
        case .mplsUnicast, .mplsMulticast:
            return p.enterTunnel(.gre, identifier: key, hasIdentifier: hasKey) ? .etherType(EtherType(rawValue: protocolType), inner) : .done
        default:
            // Not followed inside, not hidden: counted, and the packet stays a GRE
            // flow between the tunnel's endpoints (rule 5004 judges those).
            p.flag(.greUnknownPayload)
            return .done
        }
    }
}
