/// SHA-1 (FIPS 180-4), used only for Community ID flow hashes, which the
/// specification defines over SHA-1. It protects nothing; do not use it for
/// security. Works on the caller's bytes and the stack: no allocation.
enum SHA1 {
    /// The 20-byte digest of `bytes`, as five big-endian words.
    static func digest(_ bytes: UnsafeRawBufferPointer) -> (UInt32, UInt32, UInt32, UInt32, UInt32) {
        var h: (UInt32, UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0)
        var offset = 0
        while bytes.count - offset >= 64 {
            compress(&h, UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + 64)]))
            offset += 64
        }
        // The rest, 0x80, zeros and the bit length: one or two final blocks.
        var tail = InlineArray<128, UInt8>(repeating: 0)
        let rest = bytes.count - offset
        for i in 0..<rest { tail[i] = bytes[offset + i] }
        tail[rest] = 0x80
        let blocks = rest + 9 <= 64 ? 1 : 2
        let bitLength = UInt64(bytes.count) &* 8
        for i in 0..<8 { tail[blocks * 64 - 1 - i] = UInt8(truncatingIfNeeded: bitLength >> UInt64(i * 8)) }
        withUnsafeBytes(of: &tail) { raw in
            for b in 0..<blocks { compress(&h, UnsafeRawBufferPointer(rebasing: raw[(b * 64)..<(b * 64 + 64)])) }
        }
        return h
    }

    /// The digest as 20 bytes (tests).
    static func digest(_ bytes: [UInt8]) -> [UInt8] {
        let h = bytes.withUnsafeBytes { digest($0) }
        var bigEndian = (h.0.bigEndian, h.1.bigEndian, h.2.bigEndian, h.3.bigEndian, h.4.bigEndian)
        return withUnsafeBytes(of: &bigEndian) { Array($0) }
    }

    private static func compress(_ h: inout (UInt32, UInt32, UInt32, UInt32, UInt32), _ block: UnsafeRawBufferPointer) {
        var w = InlineArray<80, UInt32>(repeating: 0)
        for i in 0..<16 {
            w[i] = UInt32(block[4 * i]) << 24 | UInt32(block[4 * i + 1]) << 16 | UInt32(block[4 * i + 2]) << 8 | UInt32(block[4 * i + 3])
        }
        for i in 16..<80 {
            let x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]
            w[i] = x << 1 | x >> 31
        }
        var (a, b, c, d, e) = h
        for i in 0..<80 {
            let f: UInt32, k: UInt32
            switch i {
            case 0..<20: f = (b & c) | (~b & d); k = 0x5A82_7999
            case 20..<40: f = b ^ c ^ d; k = 0x6ED9_EBA1
            case 40..<60: f = (b & c) | (b & d) | (c & d); k = 0x8F1B_BCDC
            default: f = b ^ c ^ d; k = 0xCA62_C1D6
            }
            let temp = (a << 5 | a >> 27) &+ f &+ e &+ k &+ w[i]
            e = d
            d = c
            c = b << 30 | b >> 2
            b = a
            a = temp
        }
        h = (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d, h.4 &+ e)
    }
}
