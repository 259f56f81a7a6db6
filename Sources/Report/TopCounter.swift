/// The most frequent keys of a stream in bounded memory (the Space-Saving
/// algorithm): at most `capacity` counters; a new key takes the smallest
/// counter's place and inherits its count as possible over-estimate. Exact
/// while fewer than `capacity` distinct keys have been seen.
public struct TopCounter<Key: Hashable & Sendable>: Sendable {
    public let capacity: Int
    private var counts: [Key: (count: UInt64, error: UInt64)] = [:]
    /// Whether keys were ever dropped (the counts are then upper bounds).
    public private(set) var approximate = false

    public init(capacity: Int) { self.capacity = max(capacity, 1) }

    public mutating func add(_ key: Key, _ n: UInt64 = 1) {
        if let current = counts[key] {
            counts[key] = (current.count + n, current.error)
            return
        }
        if counts.count < capacity {
            counts[key] = (n, 0)
            return
        }
        approximate = true
        let (smallest, value) = counts.min { $0.value.count < $1.value.count }!
        counts[smallest] = nil
        counts[key] = (value.count + n, value.count)
    }

    /// The keys by count, highest first (ties in the order of their descriptions).
    public func top(_ n: Int) -> [(key: Key, count: UInt64)] {
        let entries: [(key: Key, count: UInt64)] = counts.map { (key: $0.key, count: $0.value.count) }
        let sorted = entries.sorted { a, b in
            if a.count != b.count { return a.count > b.count }
            return String(describing: a.key) < String(describing: b.key)
        }
        return Array(sorted.prefix(n))
    }

    public var count: Int { counts.count }

    /// Adds another counter's keys (the live sensor's threads report separately).
    public mutating func merge(_ other: TopCounter<Key>) {
        for (key, value) in other.counts { add(key, value.count) }
        approximate = approximate || other.approximate
    }
}
