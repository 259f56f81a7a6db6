import Capture
import Decode
import Vocabulary

/// Builders for the layers the sensor decodes: each returns the bytes of one
/// header plus its payload, with lengths and checksums filled in. They build
/// the project's own test, example and benchmark captures.
public enum Frames {
    // MARK: Link layer

    /// An Ethernet II frame with optional VLAN tags (outermost first).
    public static func ethernet(source: MACAddress, destination: MACAddress, tags: [VLANTag] = [], etherType: UInt16, payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(14 + 4 * tags.count + payload.count)
        out += mac(destination)
        out += mac(source)
        for tag in tags {
            out += be16(tag.tpid == 0 ? 0x8100 : tag.tpid)
            out += be16(tag.tci)
        }
        out += be16(etherType)
        out += payload
        return out
    }

    /// An 802.1Q tag (TPID 0x8100) with VLAN id `id` and priority `priority`.
    public static func dot1q(_ id: UInt16, priority: UInt8 = 0) -> VLANTag {
        VLANTag(tpid: 0x8100, tci: UInt16(priority) << 13 | (id & 0x0FFF))
    }

    /// An 802.1ad service tag (TPID 0x88A8).
    public static func dot1ad(_ id: UInt16) -> VLANTag { VLANTag(tpid: 0x88A8, tci: id & 0x0FFF) }

    /// Linux cooked capture v1 header + payload.
    public static func linuxSLL(source: MACAddress, protocolType: UInt16, payload: [UInt8], packetType: UInt16 = 0) -> [UInt8] {
        be16(packetType) + be16(1) + be16(6) + mac(source) + [0, 0] + be16(protocolType) + payload
    }

    /// Linux cooked capture v2 header + payload.
    public static func linuxSLL2(source: MACAddress, protocolType: UInt16, payload: [UInt8], interfaceIndex: UInt32 = 2) -> [UInt8] {
        be16(protocolType) + [0, 0] + be32(interfaceIndex) + be16(1) + [0, 6] + mac(source) + [0, 0] + payload
    }

    /// BSD loopback (DLT_NULL) header in little-endian host order + payload.
    public static func null(family: UInt32, payload: [UInt8]) -> [UInt8] {
        [UInt8(family & 0xFF), UInt8(family >> 8 & 0xFF), UInt8(family >> 16 & 0xFF), UInt8(family >> 24)] + payload
    }

    /// An ARP request (op 1) or reply (op 2) for IPv4 over Ethernet.
    public static func arp(operation: UInt16, senderMAC: MACAddress, senderIP: IPAddress, targetMAC: MACAddress, targetIP: IPAddress) -> [UInt8] {
        be16(1) + be16(0x0800) + [6, 4] + be16(operation) + mac(senderMAC) + be32(senderIP.ipv4Value) + mac(targetMAC) + be32(targetIP.ipv4Value)
    }

    /// An MPLS label stack (outermost first) before `payload`.
    public static func mpls(labels: [UInt32], ttl: UInt8 = 64, payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for (i, label) in labels.enumerated() {
            let bottom: UInt32 = i == labels.count - 1 ? 0x100 : 0
            out += be32(label << 12 | bottom | UInt32(ttl))
        }
        return out + payload
    }

    /// A PPPoE session header and PPP protocol field before an IP packet.
    public static func pppoeSession(sessionID: UInt16, ipv6: Bool = false, payload: [UInt8]) -> [UInt8] {
        [0x11, 0x00] + be16(sessionID) + be16(UInt16(payload.count + 2)) + be16(ipv6 ? 0x0057 : 0x0021) + payload
    }

    // MARK: Network layer

