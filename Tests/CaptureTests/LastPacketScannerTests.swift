@testable import Capture
import Foundation
import Testing

/// The end of a capture from its headers alone equals the last packet libpcap reads.
@Suite("Last packet from the headers")
struct LastPacketScannerTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// Every capture here and in ../shared/captures (other projects' files: pcap in both byte orders, pcapng).
    static let captures: [String] = {
        let folders = [repository.appendingPathComponent("Captures"), repository.deletingLastPathComponent().appendingPathComponent("shared/captures")]
        return folders.flatMap { folder in
            ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
                .filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted().map { folder.appendingPathComponent($0).path }
        }
    }()

    func lastRead(_ path: String) throws -> UInt64? {
        try readAll(path).last?.timestamp
    }

    @Test func everyCaptureAsLibpcapReadsIt() throws {
        #expect(Self.captures.count > 20)
        for path in Self.captures {
            let expected = try lastRead(path)
            #expect(LastPacketScanner.lastTimestamp(ofFile: path) == expected, "\(path)")
        }
    }

    /// The same files as pcapng (editcap keeps each one's resolution: the
    /// project's captures are nanosecond ones, the shared ones microsecond), and compressed.
    @Test(.enabled(if: ["/usr/bin/editcap", "/usr/bin/gzip", "/usr/bin/xz"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }, "needs editcap, gzip, xz"))
    func pcapngAndCompressed() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var checked = 0
        for (i, path) in Self.captures.enumerated() where !path.hasSuffix(".pcapng") {
            let expected = try lastRead(path)
            let out = dir.appendingPathComponent("\(i).pcapng").path
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/bash")
            p.arguments = ["-c", "editcap -F pcapng '\(path)' '\(out)' && gzip -k '\(out)' && xz -k '\(out)' && gzip -k '\(path)' -c > '\(out).pcap.gz'"]
            try p.run()
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "\(path)")
            #expect(try lastRead(out) == expected, "\(path): editcap kept the timestamps")
            for variant in [out, out + ".gz", out + ".xz", out + ".pcap.gz"] {
                #expect(LastPacketScanner.lastTimestamp(ofFile: variant) == expected, "\(variant) from \(path)")
            }
            checked += 1
        }
        #expect(checked > 20)
    }

    @Test func resolutions() {
        #expect(LastPacketScanner.nanoseconds(1_500_000, resolution: 6) == 1_500_000_000)
        #expect(LastPacketScanner.nanoseconds(7, resolution: 9) == 7)
        #expect(LastPacketScanner.nanoseconds(123_456, resolution: 12) == 123)
        #expect(LastPacketScanner.nanoseconds(3 << 10 | 512, resolution: 0x80 | 10) == 3_500_000_000)
        #expect(LastPacketScanner.nanoseconds(5 << 40 | 1 << 39, resolution: 0x80 | 40) == 5_500_000_000)
        #expect(LastPacketScanner.nanoseconds(7, resolution: 0x80) == 7_000_000_000)
    }

    /// A little-endian pcapng section: an interface with `options` (TLVs), then enhanced packet blocks at `times` (its units).
    static func pcapng(options: [(UInt16, [UInt8])], times: [UInt64], blockLength: ((Int) -> Int)? = nil) -> [UInt8] {
        func u32(_ v: Int) -> [UInt8] { withUnsafeBytes(of: UInt32(v).littleEndian, Array.init) }
        func u16(_ v: Int) -> [UInt8] { withUnsafeBytes(of: UInt16(v).littleEndian, Array.init) }
        func block(_ type: Int, _ body: [UInt8]) -> [UInt8] {
            let length = 12 + body.count
            return u32(type) + u32(blockLength?(length) ?? length) + body + u32(length)
        }
        var idb = u16(1) + u16(0) + u32(65535)
        for (code, value) in options { idb += u16(Int(code)) + u16(value.count) + value + [UInt8](repeating: 0, count: (4 - value.count % 4) % 4) }
        if !options.isEmpty { idb += u16(0) + u16(0) }
        var out = block(0x0A0D_0D0A, [0x4D, 0x3C, 0x2B, 0x1A, 1, 0, 0, 0] + [UInt8](repeating: 0xFF, count: 8)) + block(1, idb)
        for t in times { out += block(6, u32(0) + u32(Int(t >> 32)) + u32(Int(t & 0xFFFF_FFFF)) + u32(4) + u32(4) + [1, 2, 3, 4]) }
        return out
    }

    func scan(_ bytes: [UInt8]) -> LastPacketScanner {
        var scanner = LastPacketScanner()
        bytes.withUnsafeBytes { scanner.feed($0) }
        return scanner
    }

    /// if_tsresol and if_tsoffset (a little-endian 64-bit value), records out of time order
    /// (the latest counts, not the last), and damage that must give no answer rather than a wrong one.
    @Test func pcapngBlocks() {
        let offset = withUnsafeBytes(of: UInt64(1_000).littleEndian, Array.init)
        let ok = scan(Self.pcapng(options: [(9, [9]), (14, offset)], times: [5_000_000_000, 9_000_000_000, 7_000_000_000]))
        #expect(!ok.broken && ok.last == 1_009_000_000_000)
        #expect(scan(Self.pcapng(options: [], times: [2_000_000])).last == 2_000_000_000)
        // An option longer than its block (the interface block starts at 28, its options at 44): no crash, no answer.
        let long = scan(Self.pcapng(options: [(14, [UInt8](repeating: 1, count: 8))], times: [1]).enumerated().map { $0.offset == 46 ? 40 : $0.element })
        #expect(long.broken && long.last == nil)
        // A block whose two lengths differ.
        #expect(scan(Self.pcapng(options: [], times: [1, 2], blockLength: { $0 == 36 ? 40 : $0 })).broken)
    }

    /// Not a capture, or headers that make no sense: no answer rather than a wrong one.
    @Test func brokenInput() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = dir.appendingPathComponent("notes.txt").path
        try "rotation notes\n".write(toFile: text, atomically: true, encoding: .utf8)
        #expect(LastPacketScanner.lastTimestamp(ofFile: text) == nil)
        // A pcap header, then a record claiming a gigabyte.
        var bytes: [UInt8] = [0xD4, 0xC3, 0xB2, 0xA1, 2, 0, 4, 0] + [UInt8](repeating: 0, count: 8) + [0xFF, 0xFF, 0, 0, 1, 0, 0, 0]
        bytes += [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0x40]
        var scanner = LastPacketScanner()
        bytes.withUnsafeBytes { scanner.feed($0) }
        #expect(scanner.broken && scanner.last == nil)
        #expect(LastPacketScanner.lastTimestamp(ofFile: dir.appendingPathComponent("missing.pcap").path) == nil)
    }

    /// Fed a byte at a time, the scanner finds what it finds fed the file whole.
    @Test func piecesOfAnySize() throws {
        for path in Self.captures.prefix(8) {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            var scanner = LastPacketScanner()
            data.withUnsafeBytes { all in
                var at = 0, size = 1
                while at < all.count {
                    let n = min(size, all.count - at)
                    scanner.feed(UnsafeRawBufferPointer(rebasing: all[at..<(at + n)]))
                    at += n
                    size = size % 97 + 1
                }
            }
            #expect(scanner.last == LastPacketScanner.lastTimestamp(ofFile: path), "\(path)")
        }
    }
}
