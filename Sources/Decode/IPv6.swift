import Vocabulary

/// IPv6 (RFC 8200) with hop-by-hop, routing, fragment, destination-options and
/// AH extension headers. Later fragments carry no transport header.
enum IPv6Decoder {
    /// Extension headers followed before the chain counts as an anomaly.
    static let maximumExtensions = 8

    static func decode(_ b: ByteView, at o: Int, into p: inout DecodedPacket) -> NextLayer {
        guard b.has(40, at: o) else {
            p.flag(.ipv6Truncated)
            return .done
        }
        guard b.u8(o) >> 4 == 6 else {
            p.flag(.ipv6BadVersion)
            return .done
        }
        let payloadLength = Int(b.u16(o + 4))
        var end = b.count
        if payloadLength != 0 {  // 0: jumbogram or offloaded segment; use what was captured
            if o &+ 40 &+ payloadLength <= b.count {
                end = o &+ 40 &+ payloadLength
            } else {
                p.flag(.ipv6Truncated)
            }
        }
        p.network = .ipv6
        p.source = IPAddress(high: b.u64(o + 8), low: b.u64(o + 16))
        p.destination = IPAddress(high: b.u64(o + 24), low: b.u64(o + 32))
        p.ttl = b.u8(o + 7)
        p.ipPayloadEnd = end
        var next = IPProtocol(rawValue: b.u8(o + 6))
        var offset = o + 40
        var extensions = 0
        while true {
            switch next {
            case .hopByHop, .routing, .destinationOptions:  // (length + 1) * 8 bytes
                guard b.has(2, at: offset), offset < end else {
                    p.flag(.ipv6ExtensionTruncated)
                    return .done
                }
                let length = (Int(b.u8(offset + 1)) + 1) &* 8
                next = IPProtocol(rawValue: b.u8(offset))
                offset &+= length
            case .fragment:  // 8 bytes
                guard b.has(8, at: offset), offset < end else {
                    p.flag(.ipv6ExtensionTruncated)
                    return .done
                }
                let field = b.u16(offset + 2)
                next = IPProtocol(rawValue: b.u8(offset))
                offset &+= 8
                p.isFragment = true
                p.fragmentOffset = Int(field & 0xFFF8)
                if field & 0xFFF8 != 0 {
                    p.ipProtocol = next
                    return .done
                }
            case .ah:  // (length + 2) * 4 bytes
                guard b.has(2, at: offset), offset < end else {
                    p.flag(.ipv6ExtensionTruncated)
                    return .done
                }
                let length = (Int(b.u8(offset + 1)) + 2) &* 4
                next = IPProtocol(rawValue: b.u8(offset))
                offset &+= length
            default:
                p.ipProtocol = next
                if next == .noNextHeader { return .done }
                guard offset <= end else {
                    p.flag(.ipv6ExtensionTruncated)
                    return .done
                }
                return .ipProtocol(next, offset)
            }
            extensions &+= 1
            if extensions > maximumExtensions {
                p.flag(.ipv6TooManyExtensions)
                return .done
            }
        }
    }
}
