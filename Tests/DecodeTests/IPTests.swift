import CaptureBuilder
import Decode
import Testing

@Suite("IPv4 and IPv6")
struct IPTests {
    /// SCTP's common header gives the ports (Community ID and flows key SCTP by them); a cut one is counted.
    @Test func sctpPorts() {
        // Ports 3868 -> 36412 (S1AP), verification tag, checksum, then an INIT chunk's first bytes.
        let sctp: [UInt8] = [0x0F, 0x1C, 0x8E, 0x3C, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78, 1, 0, 0, 20]
        let p = decode(ether(Frames.ipv4(source: v4a, destination: v4b, proto: 132, payload: sctp)))
        #expect(p.anomaly == nil && p.hasTransport && p.sourcePort == 3868 && p.destinationPort == 36412 && p.payloadLength == 4)
        let cut = decode(ether(Frames.ipv4(source: v4a, destination: v4b, proto: 132, payload: Array(sctp.prefix(10)))))
        #expect(cut.anomaly == .sctpTruncated && !cut.hasTransport)
    }

    @Test func ipv4Options() {
        // NOP, NOP, then a 4-byte router-alert-like option (type 148, length 4).
        let ip = Frames.ipv4(source: v4a, destination: v4b, proto: 6, payload: tcpSegment(), options: [1, 1, 148, 4, 0, 0, 0, 0])
        let p = decode(ether(ip))
        #expect(p.hasIPOptions && p.anomaly == nil && p.destinationPort == 443)
    }

    @Test func ipv4BadOptionLength() {
        let ip = Frames.ipv4(source: v4a, destination: v4b, proto: 6, payload: tcpSegment(), options: [7, 1, 0, 0])
        let p = decode(ether(ip))
        #expect(p.anomaly == .ipv4BadOption)
        #expect(p.destinationPort == 443, "a bad option is counted, the packet is still used")
    }

    @Test func ipv4HeaderErrors() {
        var ip = ipv4TCP()
        ip[0] = 0x44  // IHL 4
        #expect(decode(ether(ip)).anomaly == .ipv4HeaderTooShort)
        ip = ipv4TCP()
        ip[0] = 0x55  // version 5
        #expect(decode(ether(ip)).anomaly == .ipv4BadVersion)
        ip = Frames.ipv4(source: v4a, destination: v4b, proto: 6, payload: tcpSegment(), totalLength: 12)
        #expect(decode(ether(ip)).anomaly == .ipv4BadTotalLength)
        #expect(decode(ether(Array(ipv4TCP().prefix(19)))).anomaly == .ipv4Truncated)
    }

    @Test func ipv4ZeroTotalLengthIsCountedAndDecoded() {
        let ip = Frames.ipv4(source: v4a, destination: v4b, proto: 6, payload: tcpSegment(), totalLength: 0)
        let p = decode(ether(ip))
        #expect(p.anomaly == .ipv4ZeroTotalLength)
        #expect(p.destinationPort == 443)
    }

    @Test func ipv4CutBySnaplenKeepsTransport() {
        let full = ether(ipv4TCP(payload: [UInt8](repeating: 7, count: 100)))
        let p = decode(Array(full.prefix(14 + 20 + 20 + 10)))
        #expect(p.anomaly == .ipv4Truncated)
        #expect(p.hasTransport && p.destinationPort == 443 && p.payloadLength == 10)
    }

    @Test func ipv4Fragments() {
        let udp = Frames.udp(source: v4a, destination: v4b, sourcePort: 123, destinationPort: 137, payload: [UInt8](repeating: 1, count: 40))
        let first = decode(ether(Frames.ipv4(source: v4a, destination: v4b, proto: 17, payload: udp, dontFragment: false, moreFragments: true)))
        #expect(first.isFragment && first.fragmentOffset == 0 && first.hasTransport && first.destinationPort == 137)
        let later = decode(ether(Frames.ipv4(source: v4a, destination: v4b, proto: 17, payload: [UInt8](repeating: 0xEE, count: 24), dontFragment: false, fragmentOffset: 48)))
        #expect(later.isFragment && later.fragmentOffset == 48)
        #expect(!later.hasTransport, "a later fragment's bytes are not a transport header")
        #expect(later.ipProtocol == .udp && later.anomaly == nil)
    }

