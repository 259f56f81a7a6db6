import CSupport
import Capture
import Decode
import Flows
import Platform
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Reads a capture file on a thread of its own, ahead of the analysis.
///
/// Reading is a third of offline analysis (libpcap's record parsing and the
/// kernel's copies out of the page cache). The reader thread copies each
/// packet into a ring of slots; the analysis thread takes them in order and
/// runs the pipeline on the slots themselves, so both cores work and the
/// packets, their order and everything found are exactly those of reading on
/// one thread. Only regular files are read ahead: a FIFO or standard input
/// may block in `read` where a stop signal must reach the reading thread.
///
/// With several workers (``ShardedAnalysis``) there are several consumers,
/// each reads every packet and processes its own share. Offline there is no
/// reader thread: the consumer that has caught up reads the next batch
/// (`cooperative`), so no core waits on a third thread. A live interface
/// (``LiveWorkers``) keeps its reader thread: a read may wait for packets.
///
/// The reader also decodes packets and computes their flow keys (``Decoding``)
/// when the analysis is the slower side: while a quarter of the ring or more
/// waits for it, the reader has time to spare and the packets it stores come
/// decoded; when the ring runs nearly empty the reader is the slower side and
/// leaves decoding to the analysis. Decoding is a pure function of the bytes,
/// so who did it changes nothing found. Cooperative readers always decode:
/// once for every consumer instead of once per consumer.
///
/// `produced` and each consumer's `released` count slots and are the only
/// state the threads write; a slot belongs to the reader from its release by
/// every consumer until it is produced again. Counters are published per 32
/// packets. A side that finds nothing to do spins briefly, then sleeps on a
/// condition variable until the other side has made room for a half ring
/// (the reader) or published packets (the analysis): a handful of wake-ups
/// per thousand packets, and none lost.
final class ReadAhead: @unchecked Sendable {
    /// Slots in the ring (a power of two): enough to ride out either side's
    /// hiccups. Several consumers may drift apart by this many packets before
    /// the one ahead waits (4,096 and 16,384 measured no faster, and larger).
    static let capacity = 2048
    private static let mask = capacity - 1

    struct Slot {
        var copy = PacketCopy()
        var timestamp: UInt64 = 0
        var capturedLength = 0
        var wireLength = 0

        /// Copies a packet into the slot.
        @inline(__always)
        mutating func store(_ packet: CapturedPacket) {
            copy.store(packet.bytes)
            timestamp = packet.timestamp
            capturedLength = packet.capturedLength
            wireLength = packet.wireLength
        }

        /// The packet in the slot, valid until the slot is released.
        var packet: CapturedPacket {
            CapturedPacket(timestamp: timestamp, capturedLength: capturedLength, wireLength: wireLength, bytes: copy.bytes)
        }
    }

    /// What the reader needs to decode packets ahead (nil: it only reads).
    struct Decoding: Sendable {
        var decoder: PacketDecoder
        var link: LinkLayer
        var keys: FlowKeyPreparer
        /// The reader thread decodes while at least this many packets wait
        /// for the analysis (0: always; more than ``capacity``: never;
        /// negative: every other packet, so that the tests see packets
        /// decoded by either side in one lookahead queue).
        var backlog = ReadAhead.decodingBacklog
    }

    /// A quarter of the ring: the analysis is clearly the slower side.
    static let decodingBacklog = capacity / 4

    /// One packet in the ring as its consumer sees it; valid until released.
    struct Item {
        var packet: CapturedPacket
        /// Where the reader decoded the packet, if `isDecoded` (the consumer
        /// decodes the others into memory of its own): the ring's memory,
        /// the consumer's until released.
        var decoded: UnsafeMutablePointer<DecodedPacket>
        var isDecoded: Bool
        /// The flow key, when the reader decoded the packet: where the ring
        /// has it. A pointer, not the value: copied from the ring onto the
        /// stack and on, the key (an optional of 60-odd bytes) was read back by
        /// loads the stores before them could not forward, each a wait.
        var key: UnsafePointer<PreparedFlowKey?>
    }

