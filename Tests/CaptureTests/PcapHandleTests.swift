import Capture
import CaptureBuilder
import Decode
import Foundation
import Testing
import TestSupport

/// A fresh temporary directory per test.
func temporaryDirectory() -> URL { TemporaryFolder.make("zw-capture") }

/// A small capture of `count` UDP packets.
func writeCapture(_ path: String, count: Int = 5, linkType: LinkType = .ethernet) throws {
    let s = CaptureScript()
    for i in 0..<count {
        s.udp(client: Host("10.0.0.1"), clientPort: UInt16(1000 + i), server: Host("10.0.0.2"), serverPort: 53, request: [UInt8](repeating: UInt8(i), count: 100))
    }
    let writer = try PcapWriter(path: path, linkType: linkType)
    for p in s.packets { writer.write(timestamp: p.timestamp, bytes: p.bytes) }
    try writer.close()
}

func readAll(_ path: String, filter: String? = nil) throws(CaptureError) -> [CapturedPacketCopy] {
    let handle = try PcapHandle.openOffline(path)
    if let filter { try handle.setFilter(filter) }
    var out: [CapturedPacketCopy] = []
    while case .packet(let p) = try handle.next() {
        out.append(CapturedPacketCopy(timestamp: p.timestamp, bytes: Array(p.bytes), wireLength: p.wireLength))
    }
    return out
}

struct CapturedPacketCopy: Equatable {
    var timestamp: UInt64
    var bytes: [UInt8]
    var wireLength: Int
}

@Suite("libpcap handle")
struct PcapHandleTests {
    @Test func writeAndReadBackWithNanoseconds() throws {
        let dir = temporaryDirectory()
        let path = dir.appendingPathComponent("a.pcap").path
        let writer = try PcapWriter(path: path)
        writer.write(timestamp: 1_795_701_600_123_456_789, bytes: [UInt8](repeating: 0xAB, count: 60), wireLength: 1514)
        try writer.close()
        let packets = try readAll(path)
        #expect(packets == [CapturedPacketCopy(timestamp: 1_795_701_600_123_456_789, bytes: [UInt8](repeating: 0xAB, count: 60), wireLength: 1514)])
        let handle = try PcapHandle.openOffline(path)
        #expect(handle.linkType == .ethernet && !handle.isLive)
    }

    @Test func missingFile() {
        #expect(throws: CaptureError(.open, source: "/nonexistent/x.pcap", message: "no such file or directory")) {
            try PcapHandle.openOffline("/nonexistent/x.pcap")
        }
    }

    @Test func emptyFileGarbageAndDirectory() throws {
        let dir = temporaryDirectory()
        let empty = dir.appendingPathComponent("empty.pcap").path
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        #expect(throws: CaptureError(.open, source: empty, message: "empty file: no pcap or pcapng header")) { try PcapHandle.openOffline(empty) }
        let garbage = dir.appendingPathComponent("garbage.pcap").path
        _ = FileManager.default.createFile(atPath: garbage, contents: Data("This is not a capture file at all, just text.\n".utf8))
        #expect(throws: CaptureError(.open, source: garbage, message: "not a pcap or pcapng file (unknown file format)")) { try PcapHandle.openOffline(garbage) }
        #expect(throws: CaptureError(.open, source: dir.path, message: "is a directory, not a capture file")) { try PcapHandle.openOffline(dir.path) }
        let short = dir.appendingPathComponent("short.pcap").path
        _ = FileManager.default.createFile(atPath: short, contents: Data([0xD4, 0xC3, 0xB2, 0xA1, 2, 0]))
        do {
            _ = try PcapHandle.openOffline(short)
            Issue.record("a 6-byte file opened")
        } catch {
            #expect(error.kind == .open && error.message.description.hasPrefix("truncated file header"))
        }
    }

    @Test func truncatedRecordKeepsEarlierPackets() throws {
        let dir = temporaryDirectory()
        let path = dir.appendingPathComponent("t.pcap").path
        try writeCapture(path, count: 5)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(data.count - 30).write(to: URL(fileURLWithPath: path))
        let handle = try PcapHandle.openOffline(path)
        var good = 0
        do {
            while case .packet = try handle.next() { good += 1 }
            Issue.record("no error for a truncated record")
        } catch {
            #expect(error.kind == .read && error.packetIndex == 5)
            #expect(error.description.hasPrefix("\(path): packet 5: truncated dump file; tried to read"))
        }
        #expect(good == 4)
    }

    /// The handle opens any link type libpcap reads; which ones the sensor
    /// decodes is the decode stage's table (the analysis refuses the rest).
    @Test func anyLinkTypeOpens() throws {
        let path = temporaryDirectory().appendingPathComponent("fddi.pcap").path
        try writeCapture(path, count: 1, linkType: LinkType(rawValue: 10))
        let handle = try PcapHandle.openOffline(path)
        #expect(handle.linkType.description == "FDDI (10)")
        #expect(LinkLayer(linkType: handle.linkType.rawValue) == nil)
        #expect(LinkLayer(linkType: LinkType.ethernet.rawValue) == .ethernet)
    }

    @Test func bpfFilters() throws {
        let path = temporaryDirectory().appendingPathComponent("f.pcap").path
        try writeCapture(path, count: 5)
        #expect(try readAll(path, filter: "udp src port 1002 or udp src port 1004").count == 2)
        #expect(try readAll(path, filter: "tcp").isEmpty)
        do {
            _ = try readAll(path, filter: "udp and and")
            Issue.record("bad filter accepted")
        } catch {
            #expect(error.kind == .filter && error.message.description.hasPrefix("BPF filter \"udp and and\": ") && error.message.description.contains("syntax error"))
        }
        #expect(PcapHandle.filterError("host 10.0.0.1") == nil)
        #expect(PcapHandle.filterError("hots 10.0.0.1") != nil)
    }

    @Test func liveOpenOfAMissingInterfaceFailsClearly() {
        do {
            _ = try PcapHandle.openLive("zw-nosuchif0", options: LiveCaptureOptions(snaplen: 65535))
            Issue.record("opened a missing interface")
        } catch {
            #expect(error.kind == .open && error.source == "zw-nosuchif0")
            #expect(error.message.lowercased().contains("no such device"))
        }
    }

    static let sharedPcapng = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/captures/pcapng-multi-interface.pcapng").path

    @Test(.enabled(if: FileManager.default.fileExists(atPath: sharedPcapng), "../shared/captures is absent"))
    func sharedPcapngWithSeveralInterfaces() throws {
        #expect(try readAll(Self.sharedPcapng).count == 6)
    }
}
