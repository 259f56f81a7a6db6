import Flows
import Testing

/// Runs segments through one stream direction and returns what it delivered.
func reassemble(_ segments: [(offset: Int, bytes: [UInt8])], window: Int = 1024, isn: UInt32 = 0xFFFF_FFF0) -> [UInt8] {
    var stream = TCPStreamDirection(window: window)
    stream.start(synSequence: isn)
    var out: [UInt8] = []
    for s in segments {
        s.bytes.withUnsafeBytes { raw in
            stream.receive(sequence: isn &+ 1 &+ UInt32(s.offset), payload: raw) { out += $0 }
        }
    }
    stream.release()
    return out
}

@Suite("TCP stream reassembly")
struct TCPStreamTests {
    let text = Array("USER administrator\r\nPASS correct horse battery staple\r\n".utf8)

    func cut(_ size: Int) -> [(offset: Int, bytes: [UInt8])] {
        stride(from: 0, to: text.count, by: size).map { ($0, Array(text[$0..<min($0 + size, text.count)])) }
    }

    @Test func inOrderAcrossSequenceWrap() {
        #expect(reassemble(cut(7)) == text, "the ISN is just below 2^32: sequence numbers wrap")
    }

    @Test func outOfOrder() {
        var segments = cut(5)
        segments.reverse()
        #expect(reassemble(segments) == text)
        var shuffled = cut(3)
        var rng = SystemRandomNumberGenerator()
        shuffled.shuffle(using: &rng)
        #expect(reassemble(shuffled) == text)
    }

    @Test func retransmissionsAndOverlaps() {
        var segments: [(offset: Int, bytes: [UInt8])] = []
        for s in cut(6) {
            segments.append(s)
            segments.append(s)  // retransmitted
            if s.offset >= 3 { segments.append((s.offset - 3, Array(text[(s.offset - 3)..<min(s.offset + 4, text.count)]))) }  // overlapping
        }
        #expect(reassemble(segments) == text)
    }

    @Test func firstCopyWinsInBufferedOverlaps() {
        // Bytes 10..<20 arrive twice while the gap at 0 is open, with different contents.
        let first = Array(text[10..<20]), forged = [UInt8](repeating: 0x58, count: 10)
        let got = reassemble([(10, first), (10, forged), (0, Array(text[0..<10])), (20, Array(text[20...]))])
        #expect(got == text)
    }

    @Test func windowBoundsDelivery() {
        #expect(reassemble(cut(4), window: 16) == Array(text.prefix(16)))
        // An out-of-order segment beyond the window is dropped, not buffered.
        #expect(reassemble([(40, Array(text[40..<50])), (0, Array(text[0..<8]))], window: 32) == Array(text.prefix(8)))
    }

    @Test func midstreamStartTakesTheFirstSegment() {
        var stream = TCPStreamDirection(window: 64)
        var out: [UInt8] = []
        Array("abc".utf8).withUnsafeBytes { stream.receive(sequence: 5000, payload: $0) { out += $0 } }
        Array("def".utf8).withUnsafeBytes { stream.receive(sequence: 5003, payload: $0) { out += $0 } }
        #expect(out == Array("abcdef".utf8))
    }
}
