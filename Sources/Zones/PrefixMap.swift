import Decode
import Vocabulary

/// Longest-prefix lookup from addresses to values, fast with thousands of prefixes.
///
/// At build time the (nested or disjoint) prefixes are flattened into sorted,
/// disjoint address intervals, each carrying the value of the most specific
/// prefix that covers it; a lookup is one binary search. Built once per
/// configuration, read-only afterwards.
public struct PrefixMap<Value: Sendable>: Sendable {
    struct Interval {
        var firstHigh: UInt64, firstLow: UInt64
        var lastHigh: UInt64, lastLow: UInt64
        var value: Value
    }

    private var intervals: [Interval] = []

    public var isEmpty: Bool { intervals.isEmpty }
    /// Number of disjoint intervals after flattening.
    public var intervalCount: Int { intervals.count }

    /// Builds the map. Identical prefixes must not appear twice (the config
    /// loader rejects them); for nested prefixes the longer one wins.
    public init(_ entries: [(IPPrefix, Value)]) {
        let sorted = entries.sorted { a, b in
            a.0.address != b.0.address ? a.0.address < b.0.address : a.0.length < b.0.length
        }
        var out: [Interval] = []
        // Enclosing prefixes still open, innermost last; `cursor` is the first
        // address not yet assigned to an interval (nil once past the top of the space).
        var stack: [(last: IPAddress, value: Value)] = []
        var cursor: IPAddress? = IPAddress.zero

        func emit(from first: IPAddress, to last: IPAddress, _ value: Value) {
            guard !(last < first) else { return }
            out.append(Interval(firstHigh: first.high, firstLow: first.low, lastHigh: last.high, lastLow: last.low, value: value))
        }
        func closeTop() {
            let top = stack.removeLast()
            if let c = cursor, !(top.last < c) {
                emit(from: c, to: top.last, top.value)
                cursor = Self.successor(top.last)
            }
        }

        for (prefix, value) in sorted {
            let (first, last) = prefix.range
            while let top = stack.last, top.last < first { closeTop() }
            if let top = stack.last, let c = cursor, c < first {
                emit(from: c, to: Self.predecessor(first), top.value)
            }
            cursor = first
            stack.append((last, value))
        }
        while !stack.isEmpty { closeTop() }
        intervals = out
    }

    /// The value of the most specific prefix containing `address`.
    @inline(__always)
    public func lookup(_ address: IPAddress) -> Value? {
        var low = 0, high = intervals.count - 1
        let h = address.high, l = address.low
        while low <= high {
            let mid = (low &+ high) >> 1
            let iv = intervals[mid]
            if h < iv.firstHigh || (h == iv.firstHigh && l < iv.firstLow) {
                high = mid &- 1
            } else if h > iv.lastHigh || (h == iv.lastHigh && l > iv.lastLow) {
                low = mid &+ 1
            } else {
                return iv.value
            }
        }
        return nil
    }

    static func successor(_ a: IPAddress) -> IPAddress? {
        if a.low == .max {
            if a.high == .max { return nil }
            return IPAddress(high: a.high + 1, low: 0)
        }
        return IPAddress(high: a.high, low: a.low + 1)
    }

    static func predecessor(_ a: IPAddress) -> IPAddress {
        if a.low == 0 { return IPAddress(high: a.high &- 1, low: .max) }
        return IPAddress(high: a.high, low: a.low - 1)
    }
}
