import Detect

/// Writes the first alert of each ``Detect/FindingKey`` and then at most one
/// per window of packet time, counting the ones in between; the next alert
/// written for the key carries that count. Memory is bounded by `maxEntries`,
/// and keeping it so costs amortised constant time per alert: keys leave in
/// the order they were written (a queue), when their window has passed or,
/// with the table full, oldest first (counted in ``evictions``).
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
    /// Keys in the order they were written, with that time. A key written
    /// again is queued again; its older item is skipped when it comes up.
    private var order: [(key: FindingKey, written: UInt64)] = []
    private var head = 0
    /// Alerts suppressed, by sid (whether or not a later alert reported them).
    public private(set) var suppressedBySID: [Int: Int] = [:]
    /// Keys forgotten before their window passed because the table was full:
    /// a repeat of one is written again rather than counted.
    public private(set) var evictions = 0

    /// - Parameter windowSeconds: 0 disables throttling.
    public init(windowSeconds: Int, maxEntries: Int = 100_000) {
        self.window = UInt64(windowSeconds) * 1_000_000_000
        self.maxEntries = max(maxEntries, 1)
    }

    /// Whether an alert with `key` was written less than a window before `now`
    /// (a detection of it now would be suppressed); nothing is counted.
    public func holdsBack(_ key: FindingKey, now: UInt64) -> Bool {
        guard window > 0, let entry = entries[key] else { return false }
        return (now >= entry.lastWritten ? now - entry.lastWritten : entry.lastWritten - now) < window
    }

    /// Whether to write an alert with `key` at packet time `now`: the number of
    /// alerts suppressed since the previous one was written, or `nil` to suppress.
    public func admit(_ key: FindingKey, now: UInt64) -> Int? {
        guard window > 0 else { return 0 }
        // One hash per detection: the entry is found once and changed in place.
        if let i = entries.index(forKey: key) {
            let entry = entries.values[i]
            // Alerts reported when a flow ends can be older than the last one written.
            let distance = now >= entry.lastWritten ? now - entry.lastWritten : entry.lastWritten - now
            if distance < window {
                entries.values[i].suppressed += 1
                suppressedBySID[key.sid, default: 0] += 1
                return nil
            }
            entries.values[i] = Entry(lastWritten: now, suppressed: 0)
            enqueue(key, now)
            return entry.suppressed
        }
        expire(now: now)
        while entries.count >= maxEntries, let oldest = dequeueLive() {
            entries[oldest] = nil
            evictions += 1
        }
        entries[key] = Entry(lastWritten: now, suppressed: 0)
        enqueue(key, now)
        return 0
    }

    /// Total of alerts suppressed so far.
    public var totalSuppressed: Int { suppressedBySID.values.reduce(0, +) }

    /// Keys remembered now.
    public var count: Int { entries.count }

    private func enqueue(_ key: FindingKey, _ written: UInt64) {
        order.append((key, written))
    }

    /// Forgets the keys at the front of the queue whose window has passed.
    private func expire(now: UInt64) {
        while head < order.count {
            let (key, written) = order[head]
            guard written &+ window <= now else { break }
            if entries[key]?.lastWritten == written { entries[key] = nil }
            head += 1
        }
        compact()
    }

    /// The oldest key still remembered, taken off the queue.
    private func dequeueLive() -> FindingKey? {
        while head < order.count {
            let (key, written) = order[head]
            head += 1
            if entries[key]?.lastWritten == written {
                compact()
                return key
            }
        }
        compact()
        return nil
    }

    /// Drops the consumed front of the queue now and then (amortised constant).
    private func compact() {
        if head > 4096 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }
}
