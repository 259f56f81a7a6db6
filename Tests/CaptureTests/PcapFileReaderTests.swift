import Capture
import Foundation
import Testing

/// What one reader made of a file: every packet, then how it ended.
private struct Reading: Equatable, CustomStringConvertible {
    var packets: [CapturedPacketCopy] = []
    var capturedLengths: [Int] = []
    var ending = "end"
    /// Read in blocks (not compared: libpcap never is).
    var inBlocks = false

    static func == (a: Reading, b: Reading) -> Bool { a.packets == b.packets && a.capturedLengths == b.capturedLengths && a.ending == b.ending }

    var description: String { "\(packets.count) packets, \(ending)" }
}

private func read(_ path: String, inBlocks: Bool, filter: String? = nil) -> Reading {
    var r = Reading()
    do throws(CaptureError) {
        let handle = try PcapHandle.openOffline(path, inBlocks: inBlocks)
        if let filter { try handle.setFilter(filter) }
        r.inBlocks = handle.readsInBlocks
        while case .packet(let p) = try handle.next() {
            r.packets.append(CapturedPacketCopy(timestamp: p.timestamp, bytes: Array(p.bytes), wireLength: p.wireLength))
            r.capturedLengths.append(p.capturedLength)
        }
        r.ending = handle.reachedEnd ? "end" : "stopped"
    } catch {
        r.ending = error.description
    }
    return r
}

/// The project's captures and the other projects' (`../shared/captures`).
private let captureFiles: [String] = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    var files: [String] = []
    for dir in [root.appendingPathComponent("Captures"), root.deletingLastPathComponent().appendingPathComponent("shared/captures")] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        files += names.filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted().map { dir.appendingPathComponent($0).path }
    }
    return files
}()

/// A pcap file of `records` (caplen, bytes) with the given magic and snapshot length.
private func pcap(magic: UInt32 = 0xA1B2_C3D4, snaplen: UInt32 = 65535, linkType: UInt32 = 1, version: (UInt16, UInt16) = (2, 4),
                  _ records: [(caplen: UInt32, wire: UInt32, bytes: [UInt8])]) -> Data {
    var d = Data()
    func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
    func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
    u32(magic); u16(version.0); u16(version.1); u32(0); u32(0); u32(snaplen); u32(linkType)
    for (i, r) in records.enumerated() {
        u32(1_795_701_600 + UInt32(i)); u32(123_456); u32(r.caplen); u32(r.wire)
        d.append(contentsOf: r.bytes)
    }
    return d
}

extension Data {
    /// The data with `bytes` written over it from `offset` on.
    func replacing(at offset: Int, with bytes: [UInt8]) -> Data {
        var d = self
        d.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
        return d
    }
}

@Suite("pcap files read in blocks")
struct PcapFileReaderTests {
    /// Every capture at hand reads the same, packet for packet, as libpcap reads it.
    @Test func sameAsLibpcapOnEveryCapture() throws {
        #expect(captureFiles.count >= 48)
        var inBlocks = 0
        for path in captureFiles {
            let libpcap = read(path, inBlocks: false)
            let blocks = read(path, inBlocks: true)
            #expect(blocks == libpcap, "\(path): in blocks \(blocks), libpcap \(libpcap)")
            #expect(!libpcap.inBlocks)
            if blocks.inBlocks { inBlocks += 1 }
        }
        // The pcapng, big-endian and unsupported-link files are libpcap's; the others are read in blocks.
        #expect(inBlocks >= captureFiles.count * 3 / 4, "\(inBlocks) of \(captureFiles.count) read in blocks")
    }

    /// A file cut anywhere (in the file header aside): the same packets
    /// before the cut and the same error as libpcap's, at the same packet.
    @Test func truncatedAnywhere() throws {
        let dir = temporaryDirectory()
        let source = dir.appendingPathComponent("whole.pcap").path
        try writeCapture(source, count: 6)
        let whole = try Data(contentsOf: URL(fileURLWithPath: source))
        var errors = 0
        for cut in 24..<whole.count {
            let path = dir.appendingPathComponent("cut-\(cut).pcap").path
            try whole.prefix(cut).write(to: URL(fileURLWithPath: path))
            let libpcap = read(path, inBlocks: false), blocks = read(path, inBlocks: true)
            #expect(blocks == libpcap && blocks.inBlocks, "cut at \(cut): in blocks \(blocks), libpcap \(libpcap)")
            if libpcap.ending != "end" { errors += 1 }
            try FileManager.default.removeItem(atPath: path)
        }
        #expect(errors > whole.count / 2)
    }