    /// An IPv4 header (with a correct checksum) and payload.
    public static func ipv4(source: IPAddress, destination: IPAddress, proto: UInt8, payload: [UInt8], ttl: UInt8 = 64,
                            identification: UInt16 = 0, dontFragment: Bool = true, moreFragments: Bool = false,
                            fragmentOffset: Int = 0, options: [UInt8] = [], totalLength: Int? = nil) -> [UInt8] {
        precondition(options.count % 4 == 0)
        let headerLength = 20 + options.count
        var h: [UInt8] = [UInt8(0x40 | headerLength / 4), 0]
        h += be16(UInt16(totalLength ?? headerLength + payload.count))
        h += be16(identification)
        let flags: UInt16 = (dontFragment ? 0x4000 : 0) | (moreFragments ? 0x2000 : 0) | UInt16(fragmentOffset / 8)
        h += be16(flags)
        h += [ttl, proto, 0, 0]
        h += be32(source.ipv4Value) + be32(destination.ipv4Value)
        h += options
        let sum = checksum(h)
        h[10] = UInt8(sum >> 8)
        h[11] = UInt8(sum & 0xFF)
        return h + payload
    }

    /// An IPv6 header, optional extension headers `(type, body)` (each body padded
    /// to the header's length rules by the caller), and payload.
    public static func ipv6(source: IPAddress, destination: IPAddress, nextHeader: UInt8, payload: [UInt8], hopLimit: UInt8 = 64,
                            extensions: [(type: UInt8, bytes: [UInt8])] = []) -> [UInt8] {
        // Chain: header.next = first extension type; each extension's first byte = next type.
        var chain: [UInt8] = []
        for (i, ext) in extensions.enumerated() {
            var body = ext.bytes
            body[0] = i + 1 < extensions.count ? extensions[i + 1].type : nextHeader
            chain += body
        }
        let first = extensions.first?.type ?? nextHeader
        var h: [UInt8] = [0x60, 0, 0, 0]
        h += be16(UInt16(chain.count + payload.count))
        h += [first, hopLimit]
        h += ip6(source) + ip6(destination)
        return h + chain + payload
    }

    /// An IPv6 fragment extension header body (for ``ipv6(source:destination:nextHeader:payload:hopLimit:extensions:)``).
    public static func ipv6FragmentHeader(offset: Int, more: Bool, identification: UInt32) -> (type: UInt8, bytes: [UInt8]) {
        (44, [0, 0] + be16(UInt16(offset) & 0xFFF8 | (more ? 1 : 0)) + be32(identification))
    }

    /// An IPv6 hop-by-hop or destination-options header with PadN filling 8 bytes.
    public static func ipv6OptionsHeader(type: UInt8) -> (type: UInt8, bytes: [UInt8]) {
        (type, [0, 0, 1, 4, 0, 0, 0, 0])
    }

    // MARK: Transport layer

    /// A TCP segment with a correct checksum for the given IP endpoints.
    public static func tcp(source: IPAddress, destination: IPAddress, sourcePort: UInt16, destinationPort: UInt16,
                           sequence: UInt32, acknowledgement: UInt32, flags: UInt8, payload: [UInt8] = [],
                           window: UInt16 = 64240, options: [UInt8] = []) -> [UInt8] {
        precondition(options.count % 4 == 0)
        let offset = UInt8((20 + options.count) / 4) << 4
        var h = be16(sourcePort) + be16(destinationPort) + be32(sequence) + be32(acknowledgement)
        h += [offset, flags] + be16(window) + [0, 0, 0, 0] + options
        var segment = h + payload
        let sum = transportChecksum(source: source, destination: destination, proto: 6, segment: segment)
        segment[16] = UInt8(sum >> 8)
        segment[17] = UInt8(sum & 0xFF)
        return segment
    }

    /// A UDP datagram with a correct checksum.
    public static func udp(source: IPAddress, destination: IPAddress, sourcePort: UInt16, destinationPort: UInt16, payload: [UInt8]) -> [UInt8] {
        var d = be16(sourcePort) + be16(destinationPort) + be16(UInt16(8 + payload.count)) + [0, 0] + payload
        var sum = transportChecksum(source: source, destination: destination, proto: 17, segment: d)
        if sum == 0 { sum = 0xFFFF }
        d[6] = UInt8(sum >> 8)
        d[7] = UInt8(sum & 0xFF)
        return d
    }

