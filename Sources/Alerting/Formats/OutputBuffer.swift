import Decode
import Vocabulary
#if canImport(Glibc)
import Glibc
#endif

/// The bytes of one formatted alert, written in place: formats append text,
/// numbers, addresses and escaped untrusted strings straight into it, and a
/// sink reuses one buffer for every alert, so that formatting allocates
/// nothing once the buffer has grown to the longest alert.
///
/// Raw memory rather than an `Array`: an alert is a thousand small appends,
/// and each `Array.append` checks uniqueness and capacity through calls the
/// optimiser cannot remove. Not copyable, so that two owners can never share
/// (or both free) the memory.
public struct OutputBuffer: ~Copyable, @unchecked Sendable {
    private var base: UnsafeMutablePointer<UInt8>
    /// The number of bytes written.
    public private(set) var count: Int = 0
    private var capacity: Int

    public init(capacity: Int = 2048) {
        self.capacity = Swift.max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// Empties the buffer, keeping its memory.
    @inline(__always)
    public mutating func removeAll() { count = 0 }

    /// Keeps the first `n` bytes.
    public mutating func truncate(to n: Int) { count = min(count, max(n, 0)) }

    /// The byte at `index` (below ``count``).
    public func byte(at index: Int) -> UInt8 { base[index] }

    /// Whether the bytes from `start` on are all ASCII.
    public func isASCII(from start: Int) -> Bool {
        var i = start
        while i < count {
            if base[i] >= 0x80 { return false }
            i += 1
        }
        return true
    }

    /// Puts the UTF-8 byte order mark at `index`, moving what follows (RFC 5424's MSG-UTF8).
    public mutating func insert(bom index: Int) {
        let tail = count - index
        append(byte: 0)
        append(byte: 0)
        append(byte: 0)
        memmove(base + index + 3, base + index, tail)  // overlapping: memmove, not a copy
        base[index] = 0xEF
        base[index + 1] = 0xBB
        base[index + 2] = 0xBF
    }

    /// A copy of the bytes.
    public var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    /// The bytes, for as long as `body` runs.
    @inline(__always)
    public func withBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// The contents as a string (tests, convenience callers).
    public var text: String { String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self) }

    /// Appends a copy of bytes already written (`start..<start+length`): a
    /// value written twice is formatted once.
    public mutating func appendCopy(start: Int, length: Int) {
        precondition(start >= 0 && length >= 0 && start + length <= count)
        reserve(length)
        (base + count).update(from: base + start, count: length)
        count &+= length
    }

    /// Room for `n` more bytes.
    @inline(__always)
    mutating func reserve(_ n: Int) {
        if _slowPath(count &+ n > capacity) { grow(count + n) }
    }

    @inline(never)
    private mutating func grow(_ needed: Int) {
        let bigger = Swift.max(needed, capacity * 2)
        let fresh = UnsafeMutablePointer<UInt8>.allocate(capacity: bigger)
        fresh.update(from: base, count: count)
        base.deallocate()
        base = fresh
        capacity = bigger
    }

    @inline(__always)
    public mutating func append(byte: UInt8) {
        reserve(1)
        base[count] = byte
        count &+= 1
    }

