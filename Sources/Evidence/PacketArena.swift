/// The first packets of every flow, kept in one ring of bytes so that an
/// alert can still show how its flow began: each stored packet links to the
/// flow's previous one, and the ring overwrites the oldest packets of any flow
/// once it is full. Memory is the ring's, allocated once.
///
/// Not thread-safe: one per pipeline.
struct PacketArena {
    /// A stored packet's header in the ring, before its bytes.
    struct Header {
        /// The logical offset of the flow's previous packet, or -1.
        var previous: Int64
        var flowID: UInt64
        var timestamp: UInt64
        var capturedLength: UInt32
        var wireLength: UInt32
        var payloadOffset: UInt32
        var payloadLength: UInt32
        var sequence: UInt32
        var linkType: Int32
        /// ``StoredPacket/Flags``.
        var flags: UInt8
    }

    static let headerSize = (MemoryLayout<Header>.stride + 7) & ~7
    let capacity: Int
    private let ring: UnsafeMutableRawPointer
    /// The logical offset of the next write; `position - capacity` is the oldest byte still held.
    private(set) var position: Int64 = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 1 << 16)
        ring = .allocate(byteCount: self.capacity, alignment: 8)
    }

    func release() { ring.deallocate() }

    /// Stores a packet; returns its logical offset, or nil when it is larger than a quarter of the ring.
    mutating func append(_ header: Header, bytes: UnsafeRawBufferPointer) -> Int64? {
        let size = Self.headerSize + ((bytes.count + 7) & ~7)
        guard size <= capacity / 4 else { return nil }
        var start = Int(position % Int64(capacity))
        if start + size > capacity {
            // A record never wraps: the tail is skipped (and counts as overwritten).
            position += Int64(capacity - start)
            start = 0
        }
        let offset = position
        ring.advanced(by: start).storeBytes(of: header, as: Header.self)
        if let base = bytes.baseAddress, !bytes.isEmpty {
            ring.advanced(by: start + Self.headerSize).copyMemory(from: base, byteCount: bytes.count)
        }
        position += Int64(size)
        return offset
    }

    /// The packet at `offset` if the ring still holds it.
    func packet(at offset: Int64) -> (header: Header, bytes: UnsafeRawBufferPointer)? {
        guard offset >= 0, offset >= position - Int64(capacity), offset < position else { return nil }
        let start = Int(offset % Int64(capacity))
        let header = ring.advanced(by: start).load(as: Header.self)
        return (header, UnsafeRawBufferPointer(start: ring.advanced(by: start + Self.headerSize), count: Int(header.capturedLength)))
    }
}

/// The packets of an evidence file in one buffer, in file order: appended
/// on the packet thread without an allocation per packet, turned into
/// ``StoredPacket`` values by the writer thread for masking.
struct PacketList {
    var data: [UInt8] = []
    var headers: [PacketArena.Header] = []

    mutating func reserve(packets: Int, bytes: Int) {
        headers.reserveCapacity(packets)
        data.reserveCapacity(bytes)
    }

    mutating func append(_ header: PacketArena.Header, _ bytes: UnsafeRawBufferPointer) {
        headers.append(header)
        data.append(contentsOf: bytes)
    }

    /// The packets, each with its own bytes (the writer thread masks them).
    var packets: [StoredPacket] {
        var start = 0
        return headers.map { header in
            let end = start + Int(header.capturedLength)
            defer { start = end }
            return StoredPacket(header: header, bytes: Array(data[start..<end]))
        }
    }
}

/// One packet of an evidence file, copied out of the capture.
struct StoredPacket {
    struct Flags {
        static let fromInitiator: UInt8 = 1
        static let tcp: UInt8 = 2
        static let udp: UInt8 = 4
        /// A TCP SYN: the direction's stream starts right after it.
        static let syn: UInt8 = 8
    }

    var header: PacketArena.Header
    var bytes: [UInt8]

    var fromInitiator: Bool { header.flags & Flags.fromInitiator != 0 }
    var isTCP: Bool { header.flags & Flags.tcp != 0 }
    var isSYN: Bool { header.flags & Flags.syn != 0 }
    /// The transport payload's range in ``bytes`` (what masking may overwrite).
    var payloadRange: Range<Int> {
        let start = min(Int(header.payloadOffset), bytes.count)
        return start..<min(start + Int(header.payloadLength), bytes.count)
    }
}
