import Vocabulary

/// A read-only view over captured bytes. It does not own the memory and never
/// copies it.
///
/// Accessors do not check bounds: every decoder checks once per header that
/// `offset + headerLength <= count` before reading any field of it.
@frozen
public struct ByteView {
    public let base: UnsafeRawPointer
    public let count: Int

    @inlinable
    public init(base: UnsafeRawPointer, count: Int) {
        self.base = base
        self.count = count
    }

    /// A view over `buffer`; an empty buffer gets a valid dummy base.
    @inlinable
    public init(_ buffer: UnsafeRawBufferPointer) {
        self.base = buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 0x10)!
        self.count = buffer.count
    }

    /// Whether `length` bytes starting at `offset` are inside the view.
    @inlinable @inline(__always)
    public func has(_ length: Int, at offset: Int) -> Bool {
        offset >= 0 && length >= 0 && offset <= count &- length
    }

    @inlinable @inline(__always)
    public func u8(_ offset: Int) -> UInt8 { base.load(fromByteOffset: offset, as: UInt8.self) }

    /// A big-endian (network order) 16-bit value.
    @inlinable @inline(__always)
    public func u16(_ offset: Int) -> UInt16 {
        UInt16(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    /// A big-endian (network order) 32-bit value.
    @inlinable @inline(__always)
    public func u32(_ offset: Int) -> UInt32 {
        UInt32(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// A big-endian (network order) 64-bit value.
    @inlinable @inline(__always)
    public func u64(_ offset: Int) -> UInt64 {
        UInt64(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// A little-endian 32-bit value.
    @inlinable @inline(__always)
    public func u32le(_ offset: Int) -> UInt32 {
        UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// A 48-bit MAC address at `offset`.
    @inlinable @inline(__always)
    public func mac(_ offset: Int) -> MACAddress {
        MACAddress(rawValue: UInt64(u16(offset)) << 32 | UInt64(u32(offset + 2)))
    }

    /// The bytes in `range` as a buffer pointer (no copy).
    @inlinable
    public func slice(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
    }
}
