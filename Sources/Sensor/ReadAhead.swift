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
/// are the only state both threads write; a slot belongs to the reader from
/// its release until it is produced again. Counters are published per 32
/// packets. A side that finds nothing to do spins briefly, then sleeps on a
/// condition variable until the other side has made room for a half ring
/// (the reader) or published packets (the analysis): a handful of wake-ups
/// per thousand packets, and none lost.
final class ReadAhead: @unchecked Sendable {
    /// Slots in the ring (a power of two): enough to ride out either side's hiccups.
    static let capacity = 2048
    private static let mask = capacity - 1

    struct Slot {
        var copy = PacketCopy()
        var timestamp: UInt64 = 0
        var capturedLength = 0
        var wireLength = 0

        /// The packet in the slot, valid until the slot is released.
        var packet: CapturedPacket {
            CapturedPacket(timestamp: timestamp, capturedLength: capturedLength, wireLength: wireLength, bytes: copy.bytes)
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
    /// A side about to sleep says so; the other wakes it after its next step.
    private let readerWaiting = Atomic<Bool>(false)
    private let consumerWaiting = Atomic<Bool>(false)
    private let sleep = ConditionLock()
    /// Why reading stopped early (written before `finished`, read after).
    private var failure: CaptureError?
    private var thread: WorkerThread?

    init(handle: PcapHandle) {
        self.handle = handle
        slots = .allocate(capacity: Self.capacity)
        for i in 0..<Self.capacity {
            (slots + i).initialize(to: Slot())
        }
    }

    deinit {
        for i in 0..<Self.capacity { slots[i].copy.release() }
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

    // MARK: The reader thread

    private func read() {
        var next = 0
        while true {
            if _slowPath(StopSignals.requested) { break }
            // Wait for a free slot.
            if next - released.load(ordering: .acquiring) >= Self.capacity {
                // The ring is full: publish what is read, then wait for the analysis.
                publish(next)
                var spins = 0
                while next - released.load(ordering: .acquiring) >= Self.capacity {
                    if StopSignals.requested { finish(at: next, nil); return }
                    spins += 1
                    if spins < 256 { continue }
                    // Asleep until half the ring is free: one wake-up per half ring, not per batch.
                    wait(readerWaiting) { next - self.released.load(ordering: .sequentiallyConsistent) > Self.capacity / 2 }
                }
            }
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
            slot.pointee.copy.store(packet.bytes)
            slot.pointee.timestamp = packet.timestamp
            slot.pointee.capturedLength = packet.capturedLength
            slot.pointee.wireLength = packet.wireLength
            next += 1
            // Published in batches: one shared write per 32 packets, not per packet.
            if next & 31 == 0 { publish(next) }
        }
        finish(at: next, nil)
    }

    private func publish(_ count: Int) {
        produced.store(count, ordering: .sequentiallyConsistent)
        if consumerWaiting.load(ordering: .sequentiallyConsistent) { wake() }
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
    func forEach(_ body: (CapturedPacket) -> Int) -> CaptureError? {
        var taken = 0
        while true {
            let available = available(after: taken)
            if available == taken { break }
            var held = 0
            while taken < available {
                held = body(slots[taken & Self.mask].packet)
                taken += 1
                if taken & 31 == 0 { release(upTo: taken - held) }
            }
            release(upTo: taken - held)
        }
        thread?.join()
        thread = nil
        return failure
    }

    /// Waits until packets after the first `taken` are in the ring; returns how
    /// many have been read in all (`taken` once the reader has stopped).
    private func available(after taken: Int) -> Int {
        var spins = 0
        while true {
            let produced = produced.load(ordering: .acquiring)
            if produced > taken { return produced }
            if finished.load(ordering: .acquiring) { return self.produced.load(ordering: .acquiring) }
            spins += 1
            if spins < 256 { continue }
            wait(consumerWaiting) {
                self.produced.load(ordering: .sequentiallyConsistent) <= taken && !self.finished.load(ordering: .sequentiallyConsistent)
            }
        }
    }

    /// The analysis is done with the first `n` packets: their slots are free.
    @inline(__always)
    private func release(upTo n: Int) {
        released.store(n, ordering: .sequentiallyConsistent)
        if readerWaiting.load(ordering: .sequentiallyConsistent) && produced.load(ordering: .sequentiallyConsistent) - n <= Self.capacity / 2 {
            wake()
        }
    }
}