    private let slots: UnsafeMutablePointer<Slot>
    /// Per slot (beside `slots`, so that an item can point into them): the
    /// packet decoded, its flow key, and whether the reader decoded it.
    private let decodedPackets: UnsafeMutablePointer<DecodedPacket>
    private let keys: UnsafeMutablePointer<PreparedFlowKey?>
    private let decodedFlags: UnsafeMutablePointer<Bool>
    private let decoding: Decoding?
    private let source: PacketSource
    /// The source's file, for ``PcapHandle/nextPlain()`` (nil: not a single file).
    private let plainFile: Unmanaged<PcapHandle>?
    private let stopRequested: (@Sendable () -> Bool)?
    /// Packets the reader has put into the ring (monotonic).
    private let produced = Atomic<Int>(0)
    /// Per consumer, the packets it is done with (monotonic), a cache line
    /// apart: a slot is free once every consumer has released it.
    private let released: UnsafeMutablePointer<Atomic<Int>>
    private let consumers: Int
    private static let releasedStride = 8
    /// The reader has stopped: `produced` is final and `failure` set.
    private let finished = Atomic<Bool>(false)
    /// A side about to sleep says so; the other wakes it after its next step.
    private let readerWaiting = Atomic<Bool>(false)
    /// How many consumers are (about to be) asleep.
    private let consumersWaiting = Atomic<Int>(0)
    private let sleep = ConditionLock()
    /// Why reading stopped early (written before `finished`, read after).
    private var failure: CaptureError?
    private var thread: WorkerThread?
    /// No reader thread: a consumer that has caught up reads the next batch
    /// itself (holding `readLock`), so the one with least to do reads, and
    /// there are no more threads than consumers.
    private let cooperative: Bool
    private let readLock = Atomic<Bool>(false)
    /// Cooperative: packets read so far (guarded by `readLock`).
    private var next = 0

    convenience init(handle: PcapHandle, consumers: Int = 1, cooperative: Bool = false, decoding: Decoding? = nil) {
        self.init(source: .file(handle), consumers: consumers, cooperative: cooperative, decoding: decoding)
    }

    /// - Parameter cooperative: read by the consumers (several), not by a thread of its own (``start()`` is not called).
    /// - Parameter decoding: how the reader decodes packets ahead (nil: the consumers decode them all).
    /// - Parameter stopRequested: a live source's stop request, asked between reads (files end, or stop on ``StopSignals``).
    init(source: PacketSource, consumers: Int = 1, cooperative: Bool = false, decoding: Decoding? = nil, stopRequested: (@Sendable () -> Bool)? = nil) {
        self.stopRequested = stopRequested
        // Several consumers share each decoded packet: only the reader may write it.
        precondition(consumers == 1 || decoding != nil)
        self.source = source
        plainFile = source.unretainedFile
        self.decoding = decoding
        self.consumers = consumers
        self.cooperative = cooperative
        released = .allocate(capacity: consumers * Self.releasedStride)
        for i in 0..<consumers { (released + i * Self.releasedStride).initialize(to: Atomic(0)) }
        polled = .allocate(capacity: consumers * Self.releasedStride)
        polled.initialize(repeating: 0, count: consumers * Self.releasedStride)
        slots = .allocate(capacity: Self.capacity)
        for i in 0..<Self.capacity {
            (slots + i).initialize(to: Slot())
        }
        decodedPackets = .allocate(capacity: Self.capacity)
        decodedPackets.initialize(repeating: DecodedPacket(), count: Self.capacity)
        keys = .allocate(capacity: Self.capacity)
        keys.initialize(repeating: nil, count: Self.capacity)
        decodedFlags = .allocate(capacity: Self.capacity)
        decodedFlags.initialize(repeating: false, count: Self.capacity)
    }

    deinit {
        for i in 0..<Self.capacity { slots[i].copy.release() }
        slots.deinitialize(count: Self.capacity)
        slots.deallocate()
        decodedPackets.deinitialize(count: Self.capacity)
        decodedPackets.deallocate()
        keys.deinitialize(count: Self.capacity)
        keys.deallocate()
        decodedFlags.deallocate()
        for i in 0..<consumers { (released + i * Self.releasedStride).deinitialize(count: 1) }
        released.deallocate()
        polled.deallocate()
    }

