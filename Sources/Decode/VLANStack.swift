/// One 802.1Q/802.1ad tag as found on the wire.
@frozen
public struct VLANTag: Hashable, Sendable {
    /// The tag protocol identifier that introduced the tag (0x8100, 0x88A8, 0x9100),
    /// or 0 for a VLAN id that came from an ERSPAN header rather than a tag.
    public var tpid: UInt16
    /// Tag control information: PCP (3 bits), DEI (1 bit), VLAN id (12 bits).
    public var tci: UInt16

    public init(tpid: UInt16, tci: UInt16) {
        self.tpid = tpid
        self.tci = tci
    }

    public var id: UInt16 { tci & 0x0FFF }
    public var priority: UInt8 { UInt8(tci >> 13) }
}

/// The VLAN tags of one Ethernet frame, outermost first, stored inline (no heap).
@frozen
public struct VLANStack: Sendable {
    /// The most tags the decoder follows in one frame; deeper stacks are an anomaly.
    public static let capacity = 8

    @usableFromInline var storage: InlineArray<8, UInt32>
    /// Number of tags.
    public private(set) var count: Int

    public init() {
        storage = InlineArray(repeating: 0)
        count = 0
    }

    public var isEmpty: Bool { count == 0 }

    public subscript(i: Int) -> VLANTag {
        let raw = storage[i]
        return VLANTag(tpid: UInt16(truncatingIfNeeded: raw >> 16), tci: UInt16(truncatingIfNeeded: raw))
    }

    /// Appends a tag; returns false when the stack is full.
    @discardableResult
    public mutating func push(_ tag: VLANTag) -> Bool {
        guard count < VLANStack.capacity else { return false }
        storage[count] = UInt32(tag.tpid) << 16 | UInt32(tag.tci)
        count += 1
        return true
    }

    public mutating func removeAll() { count = 0 }

    /// The innermost tag's VLAN id, ignoring priority-only tags (id 0).
    @inlinable public var innermostID: UInt16? {
        var i = count - 1
        while i >= 0 {
            let id = UInt16(truncatingIfNeeded: storage[i]) & 0x0FFF
            if id != 0 { return id }
            i -= 1
        }
        return nil
    }

    /// The VLAN ids, outermost first (allocates; for alerts and tests).
    public var ids: [UInt16] { (0..<count).map { self[$0].id } }

    /// Up to the first five ids packed 12 bits each, with the count in the top
    /// nibble: the VLAN part of a flow key.
    public var packedKey: UInt64 {
        var key = UInt64(min(count, 15)) << 60
        var i = 0
        while i < count && i < 5 {
            key |= UInt64(storage[i] & 0x0FFF) << UInt64(12 * i)
            i += 1
        }
        return key
    }
}

/// VLAN ids as an alert reports them, outermost first: the outer frame's tags,
/// then those inside the innermost tunnel. Stored inline (no heap).
@frozen
public struct VLANIDList: Sendable, Equatable, RandomAccessCollection, ExpressibleByArrayLiteral, CustomStringConvertible {
    /// Both stacks full, and an ERSPAN header's VLAN.
    public static let capacity = 2 * VLANStack.capacity + 1

    @usableFromInline var storage: InlineArray<17, UInt16>
    public private(set) var count: Int

    public init() {
        storage = InlineArray(repeating: 0)
        count = 0
    }

    public init(arrayLiteral elements: UInt16...) {
        self.init()
        for e in elements { append(e) }
    }

    /// Appends an id (ignored beyond ``capacity``).
    public mutating func append(_ id: UInt16) {
        guard count < Self.capacity else { return }
        storage[count] = id
        count += 1
    }

    /// Appends the ids of a stack's tags.
    public mutating func append(_ stack: VLANStack) {
        for i in 0..<stack.count { append(stack[i].id) }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
    public subscript(i: Int) -> UInt16 { storage[i] }

    public static func == (a: VLANIDList, b: VLANIDList) -> Bool { a.elementsEqual(b) }

    public var description: String { "[" + map(String.init).joined(separator: ", ") + "]" }
}
