import Synchronization
import CSupport
import Decode

/// Flow idle timeouts in seconds (`sensor.flow_timeouts` in the configuration;
/// these defaults are the only ones).
public struct FlowTimeouts: Sendable, Equatable {
    /// TCP flows that have not completed a handshake.
    public var tcpNew: Int = 30
    public var tcpEstablished: Int = 3600
    /// TCP flows after FIN or RST.
    public var tcpClosed: Int = 30
    public var udp: Int = 120
    public var icmp: Int = 30
    public var other: Int = 60

    public init() {}

    public init(tcpNew: Int, tcpEstablished: Int, tcpClosed: Int, udp: Int, icmp: Int, other: Int) {
        (self.tcpNew, self.tcpEstablished, self.tcpClosed, self.udp, self.icmp, self.other) = (tcpNew, tcpEstablished, tcpClosed, udp, icmp, other)
    }

    /// The timeout of each ``TimeoutClass``, in nanoseconds.
    var nanoseconds: [UInt64] {
        [tcpNew, tcpEstablished, tcpClosed, udp, icmp, other].map { UInt64($0) * 1_000_000_000 }
    }
}

/// Counters of a ``FlowTable``.
public struct FlowTableStatistics: Sendable, Equatable {
    public var created: UInt64 = 0
    public var expired: UInt64 = 0
    /// Flows dropped to make room because the table was full.
    public var evicted: UInt64 = 0
    /// Of those, flows an application inspection was following (a login in
    /// progress, an unfinished handshake): `flow.evicted_inspected`. Eviction
    /// spares them while any other candidate is at hand.
    public var evictedInspected: UInt64 = 0
    public var peak: Int = 0

    public init() {}
}

/// A packet's flow key with its hash (``FlowTable/prepare(_:)``).
public struct PreparedFlowKey {
    public var key: FlowKey
    public var senderIsA: Bool
    public var hash32: UInt32
    /// The other half of the key's hash: with several workers, which of them
    /// the flow belongs to (independent of the table slot `hash32` picks).
    public var high32: UInt32
}

/// Computes a packet's ``PreparedFlowKey`` with a table's hash seed; a value,
/// so that a thread other than the table's can compute keys ahead.
public struct FlowKeyPreparer: Sendable {
    let seed: UInt64

    /// The key of the flow `packet` belongs to and its hash; nil when the
    /// packet belongs to no flow.
    @inline(__always)
    public func prepare(_ packet: UnsafePointer<DecodedPacket>) -> PreparedFlowKey? {
        guard let (key, senderIsA) = FlowKey.make(packet) else { return nil }
        let hash = key.hash(seed: seed)
        return PreparedFlowKey(key: key, senderIsA: senderIsA, hash32: UInt32(truncatingIfNeeded: hash), high32: UInt32(truncatingIfNeeded: hash >> 32))
    }
}

/// The result of ``FlowTable/track(_:)`` for one packet.
public struct FlowUpdate {
    /// Index of the flow's record; valid until the next call that may remove flows.
    public var index: Int32
    public var isNew: Bool
    /// Whether the packet was sent by the flow's initiator.
    public var fromInitiator: Bool
    /// Whether this is the first packet the responder sent.
    public var isFirstReply: Bool
}

/// A bidirectional flow table with a fixed maximum size.
///
/// All memory is allocated up front: records in one block, an open-addressing
/// index (linear probing, backward-shift deletion) of twice the capacity, and a
/// free list. Tracking a packet allocates nothing.
///
/// Idle timeouts run on a timing wheel of one-second buckets: each flow waits
/// in the bucket of its deadline (last seen + its class's timeout). A packet
/// only updates `lastSeen`; when the wheel reaches a bucket, each flow in it
/// either has really been idle for its timeout and is removed, or has been seen
/// since and is filed under its new deadline. So a flow is touched about once
/// per timeout period, and expires within a second of its deadline. A change of
/// class (handshake done, FIN or RST seen) re-files the flow at once. A full
/// table evicts the least recently seen of the flows nearest their deadline.
///
/// Not thread-safe: one table per worker.
public final class FlowTable {
    public let capacity: Int
    public private(set) var count = 0
    public private(set) var statistics = FlowTableStatistics()
    public var timeouts: FlowTimeouts {
        didSet { for (c, v) in timeouts.nanoseconds.enumerated() { timeoutValues[c] = v } }
    }
    public let serverPorts: ServerPorts