    /// The packets every consumer is done with.
    @inline(__always)
    private func freedUpTo() -> Int {
        var least = released[0].load(ordering: .sequentiallyConsistent)
        for i in 1..<consumers { least = min(least, released[i * Self.releasedStride].load(ordering: .sequentiallyConsistent)) }
        return least
    }

    /// Starts the reader thread; false if the system refused one (then read on the caller's thread).
    func start() -> Bool {
        let worker = WorkerThread(name: "zw-read") { [self] in read() }
        guard worker.start() else { return false }
        thread = worker
        return true
    }

    // MARK: The reader thread

    private func read() {
        var next = 0
        reading: while true {
            if _slowPath(StopSignals.requested) { break }
            let waiting = next - freedUpTo()
            // Wait for a free slot.
            if waiting >= Self.capacity {
                // The ring is full: publish what is read, then wait for the analysis.
                publish(next, wake: true)
                var spins = 0
                while next - freedUpTo() >= Self.capacity {
                    // A live source's stop too: its consumers may have ended without freeing the ring.
                    if StopSignals.requested || stopRequested?() == true { finish(at: next, nil); return }
                    spins += 1
                    if spins < 256 { continue }
                    // Asleep until half the ring is free: one wake-up per half ring, not per batch.
                    wait(readerWaiting) { next - self.freedUpTo() > Self.capacity / 2 }
                }
            }
            let captured: NextPacket
            do throws(CaptureError) {
                captured = try nextPacket()
            } catch {
                if case .live(let handle) = source { refreshStatistics(handle, now: true) }
                finish(at: next, error)
                return
            }
            guard case .packet(let packet) = captured else {
                if case .timeout = captured {
                    if case .live(let handle) = source {
                        // A live handle does not block: a stop is asked here, not by a read that returns.
                        if stopRequested?() == true { break reading }
                        // Nothing buffered: what was read goes to the analysis now (it is published
                        // per 32 packets otherwise), and the reader waits for more.
                        publish(next, wake: true)
                        refreshStatistics(handle)
                        _ = handle.waitForPackets(milliseconds: 100)
                    }
                    continue
                }
                break
            }
            slots[next & Self.mask].store(packet)
            // The analysis is behind: the reader has time to decode for it.
            if let decoding, waiting >= decoding.backlog, decoding.backlog >= 0 || next & 1 == 0 { decode(next & Self.mask) } else { decodedFlags[next & Self.mask] = false }
            next += 1
            // Published in batches: one shared write per 32 packets, not per packet.
            // Sleeping consumers are woken per 256 packets: a wake-up costs the
            // reader more than the packets it lets them take.
            if next & 31 == 0 {
                publish(next, wake: next & 255 == 0)
                if case .live(let handle) = source {
                    if stopRequested?() == true { break reading }
                    if next & 4095 == 0 { refreshStatistics(handle) }
                }
            }
        }
        if case .live(let handle) = source { refreshStatistics(handle, now: true) }
        finish(at: next, nil)
    }

    /// The source's next packet: a file's plain record through ``PcapHandle/nextPlain()``, else ``PacketSource/next()``.
    @inline(__always)
    private func nextPacket() throws(CaptureError) -> NextPacket {
        if let file = plainFile {
            let record = file._withUnsafeGuaranteedRef { $0.nextPlain() }
            if let bytes = record.bytes {
                let length = Int(truncatingIfNeeded: record.lengths & 0xFFFF_FFFF)
                return .packet(CapturedPacket(timestamp: record.timestamp, capturedLength: length, wireLength: Int(truncatingIfNeeded: record.lengths >> 32),
                                              bytes: UnsafeRawBufferPointer(start: bytes, count: length)))
            }
        }
        return try source.next()
    }

    /// A live interface's counters as the reader last took them (libpcap's handle is the reader's
    /// alone while it runs: `pcap_stats` is not called beside `pcap_next_ex` from another thread).
    var captureStatistics: CaptureStatistics? { statisticsLock.withLock { statistics } }
    private let statisticsLock = ConditionLock()
    private var statistics: CaptureStatistics?
    /// When the reader last took them (monotonic seconds; the reader's alone).
    private var statisticsTaken = -Double.infinity

