import Decode

/// Idle timeouts per ``TimeoutClass``, in nanoseconds.
public struct FlowTimeoutsNanos: Sendable {
    public var values: [UInt64]

    public init(tcpNew: Int, tcpEstablished: Int, tcpClosed: Int, udp: Int, icmp: Int, other: Int) {
        values = [tcpNew, tcpEstablished, tcpClosed, udp, icmp, other].map { UInt64($0) * 1_000_000_000 }
    }

    public static let standard = FlowTimeoutsNanos(tcpNew: 30, tcpEstablished: 3600, tcpClosed: 30, udp: 120, icmp: 30, other: 60)
}

/// Counters of a ``FlowTable``.
public struct FlowTableStatistics: Sendable, Equatable {
    public var created: UInt64 = 0
    public var expired: UInt64 = 0
    /// Flows dropped to make room because the table was full.
    public var evicted: UInt64 = 0
    public var peak: Int = 0
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
/// free list. Each timeout class keeps its flows in an intrusive LRU list, so
/// expiry inspects only list tails, and when the table is full the least
/// recently seen flow is evicted. Tracking a packet allocates nothing.
///
/// Not thread-safe: one table per worker.
public final class FlowTable {
    public let capacity: Int
    public private(set) var count = 0
    public private(set) var statistics = FlowTableStatistics()
    public var timeouts: FlowTimeoutsNanos
    public let serverPorts: ServerPorts

    /// Called for each flow just before it is removed (expired or evicted).
    public var onRemove: ((borrowing FlowRecord, _ evicted: Bool) -> Void)?

    @usableFromInline let records: UnsafeMutablePointer<FlowRecord>
    @usableFromInline let slots: UnsafeMutablePointer<UInt64>  // hash32 << 32 | (index + 1); 0 = empty
    @usableFromInline let slotMask: Int
    private let freeList: UnsafeMutablePointer<Int32>
    private var freeCount = 0
    private var nextUnused: Int32 = 0
    private var heads = [Int32](repeating: -1, count: TimeoutClass.allCases.count)
    private var tails = [Int32](repeating: -1, count: TimeoutClass.allCases.count)
    private let seed: UInt64
    private var nextID: UInt64 = 1

    /// - Parameters:
    ///   - capacity: the most flows held at once.
    ///   - seed: hash seed; random by default so that crafted traffic cannot aim at one bucket.
    public init(capacity: Int, timeouts: FlowTimeoutsNanos = .standard, serverPorts: ServerPorts = ServerPorts(), seed: UInt64? = nil) {
        precondition(capacity > 0 && capacity < Int(Int32.max / 2))
        self.capacity = capacity
        self.timeouts = timeouts
        self.serverPorts = serverPorts
        self.seed = seed ?? UInt64.random(in: 1...UInt64.max)
        records = .allocate(capacity: capacity)
        var slotCount = 16
        while slotCount < capacity * 2 { slotCount <<= 1 }
        slots = .allocate(capacity: slotCount)
        slots.initialize(repeating: 0, count: slotCount)
        slotMask = slotCount - 1
        freeList = .allocate(capacity: capacity)
    }

    deinit {
        records.deallocate()
        slots.deallocate()
        freeList.deallocate()
    }

    /// The record at `index` (from a ``FlowUpdate``), for reading and updating in place.
    @inline(__always)
    public func record(_ index: Int32) -> UnsafeMutablePointer<FlowRecord> { records + Int(index) }

