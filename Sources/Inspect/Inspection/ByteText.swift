#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Helpers for reading protocol text out of raw bytes without Foundation.
enum ByteText {
    /// The first index of `byte` in `bytes[from..<to]`, or nil (memchr: a generic
    /// `firstIndex(of:)` over a slice of raw bytes checks every index it passes).
    static func index(of byte: UInt8, in bytes: UnsafeRawBufferPointer, from: Int, to: Int) -> Int? {
        guard from < to, let base = bytes.baseAddress else { return nil }
        precondition(from >= 0 && to <= bytes.count)
        guard let hit = memchr(base + from, Int32(byte), to - from) else { return nil }
        return base.distance(to: UnsafeRawPointer(hit))
    }

    /// The bytes as a String; bytes that are not UTF-8 become U+FFFD, and the
    /// formats escape the rest.
    static func string<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        String(decoding: bytes, as: UTF8.self)
    }

    /// Whether `bytes` begins with `prefix` (a literal: no allocation; recognisers run on every flow).
    static func hasPrefix(_ bytes: UnsafeRawBufferPointer, _ prefix: StaticString) -> Bool {
        prefix.withUTF8Buffer { p in
            guard bytes.count >= p.count else { return false }
            for i in 0..<p.count where bytes[i] != p[i] { return false }
            return true
        }
    }

    static func lower(_ c: UInt8) -> UInt8 { c >= 65 && c <= 90 ? c + 32 : c }

    /// Whether `bytes` equals `name` (lower-case) ignoring ASCII case, without allocating.
    static func equalsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ name: StaticString) -> Bool {
        name.withUTF8Buffer { n in
            guard bytes.count == n.count else { return false }
            var i = bytes.startIndex
            for c in n {
                if lower(bytes[i]) != c { return false }
                i += 1
            }
            return true
        }
    }

    /// Whether `bytes` begins with `prefix` (lower-case) ignoring ASCII case, without allocating.
    static func hasPrefixIgnoringCase(_ bytes: ArraySlice<UInt8>, _ prefix: StaticString) -> Bool {
        prefix.withUTF8Buffer { n in
            guard bytes.count >= n.count else { return false }
            var i = bytes.startIndex
            for c in n {
                if lower(bytes[i]) != c { return false }
                i += 1
            }
            return true
        }
    }

    /// Whether `haystack` contains `needle`, ignoring ASCII case.
    static func contains<C: Collection>(_ haystack: C, _ needle: String) -> Bool where C.Element == UInt8 {
        let n = Array(needle.utf8).map(lower)
        let h = Array(haystack).map(lower)
        guard n.count <= h.count else { return false }
        if n.isEmpty { return true }
        outer: for start in 0...(h.count - n.count) {
            for j in 0..<n.count where h[start + j] != n[j] { continue outer }
            return true
        }
        return false
    }
}

/// Accumulates one protocol line across segments, bounded so that a peer that
/// never ends its line cannot grow it.
struct LineBuffer {
    private(set) var bytes: [UInt8] = []
    let limit: Int
    /// The current line exceeded the limit; its bytes past the limit are dropped.
    private(set) var overflowed = false
    /// No bytes of an unfinished line are held.
    var isEmpty: Bool { bytes.isEmpty && !overflowed }

    init(limit: Int = 1024) {
        self.limit = limit
        bytes.reserveCapacity(min(limit, 256))
    }

    /// Appends bytes; calls `line` for every complete line (without CR/LF).
    mutating func append(_ chunk: UnsafeRawBufferPointer, _ line: ([UInt8], Bool) -> Void) {
        for byte in chunk {
            if byte == 0x0A {
                if bytes.last == 0x0D { bytes.removeLast() }
                line(bytes, overflowed)
                bytes.removeAll(keepingCapacity: true)
                overflowed = false
            } else if bytes.count < limit {
                bytes.append(byte)
            } else {
                overflowed = true
            }
        }
    }

    mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        overflowed = false
    }
}
