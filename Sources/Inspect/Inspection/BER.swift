/// A bounded reader of BER (ASN.1 Basic Encoding Rules) elements, for LDAP and
/// SNMP. Every read checks the remaining length; a malformed element is `nil`.
struct BERReader {
    let bytes: [UInt8]
    private(set) var offset: Int
    let end: Int

    init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.offset = start
        self.end = min(end ?? bytes.count, bytes.count)
    }

    var isAtEnd: Bool { offset >= end }

    /// One element's tag and the range of its contents.
    struct Element {
        let tag: UInt8
        let contents: Range<Int>
    }

    /// The total length (header and contents) of the element at `start`, if its
    /// header is complete: for framing a message that may still be arriving.
    static func elementLength(_ bytes: [UInt8], at start: Int = 0) -> Int? {
        guard bytes.count >= start + 2 else { return nil }
        let first = Int(bytes[start + 1])
        if first < 0x80 { return 2 + first }
        let count = first & 0x7F
        guard count >= 1, count <= 4, bytes.count >= start + 2 + count else { return nil }
        var length = 0
        for i in 0..<count { length = length << 8 | Int(bytes[start + 2 + i]) }
        return 2 + count + length
    }

    mutating func read() -> Element? {
        guard offset + 2 <= end else { return nil }
        let tag = bytes[offset]
        let first = Int(bytes[offset + 1])
        var header = 2
        var length = first
        if first >= 0x80 {
            let count = first & 0x7F
            guard count >= 1, count <= 4, offset + 2 + count <= end else { return nil }
            length = 0
            for i in 0..<count { length = length << 8 | Int(bytes[offset + 2 + i]) }
            header += count
        }
        let start = offset + header
        guard length >= 0, start + length <= end else { return nil }
        offset = start + length
        return Element(tag: tag, contents: start..<(start + length))
    }

    /// Reads an element that must have `tag`.
    mutating func read(tag: UInt8) -> Element? {
        guard offset < end, bytes[offset] == tag else { return nil }
        return read()
    }

    /// A reader over an element's contents.
    func inside(_ e: Element) -> BERReader { BERReader(bytes, from: e.contents.lowerBound, to: e.contents.upperBound) }

    /// The value of an INTEGER or ENUMERATED element (up to 8 bytes).
    func integer(_ e: Element) -> Int? {
        guard !e.contents.isEmpty, e.contents.count <= 8 else { return nil }
        var value = Int(Int8(bitPattern: bytes[e.contents.lowerBound]))
        for i in e.contents.dropFirst() { value = value << 8 | Int(bytes[i]) }
        return value
    }

    func contents(_ e: Element) -> ArraySlice<UInt8> { bytes[e.contents] }
}

/// Base64 decoding (RFC 4648) for HTTP Basic credentials and the evidence
/// files' search for NTLM tokens; nil on bad input.
public enum Base64 {
    public static func decode<C: Collection>(_ text: C) -> [UInt8]? where C.Element == UInt8 {
        var out: [UInt8] = []
        var accumulator: UInt32 = 0
        var bits = 0
        for c in text {
            let value: UInt32
            switch c {
            case 65...90: value = UInt32(c - 65)
            case 97...122: value = UInt32(c - 71)
            case 48...57: value = UInt32(c + 4)
            case 43, 45: value = 62   // '+' and URL-safe '-'
            case 47, 95: value = 63   // '/' and URL-safe '_'
            case 61: continue         // padding
            default: return nil
            }
            accumulator = accumulator << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return out
    }
}