    @Test func ipv6ExtensionChain() {
        let ip = Frames.ipv6(source: v6a, destination: v6b, nextHeader: 6, payload: tcpSegment(v6a, v6b),
                             extensions: [Frames.ipv6OptionsHeader(type: 0), Frames.ipv6OptionsHeader(type: 60)])
        let p = decode(ether(ip, type: 0x86DD))
        #expect(p.anomaly == nil && p.network == .ipv6 && p.ipProtocol == .tcp && p.destinationPort == 443)
    }

    @Test func ipv6RoutingAndAH() {
        let routing: (type: UInt8, bytes: [UInt8]) = (43, [0, 0, 0, 0, 0, 0, 0, 0])
        let ah: (type: UInt8, bytes: [UInt8]) = (51, [0, 4] + [UInt8](repeating: 0, count: 22))  // (4 + 2) * 4 = 24 bytes
        let ip = Frames.ipv6(source: v6a, destination: v6b, nextHeader: 17, payload: Frames.udp(source: v6a, destination: v6b, sourcePort: 9, destinationPort: 53, payload: [1]), extensions: [routing, ah])
        let p = decode(ether(ip, type: 0x86DD))
        #expect(p.anomaly == nil && p.ipProtocol == .udp && p.destinationPort == 53)
    }

    @Test func ipv6Fragments() {
        let first = Frames.ipv6(source: v6a, destination: v6b, nextHeader: 17, payload: Frames.udp(source: v6a, destination: v6b, sourcePort: 53, destinationPort: 5353, payload: [UInt8](repeating: 1, count: 16)),
                                extensions: [Frames.ipv6FragmentHeader(offset: 0, more: true, identification: 9)])
        let p1 = decode(ether(first, type: 0x86DD))
        #expect(p1.isFragment && p1.hasTransport && p1.destinationPort == 5353)
        let later = Frames.ipv6(source: v6a, destination: v6b, nextHeader: 17, payload: [UInt8](repeating: 0xEE, count: 16),
                                extensions: [Frames.ipv6FragmentHeader(offset: 1232, more: false, identification: 9)])
        let p2 = decode(ether(later, type: 0x86DD))
        #expect(p2.isFragment && p2.fragmentOffset == 1232 && !p2.hasTransport && p2.ipProtocol == .udp)
    }

    @Test func ipv6Anomalies() {
        let tooMany = Frames.ipv6(source: v6a, destination: v6b, nextHeader: 6, payload: tcpSegment(v6a, v6b),
                                  extensions: (0..<10).map { _ in Frames.ipv6OptionsHeader(type: 60) })
        #expect(decode(ether(tooMany, type: 0x86DD)).anomaly == .ipv6TooManyExtensions)
        // A hop-by-hop header that claims 48 bytes inside an 8-byte payload.
        let overlong = Frames.ipv6(source: v6a, destination: v6b, nextHeader: 6, payload: [], extensions: [(0, [0, 5, 1, 4, 0, 0, 0, 0])])
        #expect(decode(ether(overlong, type: 0x86DD)).anomaly == .ipv6ExtensionTruncated)
        let cut = Frames.ipv6(source: v6a, destination: v6b, nextHeader: 6, payload: [], extensions: [Frames.ipv6OptionsHeader(type: 0)])
        #expect(decode(ether(Array(cut.prefix(41)), type: 0x86DD)).anomaly == .ipv6Truncated, "cut by the snapshot length first")
        var bad = Frames.ipv6(source: v6a, destination: v6b, nextHeader: 6, payload: tcpSegment(v6a, v6b))
        bad[0] = 0x40
        #expect(decode(ether(bad, type: 0x86DD)).anomaly == .ipv6BadVersion)
        #expect(decode(ether(Array(bad.prefix(39)), type: 0x86DD)).anomaly == .ipv6Truncated)
    }

