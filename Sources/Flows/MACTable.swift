import Decode
import Vocabulary

/// The zones each MAC address has sent from, for the multi-homed-host rule:
/// a fixed-size, 4-way set-associative table that never grows. A MAC is placed
/// in one bucket of four slots by its hash; when the bucket is full, the least
/// recently seen of the four is forgotten. Memory is `capacity` × 128 bytes
/// (a 16-byte slot and a 112-byte entry), allocated once, whatever the number of MACs on the wire.
///
/// Not thread-safe.
public final class MACTable {
    /// What is known of one MAC: up to ``zoneSlots`` zones with the address or
    /// VLAN that placed it in each.
    public struct Entry {
        public var mac: MACAddress
        public var zones: InlineArray<4, UInt16>
        /// The segment of the frame that first placed the MAC in each zone
        /// (``segmentCode(_:)``).
        public var segments: InlineArray<4, UInt32>
        /// The source address (or zero) of that frame.
        public var addresses: InlineArray<4, IPAddress>
        public var zoneCount: UInt8
        /// Role pairs already reported, as a bit set the rule manages.
        public var reported: UInt64

        init(mac: MACAddress) {
            self.mac = mac
            zones = InlineArray(repeating: 0)
            segments = InlineArray(repeating: 0)
            addresses = InlineArray(repeating: .zero)
            zoneCount = 0
            reported = 0
        }
    }

    public static let zoneSlots = 4
    static let ways = 4

    /// A bucket's MACs and when each was last seen, 4 × 16 bytes: one cache
    /// line per lookup; the entry itself is read only on a hit.
    struct Slot {
        /// The MAC with bit 63 set, or 0 for an empty slot.
        var key: UInt64
        var lastSeen: UInt64
    }

    private let slots: UnsafeMutablePointer<Slot>
    private let entries: UnsafeMutablePointer<Entry>
    private let bucketMask: Int
    /// Slots in the table (a power of two, at least the capacity asked for).
    public let capacity: Int
    /// MACs forgotten to make room.
    public private(set) var evictions: UInt64 = 0
    /// MACs in the table.
    public private(set) var count = 0

    public init(capacity requested: Int) {
        var buckets = 1
        while buckets * Self.ways < max(requested, Self.ways) { buckets <<= 1 }
        capacity = buckets * Self.ways
        bucketMask = buckets - 1
        let raw = UnsafeMutableRawPointer.allocate(byteCount: capacity * MemoryLayout<Slot>.stride, alignment: 64)
        slots = raw.bindMemory(to: Slot.self, capacity: capacity)
        slots.initialize(repeating: Slot(key: 0, lastSeen: 0), count: capacity)
        entries = .allocate(capacity: capacity)
    }

    deinit {
        // Entries hold plain values only: nothing to deinitialise.
        UnsafeMutableRawPointer(slots).deallocate()
        entries.deallocate()
    }

    /// The entry of `mac`, created (possibly in place of the least recently seen
    /// MAC of its bucket) if it is new; its last-seen time is set to `now`.
    public func entry(_ mac: MACAddress, now: UInt64) -> UnsafeMutablePointer<Entry> {
        let key = mac.rawValue | 1 << 63
        var h = mac.rawValue &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 29
        let base = (Int(truncatingIfNeeded: h) & bucketMask) * Self.ways
        var victim = base
        for i in base..<(base + Self.ways) {
            let slot = slots[i]
            if slot.key == key {
                slots[i].lastSeen = now
                return entries + i
            }
            if slot.key == 0 {
                slots[i] = Slot(key: key, lastSeen: now)
                (entries + i).initialize(to: Entry(mac: mac))
                count += 1
                return entries + i
            }
            if slot.lastSeen < slots[victim].lastSeen { victim = i }
        }
        evictions &+= 1
        slots[victim] = Slot(key: key, lastSeen: now)
        entries[victim] = Entry(mac: mac)
        return entries + victim
    }

    /// A segment in 32 bits: a VLAN id, or a VNI with the top bit set (0: untagged).
    public static func segmentCode(_ s: Segment) -> UInt32 {
        s.vlan != 0 ? UInt32(s.vlan) : (s.hasVNI ? 1 << 31 | s.vni : 0)
    }

    /// `VLAN 100`, `VNI 5000` or nil for untagged, from ``segmentCode(_:)``.
    public static func segmentText(_ code: UInt32) -> String? {
        code == 0 ? nil : (code & 1 << 31 != 0 ? "VNI \(code & 0xFF_FFFF)" : "VLAN \(code)")
    }

    /// Adds `zone` to the MAC's zones with the frame that showed it; returns
    /// false if it was known (or there is no slot left for it).
    @discardableResult
    public static func add(_ zone: UInt16, segment: Segment, address: IPAddress, to e: UnsafeMutablePointer<Entry>) -> Bool {
        let n = Int(e.pointee.zoneCount)
        for i in 0..<n where e.pointee.zones[i] == zone { return false }
        guard n < zoneSlots else { return false }
        e.pointee.zones[n] = zone
        e.pointee.segments[n] = segmentCode(segment)
        e.pointee.addresses[n] = address
        e.pointee.zoneCount += 1
        return true
    }
}