    /// Records longer than the snapshot length (cut to it, the rest passed
    /// over), longer than libpcap's maximum, nanosecond and microsecond
    /// files, a record of no bytes, and records larger than a block.
    @Test func unusualRecords() throws {
        let dir = temporaryDirectory()
        let big = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        let cases: [(String, Data)] = [
            ("over-snaplen", pcap(snaplen: 100, [(60, 60, [UInt8](repeating: 1, count: 60)), (150, 150, [UInt8](repeating: 2, count: 150)), (60, 1514, [UInt8](repeating: 3, count: 60))])),
            ("over-snaplen-truncated", pcap(snaplen: 100, [(60, 60, [UInt8](repeating: 1, count: 60)), (150, 150, [UInt8](repeating: 2, count: 120))])),
            ("over-snaplen-short", pcap(snaplen: 100, [(150, 150, [UInt8](repeating: 2, count: 80))])),
            ("over-maximum", pcap(snaplen: 0, [(60, 60, [UInt8](repeating: 1, count: 60)), (300_000, 300_000, [UInt8](repeating: 2, count: 64))])),
            ("over-maximum-and-snaplen", pcap(snaplen: 1000, [(300_000, 300_000, [UInt8](repeating: 2, count: 64))])),
            ("nanoseconds", pcap(magic: 0xA1B2_3C4D, [(60, 60, [UInt8](repeating: 1, count: 60))])),
            ("empty-record", pcap([(0, 0, []), (60, 60, [UInt8](repeating: 1, count: 60))])),
            ("large-records", pcap(snaplen: 262_144, (0..<12).map { i in (UInt32(big.count - i), UInt32(big.count), Array(big.prefix(big.count - i))) })),
            // Longer than the snapshot length and than a block in all: records cut to it across the blocks' ends.
            ("over-snaplen-large", pcap(snaplen: 1000, (0..<12).map { i in (UInt32(big.count - i), UInt32(big.count), Array(big.prefix(big.count - i))) })),
            // A snapshot length above libpcap's maximum: a record past the maximum is still an error.
            ("over-maximum-large-snaplen", pcap(snaplen: 1_000_000, [(100_000, 100_000, Array(big.prefix(100_000))), (300_000, 300_000, big + big.prefix(100_000))])),
            // Stamped past 2^31 seconds and with a fraction past 2^31: libpcap's signedness, whichever it is.
            ("high-bits", pcap(magic: 0xA1B2_3C4D, [(60, 60, [UInt8](repeating: 1, count: 60))]).replacing(at: 24, with: [0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0xF0])),
            ("old-version", pcap(version: (2, 3), [(60, 70, [UInt8](repeating: 1, count: 60))])),
            ("raw-ip", pcap(linkType: 101, [(40, 40, [0x45] + [UInt8](repeating: 0, count: 39))])),
            ("no-packets", pcap([])),
        ]
        for (name, data) in cases {
            let path = dir.appendingPathComponent("\(name).pcap").path
            try data.write(to: URL(fileURLWithPath: path))
            let libpcap = read(path, inBlocks: false), blocks = read(path, inBlocks: true)
            #expect(blocks == libpcap, "\(name): in blocks \(blocks), libpcap \(libpcap)")
            #expect(blocks.inBlocks == (name != "old-version"), "\(name)")
        }
        // The cases do what they say: a record cut to the snapshot length, and an error past libpcap's maximum.
        let cut = read(dir.appendingPathComponent("over-snaplen.pcap").path, inBlocks: true)
        #expect(cut.capturedLengths == [60, 100, 60] && cut.ending == "end")
        #expect(read(dir.appendingPathComponent("over-maximum.pcap").path, inBlocks: true).ending.contains("invalid packet capture length 300000"))
        #expect(read(dir.appendingPathComponent("large-records.pcap").path, inBlocks: true).packets.count == 12)
        #expect(read(dir.appendingPathComponent("over-snaplen-large.pcap").path, inBlocks: true).capturedLengths == Array(repeating: 1000, count: 12))
    }

    /// A BPF filter keeps the same packets either way.
    @Test func filterAsLibpcap() throws {
        let path = temporaryDirectory().appendingPathComponent("f.pcap").path
        try writeCapture(path, count: 40)
        for filter in ["udp src port 1002 or udp src port 1004", "tcp", "udp and len > 100", "udp[8] == 7"] {
            let libpcap = read(path, inBlocks: false, filter: filter), blocks = read(path, inBlocks: true, filter: filter)
            #expect(blocks == libpcap && blocks.inBlocks, "\(filter): in blocks \(blocks), libpcap \(libpcap)")
        }
        #expect(read(path, inBlocks: true, filter: "udp src port 1002 or udp src port 1004").packets.count == 2)
    }

    /// Progress counts the file's bytes as the blocks are read.
    @Test func progressCountsBytes() throws {
        let path = temporaryDirectory().appendingPathComponent("p.pcap").path
        try writeCapture(path, count: 30)
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        let handle = try PcapHandle.openOffline(path)
        while case .packet = try handle.next() {}
        #expect(handle.fileBytesRead == size)
        #expect(handle.packetsReadSoFar == 30)
    }
}