    /// Takes the counters before the reader starts (the handle is the caller's until then).
    func takeStatistics(_ handle: PcapHandle) { refreshStatistics(handle, now: true) }

    /// Takes the interface's counters, at most four times a second unless `now`.
    private func refreshStatistics(_ handle: PcapHandle, now: Bool = false) {
        let time = monotonicSeconds()
        guard now || time - statisticsTaken >= 0.25 else { return }
        statisticsTaken = time
        let taken = handle.statistics()
        statisticsLock.withLock { statistics = taken }
    }

    /// Decodes the packet in slot `i` and computes its flow key, if the reader decodes.
    @inline(__always)
    private func decode(_ i: Int) {
        guard let decoding else {
            decodedFlags[i] = false
            return
        }
        let p = decodedPackets + i
        decoding.decoder.decode(slots[i].packet, link: decoding.link, into: p)
        keys[i] = decoding.keys.prepare(p)
        decodedFlags[i] = true
    }

    private func publish(_ count: Int, wake wakeConsumers: Bool) {
        produced.store(count, ordering: .sequentiallyConsistent)
        if wakeConsumers && consumersWaiting.load(ordering: .sequentiallyConsistent) > 0 { wake() }
    }

    private func finish(at count: Int, _ error: CaptureError?) {
        failure = error
        produced.store(count, ordering: .sequentiallyConsistent)
        finished.store(true, ordering: .sequentiallyConsistent)
        wake()
    }

    /// Sleeps while `blocked` holds, after saying so in `flag`. The other side
    /// reads the flag after every step it publishes, and both the flag and the
    /// counters are sequentially consistent, so one of the two always sees the
    /// other: no wake-up is lost (the timeout is only a safety net).
    private func wait(_ flag: borrowing Atomic<Bool>, while blocked: () -> Bool) {
        flag.store(true, ordering: .sequentiallyConsistent)
        sleep.withLock {
            if blocked() && !finished.load(ordering: .sequentiallyConsistent) { sleep.wait(seconds: 0.05) }
        }
        flag.store(false, ordering: .sequentiallyConsistent)
    }

    /// A consumer's ``wait(_:while:)``: counted, since several may sleep at once.
    private func consumerWait(while blocked: () -> Bool) {
        consumersWaiting.add(1, ordering: .sequentiallyConsistent)
        sleep.withLock {
            if blocked() && !finished.load(ordering: .sequentiallyConsistent) { sleep.wait(seconds: 0.05) }
        }
        consumersWaiting.subtract(1, ordering: .sequentiallyConsistent)
    }

    private func wake() {
        // Taking the lock orders this wake-up after a sleeper's check.
        sleep.withLock {}
        sleep.broadcast()
    }

    // MARK: The analysis thread

    /// Calls `body` with every packet in order, then returns why reading
    /// stopped early (nil at the end of the file or on a stop signal).
    /// `body` returns how many of the packets it was given it still holds
    /// (a lookahead keeps the last few): their slots are kept until it is done.
    func forEach(_ body: (Item) -> Int) -> CaptureError? {
        forEach(consumer: 0) { item, _ in body(item) }
        return join()
    }

    /// Packets the reader has put into the ring so far (all of them once it has ended).
    var packetsRead: Int { produced.load(ordering: .acquiring) }

    /// Waits for the reader thread to end (every consumer is done); returns
    /// why reading stopped early (nil at the end of the file or on a stop signal).
    func join() -> CaptureError? {
        thread?.join()
        thread = nil
        return failure
    }

    /// Consumer `consumer`'s loop: `body` gets every packet in order with its
    /// position in the file, and returns how many it still holds.
    func forEach(consumer: Int, _ body: (Item, Int) -> Int) {
        var taken = 0
        while true {
            let available = available(after: taken)
            if available == taken { break }
            hand(consumer, from: taken, to: available, available: available, body)
            taken = available
        }
    }

