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

    public var description: String {
        var s = ""
        s.reserveCapacity(17)
        for i in stride(from: 40, through: 0, by: -8) {
            let byte = UInt8((rawValue >> UInt64(i)) & 0xFF)
            if i != 40 { s.append(":") }
            s.append(hexDigit(byte >> 4))
            s.append(hexDigit(byte & 0xF))
        }
        return s
    }

    @inlinable public static func < (a: MACAddress, b: MACAddress) -> Bool { a.rawValue < b.rawValue }
}

@usableFromInline
func hexDigit(_ nibble: UInt8) -> Character {
    Character(Unicode.Scalar(nibble < 10 ? 48 + nibble : 87 + nibble))
}