    /// Called for each flow just before it is removed (expired or evicted).
    public var onRemove: ((_ index: Int32, borrowing FlowRecord, _ evicted: Bool) -> Void)?

    @usableFromInline let records: UnsafeMutablePointer<FlowRecord>
    // Cold per-flow data, indexed like `records`.
    private let ids: UnsafeMutablePointer<UInt64>
    private let firstSeenTimes: UnsafeMutablePointer<UInt64>
    /// The wheel second each flow is filed under.
    private let deadlines: UnsafeMutablePointer<UInt64>
    /// SYN sequence numbers: initiator's in the high half, responder's in the low half.
    private let synSequences: UnsafeMutablePointer<UInt64>
    /// Per flow slot: which of the two SYN sequences belongs to the flow in it
    /// (bit 0 the initiator's, bit 1 the responder's); cleared for each new flow,
    /// so that a slot's previous flow never lends its sequence numbers.
    private let synKnown: UnsafeMutablePointer<UInt8>
    @usableFromInline let slots: UnsafeMutablePointer<UInt64>  // hash32 << 32 | (index + 1); 0 = empty
    @usableFromInline let slotMask: Int
    private let freeList: UnsafeMutablePointer<Int32>
    private var freeCount = 0
    private var nextUnused: Int32 = 0
    private let timeoutValues: UnsafeMutablePointer<UInt64>
    private static let classCount = TimeoutClass.allCases.count
    private let seed: UInt64

    /// Timing wheel: bucket heads of intrusive lists through `previous`/`next`.
    private static let wheelSize = 4096
    private static let wheelMask = UInt64(wheelSize - 1)
    private let wheel: UnsafeMutablePointer<Int32>
    private let wheelTails: UnsafeMutablePointer<Int32>
    /// The last second the wheel has processed.
    private var wheelSecond: UInt64 = 0
    private var wheelStarted = false
    /// No flow is filed under a second before this one (where eviction looks first).
    private var earliestFiled: UInt64 = .max