    /// Gives `body` the packets from `start` up to `end` (of `available` in
    /// the ring), freeing the slots it no longer holds every 32 packets and at the end.
    @inline(__always)
    private func hand(_ consumer: Int, from start: Int, to end: Int, available: Int, _ body: (Item, Int) -> Int) {
        var taken = start, held = 0
        while taken < end {
            let i = taken & Self.mask
            // The reader wrote these on the other core: fetched ahead, not waited for.
            let ahead = (taken &+ 16) & Self.mask
            zw_prefetch_for_read(slots + ahead)
            zw_prefetch_for_read(keys + ahead)
            // And the first bytes of a packet eight on (its slot came sixteen ahead): one the
            // reader left undecoded is decoded here at once, its first read otherwise a wait.
            if taken &+ 8 < available, let bytes = slots[(taken &+ 8) & Self.mask].copy.bytes.baseAddress {
                zw_prefetch_for_read(bytes)
                zw_prefetch_for_read(bytes + 64)
            }
            held = body(Item(packet: slots[i].packet, decoded: decodedPackets + i, isDecoded: decodedFlags[i], key: keys + i), taken)
            taken += 1
            if taken & 31 == 0 { release(consumer, upTo: taken - held) }
        }
        release(consumer, upTo: taken - held)
    }

    /// What ``poll(consumer:limit:waitingUpTo:unless:_:)`` did.
    enum Poll: Equatable {
        /// Took this many packets (at least one).
        case packets(Int)
        /// None came within the wait.
        case idle
        /// `unless` held: no packet was taken.
        case interrupted
        /// The reader has stopped and every packet was taken.
        case finished
    }

    /// Packets taken by ``poll(consumer:limit:waitingUpTo:unless:_:)`` so far, per consumer
    /// (each its own consumer's, a cache line apart as `released`).
    private let polled: UnsafeMutablePointer<Int>

    /// A live consumer's step: `body` gets the packets
    /// in the ring now, at most `limit`, as in ``forEach(consumer:_:)``; with
    /// none there, the step waits up to `milliseconds` for one. The caller
    /// keeps house between steps (timers, reloads, a stop), and once it has
    /// processed what `body` still held it says so (``releaseTaken()``).
    /// `unless` is asked before packets are handed, after any wait: when it
    /// holds, none are taken (a new configuration applies to the packets
    /// that came after it, even those that ended the wait).
    func poll(consumer: Int = 0, limit: Int, waitingUpTo milliseconds: Int, unless interrupt: () -> Bool, _ body: (Item, Int) -> Int) -> Poll {
        let polledAt = polled + consumer * Self.releasedStride
        let polled = polledAt.pointee
        var available = produced.load(ordering: .acquiring)
        if available == polled {
            if finished.load(ordering: .acquiring) {
                available = produced.load(ordering: .acquiring)
                if available == polled { return .finished }
            } else {
                available = self.available(after: polled, until: monotonicSeconds() + Double(milliseconds) / 1000)
                if available == polled { return finished.load(ordering: .acquiring) && produced.load(ordering: .acquiring) == polled ? .finished : .idle }
            }
        }
        if interrupt() { return .interrupted }
        let end = min(available, polled + limit)
        hand(consumer, from: polled, to: end, available: available, body)
        polledAt.pointee = end
        return .packets(end - polled)
    }

    /// Every packet ``poll(consumer:limit:waitingUpTo:unless:_:)`` gave `consumer` has been processed: their slots are free.
    func releaseTaken(consumer: Int = 0) { release(consumer, upTo: polled[consumer * Self.releasedStride]) }

    /// As ``available(after:)``, but gives up at `deadline` (monotonic seconds): returns `taken` then.
    private func available(after taken: Int, until deadline: Double) -> Int {
        var spins = 0
        while true {
            let produced = produced.load(ordering: .acquiring)
            if produced > taken { return produced }
            if finished.load(ordering: .acquiring) { return self.produced.load(ordering: .acquiring) }
            spins += 1
            if spins < 256 { continue }
            if monotonicSeconds() >= deadline { return taken }
            consumerWait {
                self.produced.load(ordering: .sequentiallyConsistent) <= taken && !self.finished.load(ordering: .sequentiallyConsistent)
            }
        }
    }

