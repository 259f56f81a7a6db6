import Detect

/// Writes the first alert of each ``FindingKey`` and then at most one per
/// window of packet time, counting the ones in between; the next alert written
/// for the key carries that count. Memory is bounded by `maxEntries`.
///
/// Not thread-safe.
public final class AlertThrottle {
    struct Entry {
        var lastWritten: UInt64
        var suppressed: Int
    }

    public let window: UInt64
    public let maxEntries: Int
    private var entries: [FindingKey: Entry] = [:]
    /// Alerts suppressed, by sid (whether or not a later alert reported them).
    public private(set) var suppressedBySID: [Int: Int] = [:]

    /// - Parameter windowSeconds: 0 disables throttling.
    public init(windowSeconds: Int, maxEntries: Int = 100_000) {
        self.window = UInt64(windowSeconds) * 1_000_000_000
        self.maxEntries = maxEntries
    }

    /// Whether to write an alert with `key` at packet time `now`: the number of
    /// alerts suppressed since the previous one was written, or `nil` to suppress.
    public func admit(_ key: FindingKey, now: UInt64) -> Int? {
        guard window > 0 else { return 0 }
        if var entry = entries[key] {
            // Alerts reported when a flow ends can be older than the last one written.
            let distance = now >= entry.lastWritten ? now - entry.lastWritten : entry.lastWritten - now
            if distance < window {
                entry.suppressed += 1
                entries[key] = entry
                suppressedBySID[key.sid, default: 0] += 1
                return nil
            }
            let count = entry.suppressed
            entries[key] = Entry(lastWritten: now, suppressed: 0)
            return count
        }
        if entries.count >= maxEntries { prune(now: now) }
        entries[key] = Entry(lastWritten: now, suppressed: 0)
        return 0
    }

    /// Total of alerts suppressed so far.
    public var totalSuppressed: Int { suppressedBySID.values.reduce(0, +) }

    /// Drops entries whose window has passed; if none has, the oldest half.
    private func prune(now: UInt64) {
        entries = entries.filter { (now >= $0.value.lastWritten ? now - $0.value.lastWritten : $0.value.lastWritten - now) < window }
        if entries.count >= maxEntries {
            let keep = entries.sorted { $0.value.lastWritten > $1.value.lastWritten }.prefix(maxEntries / 2)
            entries = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
        }
    }
}