    /// Bytes copied as they are.
    @inline(__always)
    public mutating func append(bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count)
        UnsafeMutableRawPointer(base + count).copyMemory(from: source, byteCount: bytes.count)
        count &+= bytes.count
    }

    /// Trusted text (literals, names the sensor made): copied as it is.
    @inline(__always)
    public mutating func append(_ s: StaticString) {
        append(bytes: UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    /// Trusted text copied as it is.
    @inline(__always)
    public mutating func append(_ s: String) {
        var s = s
        s.withUTF8 { append(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// A whole number in decimal.
    public mutating func append<T: BinaryInteger>(decimal value: T) {
        if value < 0 { append(byte: 0x2D) }
        append(unsigned: UInt64(truncatingIfNeeded: value.magnitude))
    }

    private mutating func append(unsigned value: UInt64) {
        // Two digits at a time from the right, straight into the buffer (UInt64.max has 20): the
        // flow log and EVE write several numbers per line, and one division per digit showed.
        reserve(20)
        if value < 10 {
            base[count] = 0x30 &+ UInt8(truncatingIfNeeded: value)
            count &+= 1
            return
        }
        let digits = Self.decimalDigits(value)
        var v = value, at = count &+ digits
        while v >= 100 {
            let pair = Int(truncatingIfNeeded: v % 100)
            v /= 100
            at &-= 2
            Self.putPair(pair, base + at)
        }
        if v >= 10 {
            Self.putPair(Int(truncatingIfNeeded: v), base + count)
        } else {
            base[count] = 0x30 &+ UInt8(truncatingIfNeeded: v)
        }
        count &+= digits
    }

    /// How many decimal digits `v` (at least 1) has: from its bit length, then one comparison.
    @inline(__always)
    static func decimalDigits(_ v: UInt64) -> Int {
        let bits = 64 &- v.leadingZeroBitCount
        let guess = (bits &* 1233) >> 12  // floor(log10(2^bits)): the digits, or one less
        return v >= unsignedPowersOfTen[guess] ? guess &+ 1 : Swift.max(guess, 1)
    }

    /// 10^n for n in 0...19.
    private static let unsignedPowersOfTen: InlineArray<20, UInt64> = [
        1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000,
        10_000_000_000, 100_000_000_000, 1_000_000_000_000, 10_000_000_000_000, 100_000_000_000_000,
        1_000_000_000_000_000, 10_000_000_000_000_000, 100_000_000_000_000_000, 1_000_000_000_000_000_000,
        10_000_000_000_000_000_000,
    ]

    /// The two digits of `pair` (0...99) at `to`.
    @inline(__always)
    static func putPair(_ pair: Int, _ to: UnsafeMutablePointer<UInt8>) {
        let digits = digitPairs.utf8Start + 2 &* pair
        to[0] = digits[0]
        to[1] = digits[1]
    }

    /// "00" to "99" in a row.
    private static let digitPairs: StaticString = """
        00010203040506070809101112131415161718192021222324252627282930313233343536373839\
        40414243444546474849505152535455565758596061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899
        """

    /// Writes at most `maxCount` bytes in place: `body` gets where the next
    /// byte goes and returns how many it wrote.
    @inline(__always)
    mutating func appendInPlace(maxCount: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        reserve(maxCount)
        count &+= body(base + count)
    }

    /// A number zero-padded to `width` digits (timestamps).
    @inline(__always)
    mutating func append(padded value: Int, width: Int) {
        // Digits from the right, divided by the constant 10 (a multiplication):
        // dividing by a power of ten held in a variable was a third of a timestamp's cost.
        guard width < 10, value >= 0, value < Self.powersOfTen[width] else { append(decimal: value); return }
        reserve(width)
        var v = value, at = count &+ width
        while at > count {
            at &-= 1
            base[at] = 0x30 &+ UInt8(truncatingIfNeeded: v % 10)
            v /= 10
        }
        count &+= width
    }

    /// 10^n for the widths timestamps pad to.
    private static let powersOfTen: InlineArray<10, Int> = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000]

    /// Lower-case hexadecimal without leading zeros.
    mutating func append(hex value: UInt64) {
        if value == 0 { append(byte: 0x30); return }
        var shift = (63 - value.leadingZeroBitCount) / 4 * 4
        while shift >= 0 {
            append(byte: Self.hexDigits[Int((value >> UInt64(shift)) & 0xF)])
            shift -= 4
        }
    }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// An address as ``Vocabulary/IPAddress/description`` writes it
    /// (dotted quad; RFC 5952 for IPv6).
    public mutating func append(_ a: IPAddress) {
        a.withText { append(bytes: $0) }
    }

    /// A MAC address as `02:00:c0:a8:64:0a`.
    public mutating func append(_ m: MACAddress) {
        reserve(17)
        var at = count
        for shift in stride(from: 40, through: 0, by: -8) {
            let byte = Int((m.rawValue >> UInt64(shift)) & 0xFF)
            if shift != 40 { base[at] = 0x3A; at += 1 }
            base[at] = Self.hexDigit(byte >> 4)
            base[at + 1] = Self.hexDigit(byte & 0xF)
            at += 2
        }
        count = at
    }

    @inline(__always)
    static func hexDigit(_ v: Int) -> UInt8 { UInt8(truncatingIfNeeded: v < 10 ? 0x30 + v : 0x57 + v) }

    /// A service as `tcp/443`, `icmp` or `ethertype 0x88a2`.
    public mutating func append(_ service: FlowService) {
        switch service {
        case .port(let proto, let port):
            appendServiceName(proto)
            append(byte: 0x2F)
            append(decimal: port)
        case .ipProtocol(let proto):
            appendServiceName(proto)
        case .etherType(let type):
            append("ethertype 0x" as StaticString)
            append(hex: UInt64(type))
        }
    }

    private mutating func appendServiceName(_ proto: IPProtocol) {
        switch proto {
        case .tcp: append("tcp" as StaticString)
        case .udp: append("udp" as StaticString)
        case .icmp: append("icmp" as StaticString)
        case .icmpv6: append("icmp6" as StaticString)
        case .sctp: append("sctp" as StaticString)
        default:
            append("ip" as StaticString)
            append(decimal: proto.rawValue)
        }
    }

    /// EVE's `proto`: `TCP`, `UDP`, ... or the number (as ``Vocabulary/IPProtocol/description``).
    mutating func appendProtocolName(_ proto: IPProtocol) {
        append(proto.description)
    }
}