    /// Waits until packets after the first `taken` are in the ring; returns how
    /// many have been read in all (`taken` once the reader has stopped).
    private func available(after taken: Int) -> Int {
        var spins = 0
        while true {
            let produced = produced.load(ordering: .acquiring)
            if produced > taken { return produced }
            if finished.load(ordering: .acquiring) { return self.produced.load(ordering: .acquiring) }
            if cooperative {
                if readLock.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
                    let read = readSome()
                    readLock.store(false, ordering: .releasing)
                    if read { continue }
                    // The ring is full: the slowest consumer must free half of it first.
                    consumerWait {
                        self.produced.load(ordering: .sequentiallyConsistent) - self.freedUpTo() > Self.capacity / 2
                            && !self.finished.load(ordering: .sequentiallyConsistent)
                    }
                    continue
                }
            }
            spins += 1
            if spins < 256 { continue }
            consumerWait {
                self.produced.load(ordering: .sequentiallyConsistent) <= taken && !self.finished.load(ordering: .sequentiallyConsistent)
            }
        }
    }

    /// The analysis is done with the first `n` packets: their slots are free.
    @inline(__always)
    private func release(_ consumer: Int, upTo n: Int) {
        released[consumer * Self.releasedStride].store(n, ordering: .sequentiallyConsistent)
        let waiting = cooperative ? consumersWaiting.load(ordering: .sequentiallyConsistent) > 0 : readerWaiting.load(ordering: .sequentiallyConsistent)
        if waiting && produced.load(ordering: .sequentiallyConsistent) - freedUpTo() <= Self.capacity / 2 {
            wake()
        }
    }

    /// Cooperative reading, holding `readLock`: up to 256 packets into the
    /// free slots. Returns false if the ring had no room (nothing read);
    /// true if it read packets or reading ended (`finished` set).
    private func readSome() -> Bool {
        // Another consumer read the end while this one waited for the lock: reading on would
        // take a paused file's held packet (or its error) past the end already published.
        if finished.load(ordering: .acquiring) { return true }
        var n = next
        let room = Self.capacity - (n - freedUpTo())
        guard room > 0 else { return false }
        let end = n + min(room, 256)
        defer {
            next = n
            if !finished.load(ordering: .sequentiallyConsistent) { publish(n, wake: true) }
        }
        while n < end {
            if _slowPath(StopSignals.requested) {
                finish(at: n, nil)
                return true
            }
            let captured: NextPacket
            do throws(CaptureError) {
                captured = try nextPacket()
            } catch {
                finish(at: n, error)
                return true
            }
            guard case .packet(let packet) = captured else {
                if case .timeout = captured { continue }
                finish(at: n, nil)
                return true
            }
            slots[n & Self.mask].store(packet)
            decode(n & Self.mask)
            n += 1
        }
        return true
    }
}

/// What a ``ReadAhead`` reads: one file, or files that overlap in time merged
/// by timestamp. An enum, not a protocol: no existential on the packet path.
enum PacketSource {
    case file(PcapHandle)
    case merged(MergedCapture)
    /// A live interface: its read timeouts publish what was read and wait for
    /// more, and the reader keeps its capture counters (``ReadAhead/captureStatistics``).
    case live(PcapHandle)

    @inline(__always)
    func next() throws(CaptureError) -> NextPacket {
        // One case per pattern: a pattern binding two cases' payloads retained the handle for every packet.
        switch self {
        case .file(let handle): return try handle.next()
        case .live(let handle): return try handle.next()
        case .merged(let files): return files.next()
        }
    }

    /// A file's handle, held without reference counting (the source holds it): binding it
    /// from the case retains and releases it, atomic operations that wait for the ring's stores.
    var unretainedFile: Unmanaged<PcapHandle>? {
        if case .file(let handle) = self { return .passUnretained(handle) }
        return nil
    }

    /// The file's name (the last file's, for files merged).
    var name: String {
        switch self {
        case .file(let handle), .live(let handle): return handle.source
        case .merged(let files): return files.handles.last?.source ?? ""
        }
    }
}
