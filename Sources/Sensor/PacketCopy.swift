/// Room for one packet's bytes copied out of libpcap's buffer (which the next
/// read reuses): allocated once, grown to the largest packet seen, then kept.
/// The lookahead's queue and the read-ahead ring each hold a fixed number.
struct PacketCopy {
    private var buffer: UnsafeMutableRawPointer
    private var capacity: Int
    /// The bytes last stored, valid until the next ``store(_:)`` or ``release()``.
    private(set) var bytes: UnsafeRawBufferPointer

    init() {
        capacity = 2048
        buffer = .allocate(byteCount: capacity, alignment: 64)
        bytes = UnsafeRawBufferPointer(start: buffer, count: 0)
    }

    /// Copies `source` in; returns the copy.
    @inline(__always)
    @discardableResult
    mutating func store(_ source: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        let length = source.count
        if _slowPath(length > capacity) {
            buffer.deallocate()
            capacity = max(length, capacity * 2)
            buffer = .allocate(byteCount: capacity, alignment: 64)
        }
        if let base = source.baseAddress, length > 0 { buffer.copyMemory(from: base, byteCount: length) }
        bytes = UnsafeRawBufferPointer(start: buffer, count: length)
        return bytes
    }

    /// Frees the memory (the owner's deinit).
    func release() { buffer.deallocate() }
}
