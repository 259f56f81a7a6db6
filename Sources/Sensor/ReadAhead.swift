import Capture
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
/// One producer, one consumer: `produced` and `released` count slots and
/// are the only state both threads touch, with release/acquire ordering; a
/// slot belongs to the reader from its release until it is produced again.
final class ReadAhead: @unchecked Sendable {
    /// Slots in the ring (a power of two): enough to ride out either side's hiccups.
    static let capacity = 1024
    private static let mask = capacity - 1

    struct Slot {
        var buffer: UnsafeMutableRawPointer
        var bufferCapacity: Int
        var timestamp: UInt64 = 0
        var capturedLength = 0
        var wireLength = 0
        var length = 0

        /// The packet in the slot, valid until the slot is released.
        var packet: CapturedPacket {
            CapturedPacket(timestamp: timestamp, capturedLength: capturedLength, wireLength: wireLength,
                           bytes: UnsafeRawBufferPointer(start: buffer, count: length))
        }
    }

    private let slots: UnsafeMutablePointer<Slot>
    private let handle: PcapHandle
    /// Packets the reader has put into the ring (monotonic).
    private let produced = Atomic<Int>(0)
    /// Packets the analysis is done with (monotonic): their slots are free.
    private let released = Atomic<Int>(0)
    /// The reader has stopped: `produced` is final and `failure` set.
    private let finished = Atomic<Bool>(false)
    /// Why reading stopped early (written before `finished`, read after).
    private var failure: CaptureError?
    private var thread: WorkerThread?

    init(handle: PcapHandle) {
        self.handle = handle
        slots = .allocate(capacity: Self.capacity)
        for i in 0..<Self.capacity {
            (slots + i).initialize(to: Slot(buffer: .allocate(byteCount: 2048, alignment: 64), bufferCapacity: 2048))
        }
    }

    deinit {
        for i in 0..<Self.capacity { slots[i].buffer.deallocate() }
        slots.deinitialize(count: Self.capacity)
        slots.deallocate()
    }

    /// Starts the reader thread; false if the system refused one (then read on the caller's thread).
    func start() -> Bool {
        let worker = WorkerThread(name: "zw-read") { [self] in read() }
        guard worker.start() else { return false }
        thread = worker
        return true
    }

    /// Waits for the reader to end (after the consumer has seen it finish, or a stop).
    func join() { thread?.join() }

    // MARK: The reader thread

    private func read() {
        var next = 0
        var backoff = Backoff()
        while true {
            if _slowPath(StopSignals.requested) { break }
            // Wait for a free slot.
            while next - released.load(ordering: .acquiring) >= Self.capacity {
                if StopSignals.requested { finish(at: next, nil); return }
                backoff.wait()
            }
            backoff.reset()
            let captured: NextPacket
            do throws(CaptureError) {
                captured = try handle.next()
            } catch {
                finish(at: next, error)
                return
            }
            guard case .packet(let packet) = captured else {
                if case .timeout = captured { continue }
                break
            }
            let slot = slots + (next & Self.mask)
            let length = packet.bytes.count
            if _slowPath(length > slot.pointee.bufferCapacity) {
                slot.pointee.buffer.deallocate()
                slot.pointee.bufferCapacity = max(length, slot.pointee.bufferCapacity * 2)
                slot.pointee.buffer = .allocate(byteCount: slot.pointee.bufferCapacity, alignment: 64)
            }
            if let base = packet.bytes.baseAddress, length > 0 { slot.pointee.buffer.copyMemory(from: base, byteCount: length) }
            slot.pointee.length = length
            slot.pointee.timestamp = packet.timestamp
            slot.pointee.capturedLength = packet.capturedLength
            slot.pointee.wireLength = packet.wireLength
            next += 1
            // Published in batches: one shared write per 32 packets, not per packet.
            if next & 31 == 0 { produced.store(next, ordering: .releasing) }
        }
        finish(at: next, nil)
    }

    private func finish(at count: Int, _ error: CaptureError?) {
        failure = error
        produced.store(count, ordering: .releasing)
        finished.store(true, ordering: .releasing)
    }

    // MARK: The analysis thread

    /// Calls `body` with every packet in order, then returns why reading
    /// stopped early (nil at the end of the file or on a stop signal).
    /// `body` returns how many of the packets it was given it still holds
    /// (a lookahead keeps the last few): their slots are kept until it is done.
    func forEach(_ body: (CapturedPacket) -> Int) -> CaptureError? {
        var taken = 0
        var backoff = Backoff()
        while true {
            let available = produced.load(ordering: .acquiring)
            if taken == available {
                if finished.load(ordering: .acquiring) && taken == produced.load(ordering: .acquiring) { break }
                backoff.wait()
                continue
            }
            backoff.reset()
            var held = 0
            while taken < available {
                held = body(slots[taken & Self.mask].packet)
                taken += 1
                if taken & 31 == 0 { released.store(taken - held, ordering: .releasing) }
            }
            released.store(taken - held, ordering: .releasing)
        }
        thread?.join()
        thread = nil
        return failure
    }

    /// Waiting that spins briefly, then yields, then sleeps up to a millisecond:
    /// a busy side is not slowed by the other's polling, an idle one costs little.
    private struct Backoff {
        private var rounds = 0
        mutating func reset() { rounds = 0 }
        mutating func wait() {
            rounds += 1
            if rounds < 64 { return }
            if rounds < 128 { sched_yield(); return }
            usleep(UInt32(min(1000, 20 << min(rounds - 128, 6))))
        }
    }
}
