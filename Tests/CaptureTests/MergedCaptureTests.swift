import Capture
import Foundation
import Testing

/// Files that overlap in time read as one capture, as an archive reads them:
/// each file pauses where the next begins.
@Suite("Merged captures")
struct MergedCaptureTests {
    let dir = temporaryDirectory()

    /// A capture with one small packet at each of `seconds`.
    func file(_ name: String, _ seconds: [UInt64]) throws -> PcapHandle {
        let path = dir.appendingPathComponent(name).path
        let writer = try PcapWriter(path: path, linkType: .ethernet)
        for s in seconds { writer.write(timestamp: s * 1_000_000_000, bytes: [UInt8](repeating: UInt8(s & 0xFF), count: 60)) }
        try writer.close()
        return try PcapHandle.openOffline(path)
    }

    func drain(_ m: MergedCapture) -> [UInt64] {
        var out: [UInt64] = []
        while case .packet(let p) = m.next() {
            #expect(p.bytes.first == UInt8((p.timestamp / 1_000_000_000) & 0xFF), "the packet's bytes are its own")
            out.append(p.timestamp / 1_000_000_000)
        }
        return out
    }

    /// A sparse file spanning two short ones: its held packet waits for the
    /// second pause point too, and every packet comes once, in time order.
    @Test func aFileSpanningSeveralShortOnes() throws {
        let a = try file("a.pcap", [0, 50, 100]), b = try file("b.pcap", [10, 20]), c = try file("c.pcap", [30, 40])
        var ended: [String] = []
        a.pauseAfter = 10 * 1_000_000_000
        #expect(try a.next().timestamp == 0)
        guard case .end = try a.next() else { Issue.record("a pauses at b's start"); return }
        #expect(a.isPaused)
        let first = MergedCapture([a, b], pauseAt: 30 * 1_000_000_000) { i, error in ended.append([a, b][i].source); #expect(error == nil) }
        #expect(drain(first) == [10, 20])
        #expect(first.paused.map(\.source) == [a.source] && ended == [b.source])
        let second = MergedCapture([a, c], pauseAt: .max) { i, _ in ended.append([a, c][i].source) }
        #expect(drain(second) == [30, 40, 50, 100])
        #expect(second.paused.isEmpty && ended == [b.source, c.source, a.source])
    }

    /// Equal timestamps: the file given first goes first.
    @Test func tiesKeepTheGivenOrder() throws {
        let a = try file("a.pcap", [1, 2, 3]), b = try file("b.pcap", [2, 3, 4])
        let m = MergedCapture([a, b], pauseAt: .max) { _, _ in }
        var sources: [String] = []
        while case .packet = m.next() { sources.append(m.handles[m.source].source.hasSuffix("a.pcap") ? "a" : "b") }
        #expect(sources == ["a", "a", "b", "a", "b", "b"])
    }
}

extension NextPacket {
    var timestamp: UInt64? { if case .packet(let p) = self { return p.timestamp / 1_000_000_000 } else { return nil } }
}
