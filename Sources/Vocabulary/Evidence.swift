/// A value in a finding's evidence. Values that name things (addresses, MACs,
/// services) stay typed until a format writes them, so that gathering
/// evidence allocates nothing; every format writes them as text.
@frozen
public enum EvidenceValue: Sendable, Equatable {
    /// Text; may come from the wire (user names, banners) and is escaped by every format.
    case text(String)
    case number(Int)
    case flag(Bool)
    case list([String])
    case address(IPAddress)
    case mac(MACAddress)
    case service(FlowService)
    /// Where a secret was: only its length is kept, written `redacted (8 chars)` (`empty` for an empty one).
    case redacted(length: Int)

    /// The value as text for the formats that write it as a string: nil for
    /// numbers, flags and lists, which each format writes its own way.
    public var stringValue: String? {
        switch self {
        case .text(let s): return s
        case .address(let a): return a.description
        case .mac(let m): return m.description
        case .service(let s): return s.description
        case .redacted(let n): return n == 0 ? "empty" : "redacted (\(n) char\(n == 1 ? "" : "s"))"
        case .number, .flag, .list: return nil
        }
    }

    /// The value as plain text (numbers as digits, flags as yes/no, lists joined with commas).
    public var plainText: String {
        switch self {
        case .number(let n): return String(n)
        case .flag(let b): return b ? "yes" : "no"
        case .list(let items): return items.joined(separator: ",")
        default: return stringValue!
        }
    }
}

/// The ordered evidence of a finding: `key = value` pairs, the keys literals
/// of the code that found it. One array: building it is one allocation, and
/// copying it (finding, detection, alert) one reference count.
@frozen
public struct Evidence: Sendable, ExpressibleByArrayLiteral, RandomAccessCollection {
    public typealias Element = (key: String, value: EvidenceValue)

    @usableFromInline var pairs: [Element]

    @inlinable
    public init() { pairs = [] }

    @inlinable
    public init(arrayLiteral elements: Element...) { pairs = elements }

    @inlinable
    public mutating func append(_ element: Element) { pairs.append(element) }

    /// Room for `count` items in all (one allocation where appending would grow the storage several times).
    @inlinable
    public mutating func reserveCapacity(_ count: Int) { pairs.reserveCapacity(count) }

    @inlinable
    public mutating func append(_ key: String, _ value: EvidenceValue) { pairs.append((key, value)) }

    @inlinable
    public mutating func append(contentsOf other: Evidence) { pairs.append(contentsOf: other.pairs) }

    @inlinable
    public static func + (a: Evidence, b: Evidence) -> Evidence {
        var sum = a
        sum.append(contentsOf: b)
        return sum
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { pairs.endIndex }
    @inlinable public subscript(i: Int) -> Element { pairs[i] }

    /// The value for `key`, if present.
    public func value(_ key: String) -> EvidenceValue? {
        first { $0.key == key }?.value
    }
}
