import COpenSSL

/// SHA-1 (FIPS 180-4), used only for Community ID flow hashes, which the
/// specification defines over SHA-1. It protects nothing; do not use it for
/// security. OpenSSL's block function (the CPU's SHA instructions where it
/// has them); the caller's bytes and the stack: no allocation.
enum SHA1 {
    /// The 20-byte digest of `bytes`, as five big-endian words.
    static func digest(_ bytes: UnsafeRawBufferPointer) -> (UInt32, UInt32, UInt32, UInt32, UInt32) {
        var out = InlineArray<20, UInt8>(repeating: 0)
        withUnsafeMutableBytes(of: &out) { zw_sha1(bytes.baseAddress, bytes.count, $0.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
        func word(_ i: Int) -> UInt32 {
            UInt32(out[4 * i]) << 24 | UInt32(out[4 * i + 1]) << 16 | UInt32(out[4 * i + 2]) << 8 | UInt32(out[4 * i + 3])
        }
        return (word(0), word(1), word(2), word(3), word(4))
    }

    /// The digest as 20 bytes (tests).
    static func digest(_ bytes: [UInt8]) -> [UInt8] {
        let h = bytes.withUnsafeBytes { digest($0) }
        var bigEndian = (h.0.bigEndian, h.1.bigEndian, h.2.bigEndian, h.3.bigEndian, h.4.bigEndian)
        return withUnsafeBytes(of: &bigEndian) { Array($0) }
    }
}