    /// An ICMP (or, with `v6`, ICMPv6) message: type, code, 4 bytes of rest, payload.
    public static func icmp(type: UInt8, code: UInt8, rest: UInt32 = 0, payload: [UInt8] = [], v6: Bool = false,
                            source: IPAddress = .zero, destination: IPAddress = .zero) -> [UInt8] {
        var m = [type, code, 0, 0] + be32(rest) + payload
        let sum = v6 ? transportChecksum(source: source, destination: destination, proto: 58, segment: m) : checksum(m)
        m[2] = UInt8(sum >> 8)
        m[3] = UInt8(sum & 0xFF)
        return m
    }

    // MARK: Tunnels

    /// A VXLAN header (I flag, 24-bit VNI) before an inner Ethernet frame.
    public static func vxlan(vni: UInt32, inner: [UInt8]) -> [UInt8] {
        [0x08, 0, 0, 0] + be32(vni << 8) + inner
    }

    /// A Geneve header with `optionWords` 4-byte words of (opaque) options.
    public static func geneve(vni: UInt32, protocolType: UInt16 = 0x6558, optionWords: Int = 0, inner: [UInt8]) -> [UInt8] {
        var h: [UInt8] = [UInt8(optionWords & 0x3F), 0] + be16(protocolType) + be32(vni << 8)
        for i in 0..<optionWords { h += [0x01, 0x02, 0x80, UInt8(i)] }
        return h + inner
    }

    /// A GRE header (RFC 2784/2890) with optional checksum, key and sequence number.
    public static func gre(protocolType: UInt16, key: UInt32? = nil, sequence: UInt32? = nil, checksum: Bool = false, payload: [UInt8]) -> [UInt8] {
        var flags: UInt16 = 0
        if checksum { flags |= 0x8000 }
        if key != nil { flags |= 0x2000 }
        if sequence != nil { flags |= 0x1000 }
        var h = be16(flags) + be16(protocolType)
        if checksum { h += [0, 0, 0, 0] }
        if let key { h += be32(key) }
        if let sequence { h += be32(sequence) }
        return h + payload
    }

    /// An ERSPAN type II header (GRE protocol 0x88BE, needs a GRE sequence number).
    public static func erspan2(vlan: UInt16, session: UInt16, inner: [UInt8]) -> [UInt8] {
        be32(1 << 28 | UInt32(vlan & 0xFFF) << 16 | UInt32(session & 0x3FF)) + be32(0) + inner
    }

    /// An ERSPAN type III header (GRE protocol 0x22EB), optionally with the platform sub-header.
    public static func erspan3(vlan: UInt16, session: UInt16, platformSubheader: Bool = false, inner: [UInt8]) -> [UInt8] {
        var h = be32(2 << 28 | UInt32(vlan & 0xFFF) << 16 | UInt32(session & 0x3FF)) + be32(0x1234_5678)
        h += [0, 0] + be16(platformSubheader ? 1 : 0)
        if platformSubheader { h += [UInt8](repeating: 0, count: 8) }
        return h + inner
    }

    // MARK: Helpers

    public static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
    public static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
    public static func mac(_ m: MACAddress) -> [UInt8] { (0..<6).map { UInt8(truncatingIfNeeded: m.rawValue >> UInt64(40 - 8 * $0)) } }
    public static func ip6(_ a: IPAddress) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: a.high >> UInt64(56 - 8 * $0)) } + (0..<8).map { UInt8(truncatingIfNeeded: a.low >> UInt64(56 - 8 * $0)) }
    }

    /// The Internet checksum (RFC 1071).
    public static func checksum(_ bytes: [UInt8], initial: UInt32 = 0) -> UInt16 {
        var sum = initial
        var i = 0
        while i + 1 < bytes.count {
            sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
            i += 2
        }
        if i < bytes.count { sum += UInt32(bytes[i]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }

    static func transportChecksum(source: IPAddress, destination: IPAddress, proto: UInt8, segment: [UInt8]) -> UInt16 {
        var pseudo: [UInt8]
        if source.isIPv4 {
            pseudo = be32(source.ipv4Value) + be32(destination.ipv4Value) + [0, proto] + be16(UInt16(segment.count))
        } else {
            pseudo = ip6(source) + ip6(destination) + be32(UInt32(segment.count)) + [0, 0, 0, proto]
        }
        return checksum(pseudo + segment)
    }
}
