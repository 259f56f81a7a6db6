/// A 48-bit Ethernet address held in the low bits of a `UInt64`.
@frozen
public struct MACAddress: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64

    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue & 0xFFFF_FFFF_FFFF }

    public static let zero = MACAddress(rawValue: 0)
    public static let broadcast = MACAddress(rawValue: 0xFFFF_FFFF_FFFF)

    /// Group (multicast or broadcast) addresses have the I/G bit set.
    @inlinable public var isGroup: Bool { (rawValue >> 40) & 1 == 1 }

    /// Parses `aa:bb:cc:dd:ee:ff`, `aa-bb-cc-dd-ee-ff` or `aabb.ccdd.eeff`.
    public init?(_ text: String) {
        let hex = text.lowercased().filter { $0 != ":" && $0 != "-" && $0 != "." }
        let separators = text.filter { $0 == ":" || $0 == "-" || $0 == "." }.count
        guard hex.count == 12, separators == 5 || separators == 2 || separators == 0,
              let value = UInt64(hex, radix: 16) else { return nil }
        if separators == 5 {
            let parts = text.split(whereSeparator: { $0 == ":" || $0 == "-" })
            guard parts.count == 6, parts.allSatisfy({ $0.count == 2 }) else { return nil }
        }
        self.init(rawValue: value)
    }

    public var description: String { withText { String(decoding: $0, as: UTF8.self) } }

    /// Calls `body` with the text `aa:bb:cc:dd:ee:ff` (17 bytes, on the stack).
    public func withText<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        var text = InlineArray<17, UInt8>(repeating: 0x3A)
        var at = 0
        for shift in stride(from: 40, through: 0, by: -8) {
            let byte = UInt8((rawValue >> UInt64(shift)) & 0xFF)
            text[at] = hexDigitByte(byte >> 4)
            text[at + 1] = hexDigitByte(byte & 0xF)
            at += 3
        }
        return withUnsafeBytes(of: &text) { body(UnsafeRawBufferPointer(rebasing: $0[0..<17])) }
    }

    @inlinable public static func < (a: MACAddress, b: MACAddress) -> Bool { a.rawValue < b.rawValue }
}

@inline(__always)
func hexDigitByte(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 48 + nibble : 87 + nibble }

@usableFromInline
func hexDigit(_ nibble: UInt8) -> Character {
    Character(Unicode.Scalar(nibble < 10 ? 48 + nibble : 87 + nibble))
}