    /// - Parameters:
    ///   - capacity: the most flows held at once.
    ///   - seed: hash seed; random by default so that crafted traffic cannot aim at one bucket.
    public init(capacity: Int, timeouts: FlowTimeouts = FlowTimeouts(), serverPorts: ServerPorts = ServerPorts(), seed: UInt64? = nil) {
        precondition(capacity > 0 && capacity < Int(Int32.max / 2))
        self.capacity = capacity
        self.timeouts = timeouts
        self.serverPorts = serverPorts
        self.seed = seed ?? UInt64.random(in: 1...UInt64.max)
        // 128-byte aligned: a record is exactly one pair of cache lines.
        records = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<FlowRecord>.stride * capacity, alignment: 128)
            .bindMemory(to: FlowRecord.self, capacity: capacity)
        ids = .allocate(capacity: capacity)
        firstSeenTimes = .allocate(capacity: capacity)
        deadlines = .allocate(capacity: capacity)
        synSequences = .allocate(capacity: capacity)
        synKnown = .allocate(capacity: capacity)
        synKnown.initialize(repeating: 0, count: capacity)
        var slotCount = 16
        while slotCount < capacity * 2 { slotCount <<= 1 }
        slots = .allocate(capacity: slotCount)
        slots.initialize(repeating: 0, count: slotCount)
        slotMask = slotCount - 1
        freeList = .allocate(capacity: capacity)
        timeoutValues = .allocate(capacity: Self.classCount)
        for (c, v) in timeouts.nanoseconds.enumerated() { timeoutValues[c] = v }
        wheel = .allocate(capacity: Self.wheelSize)
        wheel.initialize(repeating: -1, count: Self.wheelSize)
        wheelTails = .allocate(capacity: Self.wheelSize)
        wheelTails.initialize(repeating: -1, count: Self.wheelSize)
    }

    deinit {
        records.deallocate()
        ids.deallocate()
        firstSeenTimes.deallocate()
        deadlines.deallocate()
        synSequences.deallocate()
        synKnown.deallocate()
        slots.deallocate()
        freeList.deallocate()
        timeoutValues.deallocate()
        wheel.deallocate()
        wheelTails.deallocate()
    }

    /// The record at `index` (from a ``FlowUpdate``), for reading and updating in place.
    @inline(__always)
    public func record(_ index: Int32) -> UnsafeMutablePointer<FlowRecord> { records + Int(index) }

    /// The flow's id: increasing in creation order within a run (EVE `flow_id`).
    public func id(_ index: Int32) -> UInt64 { ids[Int(index)] }

    /// Every slot's flow id (``id(_:)``), for as long as the table lives: a
    /// reader that may need the id of a packet's flow keeps this and looks
    /// only when it does (the ids are a cold array: a load per packet missed the cache).
    public var idsBySlot: UnsafePointer<UInt64> { UnsafePointer(ids) }

    /// A flow's id (EVE `flow_id`): 51 bits derived from the flow itself, its
    /// canonical key (both directions, the tunnel and VLAN it is in) and the
    /// time of its first packet, as Suricata derives its own from the flow
    /// hash. The same flow gets the same id in every table, on every worker
    /// and across reloads; two flows share one with a chance of 2⁻⁵¹. Never 0.
    @inline(__always)
    public static func flowID(_ key: FlowKey, firstSeen: UInt64) -> UInt64 {
        @inline(__always) func mix(_ z: UInt64) -> UInt64 {  // SplitMix64's finaliser
            var z = z
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var h = mix(key.aHigh ^ 0x9E37_79B9_7F4A_7C15)
        h = mix(h ^ key.aLow)
        h = mix(h ^ key.bHigh)
        h = mix(h ^ key.bLow)
        h = mix(h ^ key.tuple)
        h = mix(h ^ key.vlanKey)
        h = mix(h ^ key.overlayKey)
        h = mix(h ^ firstSeen)
        let id = h & ((1 << 51) - 1)
        return id == 0 ? 1 : id
    }

    /// When the flow's first packet was seen (nanoseconds since the epoch).
    public func firstSeen(_ index: Int32) -> UInt64 { firstSeenTimes[Int(index)] }

    /// The sequence number of the SYN (initiator) or SYN-ACK (responder), if seen.
    ///
    /// Known only when this flow's own packet carried it: a flow first seen
    /// at its SYN-ACK (its SYN's flow expired, or the capture began between
    /// the two) has the responder's alone. The record's `synSeen` says a
    /// handshake was seen, not whose.
    public func synSequence(_ index: Int32, initiator: Bool) -> UInt32? {
        guard synKnown[Int(index)] & (initiator ? 1 : 2) != 0 else { return nil }
        let both = synSequences[Int(index)]
        return UInt32(truncatingIfNeeded: initiator ? both >> 32 : both)
    }

    private func recordSYN(_ index: Int32, initiator: Bool, sequence: UInt32) {
        let both = synSequences[Int(index)]
        synSequences[Int(index)] = initiator
            ? (UInt64(sequence) << 32 | (both & 0xFFFF_FFFF))
            : ((both & 0xFFFF_FFFF_0000_0000) | UInt64(sequence))
        synKnown[Int(index)] |= initiator ? 1 : 2
    }

    // MARK: Lookahead

    /// The key of the flow `packet` belongs to and its hash, computed once for
    /// a lookahead's prefetches and the lookup (``track(_:_:)``); nil when the
    /// packet belongs to no flow.
    @inline(__always)
    public func prepare(_ packet: UnsafePointer<DecodedPacket>) -> PreparedFlowKey? {
        keyPreparer.prepare(packet)
    }

    /// What ``prepare(_:)`` computes, as a value another thread may use (a
    /// reader thread that decodes ahead of the analysis).
    public var keyPreparer: FlowKeyPreparer { FlowKeyPreparer(seed: seed) }

    /// The seed of the flows' hash (a table made with it files keys ``keyPreparer`` made alike).
    public var hashSeed: UInt64 { seed }

    /// Starts loading the index slot where a flow with this hash is looked up
    /// (step one of a lookahead; the lookup itself comes packets later).
    @inline(__always)
    public func prefetchSlot(_ hash32: UInt32) {
        zw_prefetch_for_write(slots + (Int(hash32) & slotMask))
    }

    /// Starts loading the record of the flow with this hash, reading its index
    /// slot (loaded by ``prefetchSlot(_:)`` before). Only a hint: the flow may
    /// be gone or not yet exist when the packet is tracked.
    @inline(__always)
    public func prefetchRecord(_ hash32: UInt32) {
        var slot = Int(hash32) & slotMask
        for _ in 0..<4 {
            let entry = slots[slot]
            if entry == 0 { return }
            if UInt32(truncatingIfNeeded: entry >> 32) == hash32 {
                let record = UnsafeRawPointer(records + (Int(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1))
                zw_prefetch_for_write(record)
                zw_prefetch_for_write(record + 64)
                return
            }
            slot = (slot &+ 1) & slotMask
        }
    }

    /// As ``track(_:)-(UnsafePointer<DecodedPacket>)`` for a packet value (tests, tools).
    public func track(_ packet: DecodedPacket) -> FlowUpdate? {
        withUnsafePointer(to: packet) { track($0) }
    }

    /// Finds or creates the flow of `p`, updates its counters and state. `nil`
    /// when the packet belongs to no flow (``FlowKey/make(_:)``).
    @inline(__always)
    public func track(_ packet: UnsafePointer<DecodedPacket>) -> FlowUpdate? {
        guard let prepared = prepare(packet) else { return nil }
        return track(packet, prepared)
    }

    /// As ``track(_:)-(UnsafePointer<DecodedPacket>)`` with the packet's key
    /// already computed by ``prepare(_:)``.
    @inline(__always)
    public func track(_ packet: UnsafePointer<DecodedPacket>, _ prepared: PreparedFlowKey) -> FlowUpdate {
        let key = prepared.key, senderIsA = prepared.senderIsA
        // The low 32 bits of the hash pick the home slot and are kept in the slot,
        // so probing and deletion never read a record to learn an entry's home.
        let hash32 = prepared.hash32
        var slot = Int(hash32) & slotMask
        while true {
            let entry = slots[slot]
            if entry == 0 { break }
            if UInt32(truncatingIfNeeded: entry >> 32) == hash32 {
                let index = Int32(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1
                let r = records + Int(index)
                if r.pointee.key == key {
                    // Idle past its timeout, the flow is over whenever the wheel would get
                    // to it (the clock may have jumped): this packet starts a new one.
                    if _slowPath(r.pointee.lastSeen &+ timeoutValues[Int(r.pointee.timeoutClass)] < packet.pointee.timestamp) {
                        remove(index, evicted: false, filed: true)
                        break
                    }
                    let fromInitiator = senderIsA == r.pointee.initiatorIsA
                    let firstReply = update(r, index: index, packet, fromInitiator: fromInitiator)
                    return FlowUpdate(index: index, isNew: false, fromInitiator: fromInitiator, isFirstReply: firstReply)
                }
            }
            slot = (slot &+ 1) & slotMask
        }
        return create(key, hash32: hash32, senderIsA: senderIsA, packet.pointee)
    }

    @inline(__always)
    private func update(_ r: UnsafeMutablePointer<FlowRecord>, index: Int32, _ p: UnsafePointer<DecodedPacket>, fromInitiator: Bool) -> Bool {
        r.pointee.lastSeen = p.pointee.timestamp
        let bytes = UInt64(p.pointee.wireLength)
        var firstReply = false
        if fromInitiator {
            r.pointee.packetsFromInitiator &+= 1
            r.pointee.bytesFromInitiator &+= bytes
        } else {
            if r.pointee.packetsFromResponder == 0 {
                firstReply = true
                r.pointee.state |= FlowState.replySeen
            }
            r.pointee.packetsFromResponder &+= 1
            r.pointee.bytesFromResponder &+= bytes
        }
        if p.pointee.ipProtocol == .tcp && p.pointee.hasTransport {
            let flags = p.pointee.tcpFlags
            var newClass = Int(r.pointee.timeoutClass)
            if flags & (TCPFlags.fin | TCPFlags.rst) != 0 {
                r.pointee.state |= flags & TCPFlags.rst != 0 ? FlowState.rstSeen : FlowState.finSeen
                newClass = TimeoutClass.tcpClosed.rawValue
            } else if newClass == TimeoutClass.tcpNew.rawValue && !fromInitiator {
                if flags & TCPFlags.syn != 0 {
                    r.pointee.state |= FlowState.synAckSeen
                    recordSYN(index, initiator: false, sequence: p.pointee.tcpSequence)
                }
                newClass = TimeoutClass.tcpEstablished.rawValue
            }
            if _slowPath(newClass != Int(r.pointee.timeoutClass)) {
                unfile(index)
                r.pointee.timeoutClass = UInt8(newClass)
                file(index)
            }
        }
        return firstReply
    }

    private func create(_ key: FlowKey, hash32: UInt32, senderIsA: Bool, _ p: DecodedPacket) -> FlowUpdate {
        if count >= capacity { evictOne() }
        let index: Int32
        if freeCount > 0 {
            freeCount -= 1
            index = freeList[freeCount]
        } else {
            index = nextUnused
            nextUnused += 1
        }
        // Who started it: the SYN's sender; a SYN-ACK's receiver; else the first
        // sender, unless only the receiver's port looks like a client's.
        var senderIsInitiator = true
        var state: UInt16 = 0
        var timeoutClass = TimeoutClass.other
        let proto = p.ipProtocol
        if key.isEthernet {
            timeoutClass = .other
        } else if proto == .tcp && p.hasTransport {
            let flags = p.tcpFlags
            if flags & TCPFlags.syn != 0 {
                state |= FlowState.synSeen
                if flags & TCPFlags.ack != 0 {
                    senderIsInitiator = false
                    state |= FlowState.synAckSeen
                }
                timeoutClass = .tcpNew
            } else {
                state |= FlowState.midstream
                senderIsInitiator = !looksLikeReply(p)
                if !senderIsInitiator { state |= FlowState.directionGuessed }
                // Without a handshake, a flow counts as established only once both
                // sides have spoken: a flood of one-way segments (spoofed ACKs)
                // expires, and is evicted, like a SYN flood.
                timeoutClass = flags & (TCPFlags.fin | TCPFlags.rst) != 0 ? .tcpClosed : .tcpNew
            }
        } else if proto == .udp {
            senderIsInitiator = !looksLikeReply(p)
            if !senderIsInitiator { state |= FlowState.directionGuessed }
            timeoutClass = .udp
        } else if proto == .icmp || proto == .icmpv6 {
            senderIsInitiator = !(p.hasTransport && ICMPPorts.isReply(type: p.icmpType, v6: proto == .icmpv6))
            timeoutClass = .icmp
        }
        if !senderIsInitiator { state |= FlowState.replySeen }
        let bytes = UInt64(p.wireLength)
        (records + Int(index)).initialize(to: FlowRecord(
            key: key, lastSeen: p.timestamp,
            packetsFromInitiator: senderIsInitiator ? 1 : 0, packetsFromResponder: senderIsInitiator ? 0 : 1,
            bytesFromInitiator: senderIsInitiator ? bytes : 0, bytesFromResponder: senderIsInitiator ? 0 : bytes,
            firedRules: 0, hashValue32: hash32, previous: -1, next: -1, state: state,
            sourceZone: 0, destinationZone: 0, segmentZone: 0,
            initiatorIsA: senderIsInitiator == senderIsA, timeoutClass: UInt8(timeoutClass.rawValue), appProtocol: 0))
        ids[Int(index)] = Self.flowID(key, firstSeen: p.timestamp)
        firstSeenTimes[Int(index)] = p.timestamp
        synKnown[Int(index)] = 0
        if state & FlowState.synSeen != 0 { recordSYN(index, initiator: senderIsInitiator, sequence: p.tcpSequence) }
        insertSlot(index: index, hash32: hash32)
        if !wheelStarted {
            wheelStarted = true
            wheelSecond = p.timestamp / 1_000_000_000
        }
        file(index)
        count += 1
        statistics.created &+= 1
        if count > statistics.peak { statistics.peak = count }
        return FlowUpdate(index: index, isNew: true, fromInitiator: senderIsInitiator, isFirstReply: !senderIsInitiator)
    }

    /// Whether the sender's port looks like a server's and the receiver's does
    /// not (an RPC call is a client's whatever its port).
    @inline(__always)
    private func looksLikeReply(_ p: DecodedPacket) -> Bool {
        guard p.hasTransport, !p.isRPCCall else { return false }
        let proto = p.ipProtocol.rawValue
        return serverPorts.contains(proto, p.sourcePort) && !serverPorts.contains(proto, p.destinationPort)
    }

    // MARK: Timeouts

    /// Removes flows whose idle timeout has passed at packet time `now`. Call it
    /// as packet time advances (the pipeline does once per second).
    public func expire(now: UInt64) {
        let target = now / 1_000_000_000
        guard wheelStarted, target > wheelSecond else { return }
        if target - wheelSecond >= UInt64(Self.wheelSize) {
            // A gap longer than the wheel: visit every bucket once.
            for b in 0..<Self.wheelSize { visit(bucket: b, now: now) }
        } else {
            var second = wheelSecond + 1
            while second <= target {
                visit(bucket: Int(second & Self.wheelMask), now: now)
                second += 1
            }
        }
        wheelSecond = target
    }

    /// Takes a bucket's list and removes or re-files each flow in it.
    private func visit(bucket: Int, now: UInt64) {
        var index = wheel[bucket]
        wheel[bucket] = -1
        wheelTails[bucket] = -1
        while index >= 0 {
            let r = records + Int(index)
            let next = r.pointee.next
            r.pointee.previous = -1
            r.pointee.next = -1
            if r.pointee.lastSeen &+ timeoutValues[Int(r.pointee.timeoutClass)] < now {
                remove(index, evicted: false, filed: false)
            } else {
                file(index)
            }
            index = next
        }
    }

    /// Files a flow under the second after its deadline (at least the next second,
    /// at most one wheel turn ahead; a flow filed early is simply re-filed).
    private func file(_ index: Int32) {
        let r = records + Int(index)
        let deadline = (r.pointee.lastSeen &+ timeoutValues[Int(r.pointee.timeoutClass)]) / 1_000_000_000 + 1
        let second = min(max(deadline, wheelSecond + 1), wheelSecond + UInt64(Self.wheelSize) - 1)
        deadlines[Int(index)] = second
        if second < earliestFiled { earliestFiled = second }
        let bucket = Int(second & Self.wheelMask)
        let head = wheel[bucket]
        r.pointee.previous = -1
        r.pointee.next = head
        if head >= 0 { records[Int(head)].previous = index } else { wheelTails[bucket] = index }
        wheel[bucket] = index
    }

    private func unfile(_ index: Int32) {
        let r = records + Int(index)
        let previous = r.pointee.previous, next = r.pointee.next
        let bucket = Int(deadlines[Int(index)] & Self.wheelMask)
        if previous >= 0 { records[Int(previous)].next = next } else { wheel[bucket] = next }
        if next >= 0 { records[Int(next)].previous = previous } else { wheelTails[bucket] = previous }
        r.pointee.previous = -1
        r.pointee.next = -1
    }

    /// Calls `body` with every flow in the table (not on the packet path: a
    /// report's snapshot walks the timing wheel).
    public func forEachFlow(_ body: (borrowing FlowRecord) -> Void) {
        for b in 0..<Self.wheelSize {
            var index = wheel[b]
            while index >= 0 {
                body(records[Int(index)])
                index = records[Int(index)].next
            }
        }
    }

    /// Calls `body` with every flow in the table (a new configuration re-judges them).
    public func forEachRecord(_ body: (UnsafeMutablePointer<FlowRecord>) -> Void) {
        for b in 0..<Self.wheelSize {
            var index = wheel[b]
            while index >= 0 {
                let r = records + Int(index)
                index = r.pointee.next
                body(r)
            }
        }
    }

    /// Removes every flow (end of a capture, a table replaced), reporting
    /// each to ``onRemove`` in the order the timing wheel holds them.
    public func removeAll() {
        guard count > 0 else { return }
        for b in 0..<Self.wheelSize {
            var index = wheel[b]
            while index >= 0 {
                let r = records + Int(index)
                onRemove?(index, r.pointee, false)
                statistics.expired &+= 1
                freeList[freeCount] = index
                freeCount += 1
                index = r.pointee.next
                r.pointee.previous = -1
                r.pointee.next = -1
                count -= 1
            }
            wheel[b] = -1
            wheelTails[b] = -1
        }
        // The whole index goes: cleared in one pass, not one deletion (and its cache misses) per flow.
        slots.update(repeating: 0, count: slotMask + 1)
    }

    /// Evicts one flow to make room: of the flows filed longest ago in the
    /// earliest non-empty bucket, the least recently seen that no inspection
    /// is following (one that is, only when all candidates are).
    private func evictOne() {
        var second = max(earliestFiled, wheelSecond + 1)
        let last = wheelSecond + UInt64(Self.wheelSize)
        while second < last && wheel[Int(second & Self.wheelMask)] < 0 { second += 1 }
        earliestFiled = second
        var candidate = wheelTails[Int(second & Self.wheelMask)]
        guard candidate >= 0 else { return }
        var victim = candidate
        var oldest = UInt64.max
        var victimInspected = true
        for _ in 0..<16 where candidate >= 0 {
            let r = records[Int(candidate)]
            let inspected = r.state & FlowState.inspecting != 0
            // A flow without inspection state beats any that has one; then the least recently seen.
            if (victimInspected && !inspected) || (inspected == victimInspected && r.lastSeen < oldest) {
                oldest = r.lastSeen
                victim = candidate
                victimInspected = inspected
            }
            candidate = r.previous
        }
        if victimInspected { statistics.evictedInspected &+= 1 }
        remove(victim, evicted: true, filed: true)
    }

    private func remove(_ index: Int32, evicted: Bool, filed: Bool) {
        let r = records + Int(index)
        onRemove?(index, r.pointee, evicted)
        if evicted { statistics.evicted &+= 1 } else { statistics.expired &+= 1 }
        if filed { unfile(index) }
        removeSlot(index: index, hash32: r.pointee.hashValue32)
        freeList[freeCount] = index
        freeCount += 1
        count -= 1
    }

    // MARK: Index

    private func insertSlot(index: Int32, hash32: UInt32) {
        var slot = Int(hash32) & slotMask
        while slots[slot] != 0 { slot = (slot &+ 1) & slotMask }
        slots[slot] = UInt64(hash32) << 32 | UInt64(UInt32(index + 1))
    }

    private func removeSlot(index: Int32, hash32: UInt32) {
        let wanted = UInt64(hash32) << 32 | UInt64(UInt32(index + 1))
        var slot = Int(hash32) & slotMask
        while slots[slot] != wanted { slot = (slot &+ 1) & slotMask }
        // Backward-shift deletion keeps every probe chain unbroken without tombstones.
        var hole = slot
        var next = (hole + 1) & slotMask
        while slots[next] != 0 {
            let entry = slots[next]
            let home = Int(truncatingIfNeeded: entry >> 32) & slotMask
            // Move the entry into the hole unless its home lies cyclically in (hole, next].
            if (next - home) & slotMask >= (next - hole) & slotMask {
                slots[hole] = entry
                hole = next
            }
            next = (next + 1) & slotMask
        }
        slots[hole] = 0
    }
}
