import Decode
import Vocabulary

/// An IPv4 or IPv6 network such as `10.10.0.0/16` or `fd00:100::/56`.
///
/// IPv4 prefixes are held in the IPv4-mapped space (`::ffff:0:0/96` plus the
/// IPv4 length), like ``IPAddress``.
public struct IPPrefix: Hashable, Sendable, CustomStringConvertible {
    public let address: IPAddress
    /// Prefix length in the 128-bit space.
    public let length: Int

    public var isIPv4: Bool { address.isIPv4 && length >= 96 }
    /// The length as written (0-32 for IPv4).
    public var writtenLength: Int { isIPv4 ? length - 96 : length }

    public enum ParseError: Error, Equatable {
        case badAddress
        case badLength(max: Int)
        case hostBitsSet(suggestion: String)
    }

    /// Parses `ADDRESS/LENGTH`, or a bare address as a host prefix. Host bits
    /// must be zero: `10.0.0.1/16` is rejected with the network it probably meant.
    public static func parse(_ text: String) -> Result<IPPrefix, ParseError> {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddress(String(parts[0])) else { return .failure(.badAddress) }
        let isV4 = !parts[0].contains(":")
        let maxLength = isV4 ? 32 : 128
        var written = maxLength
        if parts.count == 2 {
            guard let n = Int(parts[1]), n >= 0, n <= maxLength, parts[1].allSatisfy(\.isNumber) else {
                return .failure(.badLength(max: maxLength))
            }
            written = n
        }
        let length = isV4 ? written + 96 : written
        let network = IPPrefix.mask(address, length)
        if network != address {
            let suggestion = IPPrefix(address: network, length: length).description
            return .failure(.hostBitsSet(suggestion: suggestion))
        }
        return .success(IPPrefix(address: network, length: length))
    }

    public init(address: IPAddress, length: Int) {
        self.address = IPPrefix.mask(address, length)
        self.length = length
    }

    /// The first and last address of the prefix.
    public var range: (first: IPAddress, last: IPAddress) {
        let first = address
        let hostBitsHigh: UInt64 = length >= 64 ? 0 : (length == 0 ? ~0 : ~0 >> UInt64(length))
        let hostBitsLow: UInt64 = length >= 128 ? 0 : (length <= 64 ? ~0 : ~0 >> UInt64(length - 64))
        return (first, IPAddress(high: first.high | hostBitsHigh, low: first.low | hostBitsLow))
    }

    public func contains(_ a: IPAddress) -> Bool {
        let r = range
        return !(a < r.first) && !(r.last < a)
    }

    /// Whether `other` lies entirely inside this prefix.
    public func contains(_ other: IPPrefix) -> Bool {
        other.length >= length && contains(other.address)
    }

    static func mask(_ a: IPAddress, _ length: Int) -> IPAddress {
        let highMask: UInt64 = length >= 64 ? ~0 : (length == 0 ? 0 : ~0 << UInt64(64 - length))
        let lowMask: UInt64 = length <= 64 ? 0 : (length >= 128 ? ~0 : ~0 << UInt64(128 - length))
        return IPAddress(high: a.high & highMask, low: a.low & lowMask)
    }

    public var description: String { "\(address)/\(writtenLength)" }
}

extension IPPrefix {
    /// Globally routable unicast space, for `subnets: [public]`: IPv4 without
    /// 0/8, RFC 1918, shared (100.64/10), loopback, link-local, multicast and
    /// reserved space, and IPv6 global unicast (2000::/3). A zone declared with
    /// it (typically `role: external`) takes every Internet address, while
    /// undeclared private addresses stay in no zone for rule 7001.
    public static let publicInternet: [IPPrefix] = {
        let excluded = ["0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
                        "172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/3"]
        var space = [try! IPPrefix.parse("0.0.0.0/0").get()]
        for text in excluded {
            let cut = try! IPPrefix.parse(text).get()
            space = space.flatMap { $0.excluding(cut) }
        }
        return space.sorted { $0.address < $1.address } + [try! IPPrefix.parse("2000::/3").get()]
    }()

    /// This prefix without `other`: the prefixes that cover the rest.
    func excluding(_ other: IPPrefix) -> [IPPrefix] {
        if other.contains(self) { return [] }
        guard contains(other) else { return [self] }
        // Split in halves until `other` is one of them; keep the halves it is not in.
        var result: [IPPrefix] = []
        var current = self
        while current.length < other.length {
            let (lower, upper) = current.halves
            if lower.contains(other) {
                result.append(upper)
                current = lower
            } else {
                result.append(lower)
                current = upper
            }
        }
        return result
    }

    var halves: (IPPrefix, IPPrefix) {
        let length = self.length + 1
        let lower = IPPrefix(address: address, length: length)
        let bit = 128 - length
        let upperAddress = bit >= 64
            ? IPAddress(high: address.high | (1 << UInt64(bit - 64)), low: address.low)
            : IPAddress(high: address.high, low: address.low | (1 << UInt64(bit)))
        return (lower, IPPrefix(address: upperAddress, length: length))
    }
}
