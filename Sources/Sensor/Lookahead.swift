import CSupport
import Capture
import Decode
import Flows

/// Hides the flow table's memory latency when the table is large.
///
/// With hundreds of thousands of flows, the index slot and the record of a
/// packet's flow are almost never in the cache: each lookup waits for memory
/// twice, one load after the other. The lookahead decodes each packet
/// ``distance`` packets before it is processed: on arrival it starts loading
/// the flow's index slot; half the distance later (slot loaded) it starts
/// loading the record; at the end of the queue the packet runs through the
/// pipeline with both in the cache. libpcap reuses its buffer for the next
/// packet, so a queued packet's bytes are copied into the queue (the cost that
/// keeps the lookahead off while the table fits in the caches; see
/// ``Pipeline/lookaheadThreshold``).
///
/// Order is kept: packets are processed exactly in capture order.
///
/// A worker of a ``ShardedAnalysis`` queues every packet of the capture
/// (each advances its clock) and prefetches for the ones it owns.
///
/// Not thread-safe: one per pipeline and capture file (``OfflineAnalysis``).
final class Lookahead {
    static let distance = 8
    private static let mask = distance - 1

    private struct Entry {
        /// A copy of the packet's bytes, when they are libpcap's (reused for the next packet).
        var copy = PacketCopy()
        /// The bytes processed: the copy, or memory that stays valid until the
        /// packet is processed (a ``ReadAhead`` slot).
        var view = UnsafeRawBufferPointer(start: nil, count: 0)
        /// The packet's flow key and hash (nil: no flow), computed once.
        var key: PreparedFlowKey?
        /// The packet decoded: in `packets`, or a ``ReadAhead`` ring's.
        var decoded: UnsafeMutablePointer<DecodedPacket>?
        /// A worker's: whether the packet is its own, and its position in the capture.
        var owns = true
        var position = 0
    }

    // Strong `let`s: calls through them count no references (an `unowned`
    // reference is copied strong for each call: a quarter of the profile).
    private let pipeline: Pipeline
    private let flows: FlowTable
    private let packets: UnsafeMutablePointer<DecodedPacket>
    private let entries: UnsafeMutablePointer<Entry>
    /// The next free entry; `count` entries are queued before it.
    private var head = 0
    private(set) var count = 0
    /// A worker's index among `shards` workers (`shards` 0: one pipeline, every packet its own).
    private let shard: Int
    private let shards: UInt64

    init(pipeline: Pipeline, shard: Int = 0, of shards: Int = 0) {
        self.pipeline = pipeline
        self.shard = shard
        self.shards = UInt64(shards)
        self.flows = pipeline.flows
        packets = .allocate(capacity: Self.distance)
        packets.initialize(repeating: DecodedPacket(), count: Self.distance)
        entries = .allocate(capacity: Self.distance)
        for i in 0..<Self.distance {
            (entries + i).initialize(to: Entry())
        }
    }

    deinit {
        for i in 0..<Self.distance { entries[i].copy.release() }
        entries.deinitialize(count: Self.distance)
        entries.deallocate()
        packets.deinitialize(count: Self.distance)
        packets.deallocate()
    }

    /// Queues a packet read straight from libpcap (its bytes are copied: libpcap
    /// reuses its buffer); processes the oldest one first when the queue is full.
    @inline(__always)
    func push(_ captured: CapturedPacket, link: LinkLayer) {
        if count == Self.distance { processOldest() }
        let i = head
        let e = entries + i
        e.pointee.view = e.pointee.copy.store(captured.bytes)
        var queued = captured
        queued.bytes = e.pointee.view
        let p = packets + i
        pipeline.decode(queued, link: link, into: p)
        e.pointee.decoded = p
        e.pointee.key = flows.prepare(p)
        enqueued(position: 0)
    }

    /// Queues a packet decoded in a ``ReadAhead`` ring (its slot, bytes and
    /// decoded form stay valid until it is processed); processes the oldest
    /// one first when the queue is full.
    @inline(__always)
    func push(_ item: ReadAhead.Item, link: LinkLayer, position: Int = 0) {
        if count == Self.distance { processOldest() }
        let e = entries + head
        e.pointee.view = item.packet.bytes
        // The key goes from where it was made straight into the queue's entry: passed on by
        // value through the stack it was read back before its stores could be forwarded.
        if item.isDecoded {
            Self.prefetch(item)
            e.pointee.decoded = item.decoded
            e.pointee.key = item.key.pointee
        } else {
            let p = packets + head
            pipeline.decode(item.packet, link: link, into: p)
            e.pointee.decoded = p
            e.pointee.key = flows.prepare(p)
        }
        enqueued(position: position)
    }

    /// A packet the reading core decoded is in that core's cache, not this
    /// one's: its decoded form and first bytes are fetched while the packets
    /// before it are processed (the flow stage's first read of it otherwise
    /// waited for the other core; the profile showed it as a fifth of the
    /// flow table's time).
    @inline(__always)
    private static func prefetch(_ item: ReadAhead.Item) {
        let decoded = UnsafeRawPointer(item.decoded)
        var offset = 0
        while offset < MemoryLayout<DecodedPacket>.size {
            zw_prefetch_for_read(decoded + offset)
            offset &+= 64
        }
        // A decoded packet (552 bytes) is not a whole number of lines: its last bytes may begin one more.
        zw_prefetch_for_read(decoded + (MemoryLayout<DecodedPacket>.size - 1))
        if let bytes = item.packet.bytes.baseAddress {
            zw_prefetch_for_read(bytes)
            zw_prefetch_for_read(bytes + 64)
        }
    }

    /// Queues the packet at `head` (its entry holds its decoded form and key) and starts loading its flow.
    @inline(__always)
    private func enqueued(position: Int) {
        let i = head
        let e = entries + i
        if shards > 0 {
            e.pointee.owns = e.pointee.key.map { ShardedAnalysis.worker(of: $0, among: shards) == shard } ?? (shard == 0)
            e.pointee.position = position
        }
        if e.pointee.owns, let hash = e.pointee.key?.hash32 { flows.prefetchSlot(hash) }
        // The packet half the queue back: its slot has arrived, so fetch its record.
        let middle = entries + ((i &- Self.distance / 2) & Self.mask)
        if count >= Self.distance / 2, middle.pointee.owns, let hash = middle.pointee.key?.hash32 { flows.prefetchRecord(hash) }
        head = (i &+ 1) & Self.mask
        count &+= 1
    }

    /// Processes every queued packet, oldest first.
    func drain() {
        while count > 0 { processOldest() }
    }

    @inline(__always)
    private func processOldest() {
        let i = (head &- count) & Self.mask
        count &-= 1
        let e = entries + i
        let p = e.pointee.decoded.unsafelyUnwrapped
        if shards > 0 {
            pipeline.processShare(p, bytes: e.pointee.view, key: e.pointee.key, owns: e.pointee.owns, position: e.pointee.position)
        } else {
            pipeline.processDecoded(p, bytes: e.pointee.view, key: e.pointee.key)
        }
    }
}
