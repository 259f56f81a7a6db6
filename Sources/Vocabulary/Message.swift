/// The text of a finding, written as a string interpolation whose parts stay
/// typed (addresses, MACs, numbers, services) until a format writes them, so
/// that a rule's message costs no allocation:
///
///     let m: Message = "guest \(address) in zone \(zoneName) reached \(service)"
///
/// Literal text and interpolated strings are kept as `String` values (a
/// literal costs nothing), in an ``InlineList``. Every format escapes every part.
@frozen
public struct Message: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible, Equatable {
    /// One piece of a message.
    @frozen
    public enum Part: Sendable, Equatable {
        case text(String)
        case address(IPAddress)
        case mac(MACAddress)
        case number(Int)
        case service(FlowService)

        /// The part as plain text.
        public var text: String {
            switch self {
            case .text(let s): return s
            case .address(let a): return a.description
            case .mac(let m): return m.description
            case .number(let n): return String(n)
            case .service(let s): return s.description
            }
        }
    }

    @usableFromInline var parts = InlineList<Part>(filler: .number(0))

    @inlinable
    public init() {}

    /// A message of one piece of text.
    @inlinable
    public init(_ text: String) { parts.append(.text(text)) }

    @inlinable
    public init(stringLiteral value: String) { self.init(value) }

    @inlinable
    public init(stringInterpolation: StringInterpolation) { self = stringInterpolation.message }

    @inlinable
    public mutating func append(_ part: Part) { parts.append(part) }

    /// Appends every part of another message.
    @inlinable
    public mutating func append(_ other: Message) { for p in other.parts { parts.append(p) } }

    /// Number of parts.
    @inlinable public var partCount: Int { parts.count }

    /// Calls `body` with each part in order.
    @inlinable
    public func forEachPart(_ body: (Part) throws -> Void) rethrows {
        for p in parts { try body(p) }
    }

    /// The message as plain text (unescaped: for tests, reports and logs that escape it themselves).
    public var description: String {
        var s = ""
        forEachPart { s += $0.text }
        return s
    }

    public static func == (a: Message, b: Message) -> Bool { a.description == b.description }

    /// Builds a ``Message`` from an interpolation, keeping each part typed.
    @frozen
    public struct StringInterpolation: StringInterpolationProtocol {
        public var message = Message()

        @inlinable
        public init(literalCapacity: Int, interpolationCount: Int) {}

        @inlinable
        public mutating func appendLiteral(_ literal: String) {
            if !literal.isEmpty { message.append(.text(literal)) }
        }

        @inlinable
        public mutating func appendInterpolation(_ text: String) { message.append(.text(text)) }

        @inlinable
        public mutating func appendInterpolation(_ text: Substring) { message.append(.text(String(text))) }

        @inlinable
        public mutating func appendInterpolation(_ address: IPAddress) { message.append(.address(address)) }

        @inlinable
        public mutating func appendInterpolation(_ mac: MACAddress) { message.append(.mac(mac)) }

        @inlinable
        public mutating func appendInterpolation(_ service: FlowService) { message.append(.service(service)) }

        @inlinable
        public mutating func appendInterpolation<T: BinaryInteger>(_ number: T) {
            if let n = Int(exactly: number) { message.append(.number(n)) } else { message.append(.text(String(number))) }
        }

        /// Another message's parts, in place.
        @inlinable
        public mutating func appendInterpolation(_ other: Message) { message.append(other) }

        /// Anything else by its description (allocates: for rare messages only).
        @inlinable
        public mutating func appendInterpolation<T: CustomStringConvertible>(describing value: T) {
            message.append(.text(value.description))
        }
    }
}
