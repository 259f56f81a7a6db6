/// An IPv4 or IPv6 address as a 128-bit value. IPv4 addresses are held in their
/// IPv4-mapped form (`::ffff:a.b.c.d`), so both families share one key type,
/// one comparison and one prefix structure.
@frozen
public struct IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The high 64 bits, in host order.
    public var high: UInt64
    /// The low 64 bits, in host order.
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// An IPv4 address from its 32-bit value in host order.
    public init(ipv4 value: UInt32) {
        self.high = 0
        self.low = 0xFFFF_0000_0000 | UInt64(value)
    }

    public static let zero = IPAddress(high: 0, low: 0)

    public var isIPv4: Bool { high == 0 && (low >> 32) == 0xFFFF }

    /// The IPv4 value in host order; only meaningful when ``isIPv4``.
    public var ipv4Value: UInt32 { UInt32(truncatingIfNeeded: low) }

    /// Multicast, broadcast, unspecified, loopback and link-local addresses: they
    /// belong to a segment rather than to a host in a zone.
    public var isSpecialPurpose: Bool {
        if isIPv4 {
            let v = ipv4Value
            return v == 0 || v == 0xFFFF_FFFF          // unspecified, limited broadcast
                || (v >> 28) == 0xE                     // 224.0.0.0/4 multicast
                || (v >> 24) == 127                     // loopback
                || (v >> 16) == 0xA9FE                  // 169.254.0.0/16 link-local
        }
        if high == 0 && (low == 0 || low == 1) { return true }   // :: and ::1
        let top16 = high >> 48
        return (top16 >> 8) == 0xFF                     // ff00::/8 multicast
            || (top16 & 0xFFC0) == 0xFE80               // fe80::/10 link-local
    }

    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        a.high != b.high ? a.high < b.high : a.low < b.low
    }

    /// Writes the address in network byte order: 4 bytes for IPv4, 16 for IPv6.
    public func withNetworkBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        if isIPv4 {
            var v = ipv4Value.bigEndian
            return withUnsafeBytes(of: &v, body)
        }
        var words = (high.bigEndian, low.bigEndian)
        return withUnsafeBytes(of: &words, body)
    }

    // MARK: Text

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text (with `::`, and an embedded
    /// IPv4 tail).
    public init?(_ text: String) {
        if !text.contains(":") {
            guard let v = IPAddress.parseIPv4(Substring(text)) else { return nil }
            self.init(ipv4: v)
            return
        }
        guard let (h, l) = IPAddress.parseIPv6(text) else { return nil }
        self.init(high: h, low: l)
    }

    static func parseIPv4(_ text: Substring) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let byte = UInt32(part), byte <= 255 else { return nil }
            if part.count > 1 && part.first == "0" { return nil }  // no octal-looking octets
            value = value << 8 | byte
        }
        return value
    }

    static func parseIPv6(_ text: String) -> (UInt64, UInt64)? {
        var groups: [UInt16] = []
        var gapIndex: Int? = nil
        var halves: [String] = []
        var rest = Substring(text)
        while let gap = IPAddress.firstDoubleColon(rest) {
            halves.append(String(rest[..<gap]))
            rest = rest[rest.index(gap, offsetBy: 2)...]
        }
        halves.append(String(rest))
        guard halves.count <= 2 else { return nil }
        func parseGroups(_ s: String, allowIPv4Tail: Bool) -> [UInt16]? {
            if s.isEmpty { return [] }
            var out: [UInt16] = []
            let items = s.split(separator: ":", omittingEmptySubsequences: false)
            for (i, item) in items.enumerated() {
                if allowIPv4Tail && i == items.count - 1 && item.contains(".") {
                    guard let v4 = parseIPv4(item) else { return nil }
                    out.append(UInt16(v4 >> 16))
                    out.append(UInt16(v4 & 0xFFFF))
                } else {
                    guard !item.isEmpty, item.count <= 4, let g = UInt16(item, radix: 16) else { return nil }
                    out.append(g)
                }
            }
            return out
        }
        if halves.count == 2 {
            guard let a = parseGroups(halves[0], allowIPv4Tail: false),
                  let b = parseGroups(halves[1], allowIPv4Tail: true), a.count + b.count <= 7 else { return nil }
            groups = a
            gapIndex = a.count
            groups += [UInt16](repeating: 0, count: 8 - a.count - b.count)
            groups += b
        } else {
            guard let all = parseGroups(text, allowIPv4Tail: true), all.count == 8 else { return nil }
            groups = all
        }
        _ = gapIndex
        var h: UInt64 = 0, l: UInt64 = 0
        for i in 0..<4 { h = h << 16 | UInt64(groups[i]) }
        for i in 4..<8 { l = l << 16 | UInt64(groups[i]) }
        return (h, l)
    }

    static func firstDoubleColon(_ s: Substring) -> Substring.Index? {
        var i = s.startIndex
        while i < s.endIndex {
            let j = s.index(after: i)
            if j < s.endIndex && s[i] == ":" && s[j] == ":" { return i }
            i = j
        }
        return nil
    }

    /// Dotted quad for IPv4; RFC 5952 canonical text for IPv6.
    public var description: String { withText { String(decoding: $0, as: UTF8.self) } }

    /// Calls `body` with the address's text (as ``description``) in a stack
    /// buffer: formats write addresses without allocating.
    public func withText<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        var text = InlineArray<40, UInt8>(repeating: 0)  // "ffff:...:ffff" is 39 bytes
        var n = 0
        func put(_ byte: UInt8) { text[n] = byte; n += 1 }
        func decimal(_ v: UInt32) {
            if v >= 100 { put(0x30 + UInt8(v / 100)) }
            if v >= 10 { put(0x30 + UInt8(v / 10 % 10)) }
            put(0x30 + UInt8(v % 10))
        }
        func hex(_ v: UInt16) {
            var shift = 12
            while shift > 0 && (v >> UInt16(shift)) == 0 { shift -= 4 }
            while shift >= 0 {
                let nibble = UInt8((v >> UInt16(shift)) & 0xF)
                put(nibble < 10 ? 0x30 + nibble : 0x57 + nibble)
                shift -= 4
            }
        }
        if isIPv4 {
            let v = ipv4Value
            decimal(v >> 24); put(0x2E); decimal((v >> 16) & 0xFF); put(0x2E); decimal((v >> 8) & 0xFF); put(0x2E); decimal(v & 0xFF)
        } else {
            var groups = InlineArray<8, UInt16>(repeating: 0)
            for i in 0..<4 {
                groups[i] = UInt16(truncatingIfNeeded: high >> UInt64(48 - 16 * i))
                groups[4 + i] = UInt16(truncatingIfNeeded: low >> UInt64(48 - 16 * i))
            }
            // The longest run of two or more zero groups becomes "::" (first one on ties).
            var bestStart = -1, bestLength = 0, runStart = -1
            for i in 0...8 {
                if i < 8 && groups[i] == 0 {
                    if runStart < 0 { runStart = i }
                } else if runStart >= 0 {
                    if i - runStart > bestLength { bestStart = runStart; bestLength = i - runStart }
                    runStart = -1
                }
            }
            if bestLength < 2 { bestStart = -1 }
            var i = 0
            while i < 8 {
                if i == bestStart {
                    put(0x3A)
                    put(0x3A)
                    i += bestLength
                    continue
                }
                if n > 0 && text[n - 1] != 0x3A { put(0x3A) }
                hex(groups[i])
                i += 1
            }
        }
        let count = n
        return withUnsafeBytes(of: &text) { body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }
}
