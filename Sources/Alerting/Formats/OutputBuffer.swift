import Decode
import Vocabulary

/// The bytes of one formatted alert, written in place: formats append text,
/// numbers, addresses and escaped untrusted strings straight into it, and a
/// sink reuses one buffer for every alert, so that formatting allocates
/// nothing once the buffer has grown to the longest alert.
public struct OutputBuffer: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 2048) { bytes.reserveCapacity(capacity) }

    /// Empties the buffer, keeping its memory.
    @inline(__always)
    public mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    public var count: Int { bytes.count }

    /// The contents as a string (tests, convenience callers).
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    @inline(__always)
    public mutating func append(byte: UInt8) { bytes.append(byte) }

    /// Trusted text (literals, names the sensor made): copied as it is.
    @inline(__always)
    public mutating func append(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Trusted text copied as it is.
    @inline(__always)
    public mutating func append(_ s: String) {
        var s = s
        s.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// A whole number in decimal.
    public mutating func append<T: BinaryInteger>(decimal value: T) {
        if value < 0 { bytes.append(0x2D) }
        append(unsigned: UInt64(truncatingIfNeeded: value.magnitude))
    }

    private mutating func append(unsigned value: UInt64) {
        var divisor: UInt64 = 1
        while divisor <= value / 10 { divisor &*= 10 }
        var v = value
        while true {
            bytes.append(0x30 &+ UInt8(truncatingIfNeeded: v / divisor))
            v %= divisor
            if divisor == 1 { break }
            divisor /= 10
        }
    }

    /// A number zero-padded to `width` digits (timestamps).
    mutating func append(padded value: Int, width: Int) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var v = value
        if v >= divisor * 10 { append(decimal: v); return }
        while divisor > 0 {
            bytes.append(0x30 &+ UInt8(v / divisor))
            v %= divisor
            divisor /= 10
        }
    }

    /// Lower-case hexadecimal without leading zeros.
    mutating func append(hex value: UInt64) {
        if value == 0 { bytes.append(0x30); return }
        var shift = (63 - value.leadingZeroBitCount) / 4 * 4
        while shift >= 0 {
            bytes.append(Self.hexDigits[Int((value >> UInt64(shift)) & 0xF)])
            shift -= 4
        }
    }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// An address as ``Vocabulary/IPAddress/description`` writes it
    /// (dotted quad; RFC 5952 for IPv6).
    public mutating func append(_ a: IPAddress) {
        a.withText { bytes.append(contentsOf: $0) }
    }

    /// A MAC address as `02:00:c0:a8:64:0a`.
    public mutating func append(_ m: MACAddress) {
        for shift in stride(from: 40, through: 0, by: -8) {
            let byte = UInt8((m.rawValue >> UInt64(shift)) & 0xFF)
            if shift != 40 { bytes.append(0x3A) }
            bytes.append(Self.hexDigits[Int(byte >> 4)])
            bytes.append(Self.hexDigits[Int(byte & 0xF)])
        }
    }

    /// A service as `tcp/443`, `icmp` or `ethertype 0x88a2`.
    public mutating func append(_ service: FlowService) {
        switch service {
        case .port(let proto, let port):
            appendServiceName(proto)
            bytes.append(0x2F)
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
