/// In-order delivery of the first `window` bytes of one direction of a TCP
/// stream, as login inspection needs them: correct under retransmissions,
/// overlaps and out-of-order segments, with bounded memory.
///
/// Segments that arrive in order are delivered straight from the packet
/// (zero-copy). A segment ahead of a gap is copied into a buffer of `window`
/// bytes, allocated the first time it is needed for the flow, and delivered
/// once the gap fills. Retransmitted bytes already delivered are skipped; where
/// buffered segments overlap, the first copy wins (as most stacks keep it).
/// Bytes past the window are ignored.
public struct TCPStreamDirection {
    /// The sequence number of the next byte to deliver.
    public private(set) var nextSequence: UInt32 = 0
    /// Whether ``nextSequence`` is known (from the SYN, or the first data seen).
    public private(set) var hasStart = false
    /// Bytes delivered so far.
    public private(set) var delivered = 0
    public let window: Int
    /// Buffered out-of-order bytes, by stream offset.
    private var buffer: UnsafeMutableRawBufferPointer?
    /// Filled ranges of `buffer` (stream offsets), sorted and disjoint.
    private var ranges: [Range<Int>] = []
    static let maximumRanges = 16

    public init(window: Int) { self.window = window }

    /// The window is full: nothing more will be delivered.
    public var isComplete: Bool { delivered >= window }

    /// Sets the stream's start from a SYN or SYN-ACK: its first data byte is `isn + 1`.
    public mutating func start(synSequence isn: UInt32) {
        guard !hasStart else { return }
        nextSequence = isn &+ 1
        hasStart = true
    }

    /// Offers one segment's payload; calls `deliver` with each run of new in-order bytes.
    public mutating func receive(sequence: UInt32, payload: UnsafeRawBufferPointer, deliver: (UnsafeRawBufferPointer) -> Void) {
        guard !payload.isEmpty, delivered < window else { return }
        if !hasStart {
            nextSequence = sequence
            hasStart = true
        }
        let offset = Int(Int32(bitPattern: sequence &- nextSequence))
        if offset <= 0 {
            let skip = -offset
            guard skip < payload.count else { return }  // a pure retransmission
            let usable = min(payload.count - skip, window - delivered)
            deliver(UnsafeRawBufferPointer(rebasing: payload[skip..<(skip + usable)]))
            advance(by: usable)
            drain(deliver)
        } else {
            store(at: delivered + offset, payload)
        }
    }

    private mutating func advance(by count: Int) {
        delivered += count
        nextSequence &+= UInt32(truncatingIfNeeded: count)
    }

    private mutating func store(at start: Int, _ payload: UnsafeRawBufferPointer) {
        let end = min(start + payload.count, window)
        guard start < end else { return }
        if buffer == nil { buffer = .allocate(byteCount: window, alignment: 1) }
        // Copy only the bytes no earlier segment has filled.
        var cursor = start
        var gaps: [Range<Int>] = []
        for r in ranges where r.upperBound > cursor && r.lowerBound < end {
            if r.lowerBound > cursor { gaps.append(cursor..<r.lowerBound) }
            cursor = max(cursor, r.upperBound)
        }
        if cursor < end { gaps.append(cursor..<end) }
        guard !gaps.isEmpty else { return }
        for gap in gaps {
            UnsafeMutableRawBufferPointer(rebasing: buffer![gap]).copyMemory(
                from: UnsafeRawBufferPointer(rebasing: payload[(gap.lowerBound - start)..<(gap.upperBound - start)]))
        }
        merge(start..<end)
    }

    private mutating func merge(_ new: Range<Int>) {
        var merged = new
        var kept: [Range<Int>] = []
        for r in ranges {
            if r.upperBound < merged.lowerBound || r.lowerBound > merged.upperBound {
                kept.append(r)
            } else {
                merged = min(r.lowerBound, merged.lowerBound)..<max(r.upperBound, merged.upperBound)
            }
        }
        kept.append(merged)
        kept.sort { $0.lowerBound < $1.lowerBound }
        // Bounded bookkeeping: beyond the limit the farthest range is dropped
        // (its bytes come again with the retransmission).
        if kept.count > Self.maximumRanges { kept.removeLast() }
        ranges = kept
    }

    /// Delivers buffered bytes that now continue the stream.
    private mutating func drain(_ deliver: (UnsafeRawBufferPointer) -> Void) {
        while let first = ranges.first, first.lowerBound <= delivered {
            ranges.removeFirst()
            if first.upperBound > delivered {
                let run = delivered..<first.upperBound
                deliver(UnsafeRawBufferPointer(rebasing: buffer![run]))
                advance(by: run.count)
            }
        }
    }

    /// Frees the out-of-order buffer (call when the flow ends).
    public mutating func release() {
        buffer?.deallocate()
        buffer = nil
        ranges = []
    }
}