    /// Finds or creates the flow of `p`, updates its counters, state and timeout
    /// list. `nil` when the packet belongs to no flow (``FlowKey/make(_:)``).
    @inline(__always)
    public func track(_ p: DecodedPacket) -> FlowUpdate? {
        guard let (key, senderIsA) = FlowKey.make(p) else { return nil }
        let hash = key.hash(seed: seed)
        // The low 32 bits pick the home slot and are kept in the slot, so probing
        // and deletion never read a record to learn an entry's home.
        let hash32 = UInt32(truncatingIfNeeded: hash)
        var slot = Int(hash32) & slotMask
        while true {
            let entry = slots[slot]
            if entry == 0 { break }
            if UInt32(truncatingIfNeeded: entry >> 32) == hash32 {
                let index = Int32(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1
                let r = records + Int(index)
                if r.pointee.key == key {
                    let fromInitiator = senderIsA == r.pointee.initiatorIsA
                    let firstReply = update(r, index: index, p, fromInitiator: fromInitiator)
                    return FlowUpdate(index: index, isNew: false, fromInitiator: fromInitiator, isFirstReply: firstReply)
                }
            }
            slot = (slot &+ 1) & slotMask
        }
        return create(key, hash32: hash32, senderIsA: senderIsA, p)
    }

    @inline(__always)
    private func update(_ r: UnsafeMutablePointer<FlowRecord>, index: Int32, _ p: DecodedPacket, fromInitiator: Bool) -> Bool {
        r.pointee.lastSeen = p.timestamp
        let bytes = UInt64(p.wireLength)
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
        var newClass = Int(r.pointee.timeoutClass)
        if p.ipProtocol.rawValue == 6 && p.hasTransport {
            let flags = p.tcpFlags
            if flags & (TCPFlags.fin | TCPFlags.rst) != 0 {
                r.pointee.state |= flags & TCPFlags.rst != 0 ? FlowState.rstSeen : FlowState.finSeen
                newClass = TimeoutClass.tcpClosed.rawValue
            } else if newClass == TimeoutClass.tcpNew.rawValue && !fromInitiator {
                if flags & TCPFlags.syn != 0 { r.pointee.state |= FlowState.synAckSeen }
                newClass = TimeoutClass.tcpEstablished.rawValue
            }
        }
        touch(index, from: Int(r.pointee.timeoutClass), to: newClass)
        r.pointee.timeoutClass = UInt8(newClass)
        return firstReply
    }

    private func create(_ key: FlowKey, hash32: UInt32, senderIsA: Bool, _ p: DecodedPacket) -> FlowUpdate {
        if count >= capacity { evictOldest() }
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
        let proto = p.ipProtocol.rawValue
        if key.isEthernet {
            timeoutClass = .other
        } else if proto == 6 && p.hasTransport {
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
                timeoutClass = flags & (TCPFlags.fin | TCPFlags.rst) != 0 ? .tcpClosed : .tcpEstablished
            }
        } else if proto == 17 {
            senderIsInitiator = !looksLikeReply(p)
            if !senderIsInitiator { state |= FlowState.directionGuessed }
            timeoutClass = .udp
        } else if proto == 1 || proto == 58 {
            senderIsInitiator = !(p.hasTransport && ICMPPorts.isReply(type: p.icmpType, v6: proto == 58))
            timeoutClass = .icmp
        }
        if !senderIsInitiator { state |= FlowState.replySeen }
        let bytes = UInt64(p.wireLength)
        (records + Int(index)).initialize(to: FlowRecord(
            key: key, id: nextID, initiatorIsA: senderIsInitiator == senderIsA,
            firstSeen: p.timestamp, lastSeen: p.timestamp,
            packetsFromInitiator: senderIsInitiator ? 1 : 0, packetsFromResponder: senderIsInitiator ? 0 : 1,
            bytesFromInitiator: senderIsInitiator ? bytes : 0, bytesFromResponder: senderIsInitiator ? 0 : bytes,
            state: state, sourceZone: 0, destinationZone: 0, segmentZone: 0, firedRules: 0, appProtocol: 0,
            hashValue32: hash32, previous: -1, next: -1, timeoutClass: UInt8(timeoutClass.rawValue)))
        nextID &+= 1
        insertSlot(index: index, hash32: hash32)
        linkAtHead(index, timeoutClass.rawValue)
        count += 1
        statistics.created &+= 1
        if count > statistics.peak { statistics.peak = count }
        return FlowUpdate(index: index, isNew: true, fromInitiator: senderIsInitiator, isFirstReply: !senderIsInitiator)
    }

    /// Whether the sender's port looks like a server's and the receiver's does not.
    @inline(__always)
    private func looksLikeReply(_ p: DecodedPacket) -> Bool {
        guard p.hasTransport else { return false }
        let proto = p.ipProtocol.rawValue
        return serverPorts.contains(proto, p.sourcePort) && !serverPorts.contains(proto, p.destinationPort)
    }

    /// Removes flows whose idle timeout has passed at packet time `now`.
    public func expire(now: UInt64) {
        for c in 0..<TimeoutClass.allCases.count {
            let timeout = timeouts.values[c]
            while tails[c] >= 0 {
                let index = tails[c]
                let r = records + Int(index)
                guard r.pointee.lastSeen &+ timeout < now else { break }
                remove(index, evicted: false)
            }
        }
    }

    /// Removes every flow (end of a capture), reporting each to ``onRemove``.
    public func removeAll() {
        for c in 0..<TimeoutClass.allCases.count {
            while tails[c] >= 0 { remove(tails[c], evicted: false) }
        }
    }

    private func evictOldest() {
        var oldest: Int32 = -1
        var oldestTime = UInt64.max
        for c in 0..<TimeoutClass.allCases.count where tails[c] >= 0 {
            let t = records[Int(tails[c])].lastSeen
            if t < oldestTime {
                oldestTime = t
                oldest = tails[c]
            }
        }
        if oldest >= 0 { remove(oldest, evicted: true) }
    }

    private func remove(_ index: Int32, evicted: Bool) {
        let r = records + Int(index)
        onRemove?(r.pointee, evicted)
        if evicted { statistics.evicted &+= 1 } else { statistics.expired &+= 1 }
        unlink(index, Int(r.pointee.timeoutClass))
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

    // MARK: LRU lists

    @inline(__always)
    private func touch(_ index: Int32, from oldClass: Int, to newClass: Int) {
        if oldClass == newClass && heads[newClass] == index { return }
        unlink(index, oldClass)
        linkAtHead(index, newClass)
    }

    @inline(__always)
    private func linkAtHead(_ index: Int32, _ c: Int) {
        let r = records + Int(index)
        r.pointee.previous = -1
        r.pointee.next = heads[c]
        if heads[c] >= 0 { records[Int(heads[c])].previous = index } else { tails[c] = index }
        heads[c] = index
    }

    @inline(__always)
    private func unlink(_ index: Int32, _ c: Int) {
        let r = records + Int(index)
        let prev = r.pointee.previous, next = r.pointee.next
        if prev >= 0 { records[Int(prev)].next = next } else { heads[c] = next }
        if next >= 0 { records[Int(next)].previous = prev } else { tails[c] = prev }
    }
}