    @Test func ipv6NoNextHeader() {
        let p = decode(ether(Frames.ipv6(source: v6a, destination: v6b, nextHeader: 59, payload: []), type: 0x86DD))
        #expect(p.ipProtocol.rawValue == 59 && !p.hasTransport && p.anomaly == nil)
    }
}

@Suite("TCP, UDP, ICMP")
struct TransportTests {
    @Test func tcpFieldsAndOptions() {
        let seg = Frames.tcp(source: v4a, destination: v4b, sourcePort: 5, destinationPort: 6, sequence: 0xDEAD_BEEF, acknowledgement: 7,
                             flags: 0x12, payload: [1, 2], options: [2, 4, 5, 0xB4])
        let p = decode(ether(Frames.ipv4(source: v4a, destination: v4b, proto: 6, payload: seg)))
        #expect(p.tcpSequence == 0xDEAD_BEEF && p.tcpAcknowledgement == 7 && p.tcpFlags == 0x12)
        #expect(p.payloadOffset == 14 + 20 + 24 && p.payloadLength == 2)
    }

    @Test func tcpBadDataOffsetAndTruncation() {
        var seg = tcpSegment()
        seg[12] = 0x40  // 16 bytes
        #expect(decode(ether(Frames.ipv4(source: v4a, destination: v4b, proto: 6, payload: seg))).anomaly == .tcpBadDataOffset)
        #expect(decode(ether(Frames.ipv4(source: v4a, destination: v4b, proto: 6, payload: Array(tcpSegment().prefix(19))))).anomaly == .tcpTruncated)
        var long = tcpSegment()
        long[12] = 0xF0  // 60-byte header in a 20-byte segment
        let p = decode(ether(Frames.ipv4(source: v4a, destination: v4b, proto: 6, payload: long)))
        #expect(p.anomaly == .tcpTruncated && p.hasTransport && p.payloadLength == 0)
    }

    @Test func udpLengthEndsPayload() {
        var udp = Frames.udp(source: v4a, destination: v4b, sourcePort: 1, destinationPort: 2, payload: [1, 2, 3, 4])
        udp[5] = 10  // claims 2 payload bytes
        let p = decode(ether(Frames.ipv4(source: v4a, destination: v4b, proto: 17, payload: udp)))
        #expect(p.payloadLength == 2)
        udp[5] = 4
        #expect(decode(ether(Frames.ipv4(source: v4a, destination: v4b, proto: 17, payload: udp))).anomaly == .udpBadLength)
        #expect(decode(ether(Frames.ipv4(source: v4a, destination: v4b, proto: 17, payload: [0, 1, 0, 2]))).anomaly == .udpTruncated)
    }

    @Test func icmpAndICMPv6() {
        let p = decode(ether(Frames.ipv4(source: v4a, destination: v4b, proto: 1, payload: Frames.icmp(type: 8, code: 0, rest: 0x0001_0001))))
        #expect(p.hasTransport && p.icmpType == 8 && p.icmpCode == 0)
        let q = decode(ether(Frames.ipv6(source: v6a, destination: v6b, nextHeader: 58, payload: Frames.icmp(type: 135, code: 0, v6: true, source: v6a, destination: v6b)), type: 0x86DD))
        #expect(q.icmpType == 135 && q.ipProtocol == .icmpv6)
        #expect(decode(ether(Frames.ipv4(source: v4a, destination: v4b, proto: 1, payload: [8, 0]))).anomaly == .icmpTruncated)
        #expect(decode(ether(Frames.ipv6(source: v6a, destination: v6b, nextHeader: 58, payload: [128]), type: 0x86DD)).anomaly == .icmpv6Truncated)
    }
}
