/// The text of a finding, written as a string interpolation:
///
///     let m: Message = "guest \(address) in zone \(zoneName) reached \(service)"
///
/// Kept as one string: copying a message (finding, detection, alert) is one
/// reference count, and a format escapes it in one pass over contiguous
/// bytes. Every format escapes the whole text, so a piece read off the wire
/// can never break out of its field; the typed pieces (addresses, MACs,
/// numbers, services) are plain ASCII and come out as they are.
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

    /// The message as plain text (unescaped: formats escape it).
    @usableFromInline var storage: String
    public var text: String { storage }

    @inlinable
    public init() { storage = "" }

    /// A message of one piece of text.
    @inlinable
    public init(_ text: String) { storage = text }

    @inlinable
    init(storage: String) { self.storage = storage }

    @inlinable
    public init(stringLiteral value: String) { self.init(value) }

    @inlinable
    public init(stringInterpolation: StringInterpolation) { self = stringInterpolation.message }

    @inlinable
    public mutating func append(_ part: Part) {
        switch part {
        case .text(let s): storage += s
        case .address(let a): a.withText { storage += String(decoding: $0, as: UTF8.self) }
        case .mac(let m): m.withText { storage += String(decoding: $0, as: UTF8.self) }
        case .number(let n): storage += String(n)
        case .service(let s): storage += s.description
        }
    }

    /// Appends another message.
    @inlinable
    public mutating func append(_ other: Message) { storage += other.storage }

    /// The message as plain text (unescaped: for tests, reports and logs that escape it themselves).
    public var description: String { text }

    public static func == (a: Message, b: Message) -> Bool { a.text == b.text }

    /// Builds a ``Message`` from an interpolation: the pieces are copied into
    /// a buffer on the stack and become one string at the end (one
    /// allocation, and none of `String.append`'s work per piece).
    @frozen
    public struct StringInterpolation: StringInterpolationProtocol {
        @usableFromInline static var headCapacity: Int { 240 }
        @usableFromInline var head = InlineArray<240, UInt8>(repeating: 0)
        @usableFromInline var count = 0
        /// The text so far once it outgrew `head` (rare: a long message).
        @usableFromInline var overflow: String?

        @inlinable
        public init(literalCapacity: Int, interpolationCount: Int) {}

        /// The message built.
        @inlinable
        public var message: Message {
            if let overflow { return Message(overflow) }
            var head = head
            return Message(withUnsafeBytes(of: &head) { String(decoding: $0[0..<count], as: UTF8.self) })
        }

        @inlinable
        mutating func write(_ bytes: UnsafeRawBufferPointer) {
            if overflow == nil && count + bytes.count <= Self.headCapacity {
                let at = count
                withUnsafeMutableBytes(of: &head) { $0.baseAddress!.advanced(by: at).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
                count += bytes.count
                return
            }
            if overflow == nil { overflow = message.storage }
            overflow! += String(decoding: bytes, as: UTF8.self)
        }

        @inlinable
        mutating func write(_ s: String) {
            guard !s.isEmpty else { return }
            var s = s
            s.withUTF8 { write(UnsafeRawBufferPointer($0)) }
        }

        /// Appends one piece.
        @inlinable
        public mutating func append(_ part: Part) {
            switch part {
            case .text(let s): write(s)
            case .address(let a): a.withText { write($0) }
            case .mac(let m): m.withText { write($0) }
            case .number(let n): write(String(n))
            case .service(let s): write(s.description)
            }
        }

        @inlinable
        public mutating func appendLiteral(_ literal: String) { write(literal) }

        @inlinable
        public mutating func appendInterpolation(_ text: String) { write(text) }

        @inlinable
        public mutating func appendInterpolation(_ text: Substring) { write(String(text)) }

        @inlinable
        public mutating func appendInterpolation(_ address: IPAddress) { append(.address(address)) }

        @inlinable
        public mutating func appendInterpolation(_ mac: MACAddress) { append(.mac(mac)) }

        @inlinable
        public mutating func appendInterpolation(_ service: FlowService) { append(.service(service)) }

        @inlinable
        public mutating func appendInterpolation<T: BinaryInteger>(_ number: T) { write(String(number)) }

        /// Another message, in place.
        @inlinable
        public mutating func appendInterpolation(_ other: Message) { write(other.storage) }

        /// Anything else by its description (allocates: for rare messages only).
        @inlinable
        public mutating func appendInterpolation<T: CustomStringConvertible>(describing value: T) {
            write(value.description)
        }
    }
}
