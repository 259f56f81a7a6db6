import Decode
import Vocabulary

/// Community ID v1 flow hashes (the identifier Zeek, Suricata and Elastic share):
/// `"1:" + base64(sha1(seed . saddr . daddr . proto . 0 . sport . dport))` over
/// the endpoints ordered so that both directions hash alike.
public struct CommunityID: Sendable, Equatable, CustomStringConvertible {
    /// `1:` and 28 base64 characters.
    public static let length = 30
    var text: InlineArray<30, UInt8>

    /// The Community ID of a flow.
    ///
    /// - Parameters:
    ///   - ports: source and destination ports; for ICMP and ICMPv6 pass the
    ///     message type and code, which are mapped as the specification requires.
    ///     `nil` for protocols without ports.
    ///   - seed: the optional 16-bit seed (0 by default).
    public init(proto: UInt8, source: IPAddress, destination: IPAddress, ports: (UInt16, UInt16)?, seed: UInt16 = 0) {
        var sourcePort: UInt16 = 0, destinationPort: UInt16 = 0
        var oneWay = false
        if let (s, d) = ports {
            if proto == IPProtocol.icmp.rawValue || proto == IPProtocol.icmpv6.rawValue {
                let mapped = ICMPPorts.map(type: UInt8(truncatingIfNeeded: s), code: UInt8(truncatingIfNeeded: d), v6: proto == IPProtocol.icmpv6.rawValue)
                sourcePort = mapped.source
                destinationPort = mapped.destination
                oneWay = mapped.oneWay
            } else {
                sourcePort = s
                destinationPort = d
            }
        }
        var a = source, b = destination, pa = sourcePort, pb = destinationPort
        let ordered = oneWay || a < b || (a == b && pa < pb)
        if !ordered {
            swap(&a, &b)
            swap(&pa, &pb)
        }
        // seed(2) addresses(≤32) proto(1) pad(1) ports(4), written straight into a stack buffer.
        var input = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        let h = withUnsafeMutableBytes(of: &input) { raw -> (UInt32, UInt32, UInt32, UInt32, UInt32) in
            var n = 0
            func put16(_ v: UInt16) {
                raw[n] = UInt8(v >> 8)
                raw[n + 1] = UInt8(v & 0xFF)
                n += 2
            }
            func put(_ address: IPAddress) {
                if address.isIPv4 {
                    raw.storeBytes(of: address.ipv4Value.bigEndian, toByteOffset: n, as: UInt32.self)
                    n += 4
                } else {
                    raw.storeBytes(of: address.high.bigEndian, toByteOffset: n, as: UInt64.self)
                    raw.storeBytes(of: address.low.bigEndian, toByteOffset: n + 8, as: UInt64.self)
                    n += 16
                }
            }
            put16(seed)
            put(a)
            put(b)
            raw[n] = proto
            raw[n + 1] = 0
            n += 2
            if ports != nil {
                put16(pa)
                put16(pb)
            }
            return SHA1.digest(UnsafeRawBufferPointer(rebasing: raw[0..<n]))
        }
        var digest = InlineArray<21, UInt8>(repeating: 0)  // 20 bytes and a zero for the last base64 group
        var bigEndian = (h.0.bigEndian, h.1.bigEndian, h.2.bigEndian, h.3.bigEndian, h.4.bigEndian)
        withUnsafeBytes(of: &bigEndian) { for i in 0..<20 { digest[i] = $0[i] } }
        text = InlineArray(repeating: 0)
        text[0] = 0x31  // "1"
        text[1] = 0x3A  // ":"
        // Base64 of 20 bytes: six full groups and one of two bytes with one "=".
        var o = 2
        var g = 0
        while g < 21 {
            let value = UInt32(digest[g]) << 16 | UInt32(digest[g + 1]) << 8 | UInt32(digest[g + 2])
            let chars = g == 18 ? 3 : 4
            for c in 0..<4 {
                text[o] = c < chars ? Self.base64(UInt8(truncatingIfNeeded: value >> UInt32(18 - 6 * c)) & 0x3F) : 0x3D
                o += 1
            }
            g += 3
        }
    }

    /// A base64 digit (A-Z, a-z, 0-9, +, /) by arithmetic: a table in a
    /// global costs a lazy-initialisation check on every use, and the flow
    /// log writes one Community ID per flow.
    @inline(__always)
    static func base64(_ v: UInt8) -> UInt8 {
        v < 26 ? 0x41 &+ v : v < 52 ? 0x61 &+ (v &- 26) : v < 62 ? 0x30 &+ (v &- 52) : v == 62 ? 0x2B : 0x2F
    }

    /// The Community ID as text.
    public var description: String {
        var t = text
        return withUnsafeBytes(of: &t) { String(decoding: $0, as: UTF8.self) }
    }

    /// The Community ID of a flow as text (convenience).
    public static func compute(proto: UInt8, source: IPAddress, destination: IPAddress, ports: (UInt16, UInt16)?, seed: UInt16 = 0) -> String {
        CommunityID(proto: proto, source: source, destination: destination, ports: ports, seed: seed).description
    }

    public static func == (a: CommunityID, b: CommunityID) -> Bool { a.description == b.description }
}

extension OutputBuffer {
    /// A Community ID's 30 characters.
    public mutating func append(_ id: CommunityID) {
        var text = id.text
        withUnsafeBytes(of: &text) { append(bytes: $0) }
    }
}
