import Vocabulary

/// IPv4 (RFC 791) with options and fragments. Later fragments (offset > 0) carry
/// no transport header and are not decoded further.
enum IPv4Decoder {
    static func decode(_ b: ByteView, at o: Int, into p: inout DecodedPacket) -> NextLayer {
        guard b.has(20, at: o) else {
            p.flag(.ipv4Truncated)
            return .done
        }
        let versionAndLength = b.u8(o)
        guard versionAndLength >> 4 == 4 else {
            p.flag(.ipv4BadVersion)
            return .done
        }
        let headerLength = Int(versionAndLength & 0x0F) &* 4
        guard headerLength >= 20 else {
            p.flag(.ipv4HeaderTooShort)
            return .done
        }
        guard b.has(headerLength, at: o) else {
            p.flag(.ipv4Truncated)
            return .done
        }
        let totalLength = Int(b.u16(o + 2))
        var end = b.count
        if totalLength == 0 {
            // Seen on segmentation-offloaded packets captured on the sending host, and
            // on corrupt ones: counted, then decoded with what was captured (as Wireshark does).
            p.flag(.ipv4ZeroTotalLength)
        } else {
            guard totalLength >= headerLength else {
                p.flag(.ipv4BadTotalLength)
                return .done
            }
            if o &+ totalLength <= b.count {
                end = o &+ totalLength  // drops Ethernet padding
            } else {
                p.flag(.ipv4Truncated)  // cut by the snapshot length; decode what is there
            }
        }
        p.network = .ipv4
        p.source = IPAddress(ipv4: b.u32(o + 12))
        p.destination = IPAddress(ipv4: b.u32(o + 16))
        p.ttl = b.u8(o + 8)
        let proto = IPProtocol(rawValue: b.u8(o + 9))
        p.ipProtocol = proto
        p.ipPayloadEnd = end
        if headerLength > 20 {
            p.hasIPOptions = true
            if !optionsAreWellFormed(b, from: o + 20, to: o + headerLength) { p.flag(.ipv4BadOption) }
        }
        let fragment = b.u16(o + 6)
        let offset = Int(fragment & 0x1FFF) &* 8
        if offset != 0 {
            p.isFragment = true
            p.fragmentOffset = offset
            return .done
        }
        if fragment & 0x2000 != 0 { p.isFragment = true }  // first fragment: transport header is here
        return .ipProtocol(proto, o + headerLength)
    }

    /// Walks the option list: every option but EOL and NOP needs a length of at
    /// least 2 that stays inside the header.
    static func optionsAreWellFormed(_ b: ByteView, from start: Int, to end: Int) -> Bool {
        var i = start
        while i < end {
            let type = b.u8(i)
            if type == 0 { return true }
            if type == 1 { i += 1; continue }
            guard i + 1 < end else { return false }
            let length = Int(b.u8(i + 1))
            guard length >= 2, i + length <= end else { return false }
            i += length
        }
        return true
    }
}
