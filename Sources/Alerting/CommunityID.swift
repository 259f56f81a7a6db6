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
        // seed(2) addresses(≤32) proto(1) pad(1) ports(4)
        var input = InlineArray<40, UInt8>(repeating: 0)
        var n = 0
        func put(_ byte: UInt8) { input[n] = byte; n += 1 }
        put(UInt8(seed >> 8))
        put(UInt8(seed & 0xFF))
        a.withNetworkBytes { for byte in $0 { put(byte) } }
        b.withNetworkBytes { for byte in $0 { put(byte) } }
        put(proto)
        put(0)
        if ports != nil {
            put(UInt8(pa >> 8)); put(UInt8(pa & 0xFF)); put(UInt8(pb >> 8)); put(UInt8(pb & 0xFF))
        }
        let count = n
        let h = withUnsafeBytes(of: &input) { SHA1.digest(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
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
                text[o] = c < chars ? Self.alphabet[Int((value >> UInt32(18 - 6 * c)) & 0x3F)] : 0x3D
                o += 1
            }
            g += 3
        }
    }

    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

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
        for i in 0..<CommunityID.length { append(byte: id.text[i]) }
    }
}
