import CaptureBuilder
import Decode
import Testing

@Suite("Link layers")
struct LinkLayerTests {
    @Test func ethernetIPv4TCP() {
        let p = decode(ether(ipv4TCP(payload: [1, 2, 3])))
        #expect(p.anomaly == nil)
        #expect(p.hasMACs && p.sourceMAC == macA && p.destinationMAC == macB)
        #expect(p.network == .ipv4 && p.source == v4a && p.destination == v4b)
        #expect(p.ipProtocol == .tcp && p.hasTransport)
        #expect(p.sourcePort == 40000 && p.destinationPort == 443)
        #expect(p.payloadLength == 3 && p.payloadOffset == 14 + 20 + 20)
    }

    @Test func ethernetTruncated() {
        #expect(decode([UInt8](repeating: 0, count: 13)).anomaly == .ethernetTruncated)
        #expect(decode([]).anomaly == .ethernetTruncated)
    }

    @Test func ethernetPaddingIsNotPayload() {
        // A 60-byte minimum frame: the IP total length ends the payload before the padding.
        var frame = ether(Frames.ipv4(source: v4a, destination: v4b, proto: 17, payload: Frames.udp(source: v4a, destination: v4b, sourcePort: 1, destinationPort: 2, payload: [9])))
        frame += [UInt8](repeating: 0, count: 60 - frame.count)
        let p = decode(frame)
        #expect(p.anomaly == nil)
        #expect(p.payloadLength == 1)
    }

    @Test func llcSnapCarriesIPv4() {
        let ip = ipv4TCP()
        let snap: [UInt8] = [0xAA, 0xAA, 0x03, 0, 0, 0] + Frames.be16(0x0800) + ip
        var frame = Frames.mac(macB) + Frames.mac(macA) + Frames.be16(UInt16(snap.count))
        frame += snap
        let p = decode(frame)
        #expect(p.network == .ipv4 && p.destinationPort == 443)
    }

    @Test func llcWithoutSnapIsOtherEthernet() {
        let llc: [UInt8] = [0x42, 0x42, 0x03, 0, 0, 0]  // spanning tree
        let frame = Frames.mac(macB) + Frames.mac(macA) + Frames.be16(UInt16(llc.count)) + llc
        let p = decode(frame)
        #expect(p.network == .otherEthernet && p.anomaly == nil)
    }

    @Test func linuxSLL() {
        let p = decode(Frames.linuxSLL(source: macA, protocolType: 0x0800, payload: ipv4TCP()), link: .linuxSLL)
        #expect(p.sourceMAC == macA && p.network == .ipv4 && p.destinationPort == 443)
        #expect(decode([UInt8](repeating: 0, count: 15), link: .linuxSLL).anomaly == .sllTruncated)
    }

    /// A packet decoded into memory that held a frame with MACs (a live
    /// capture reuses it): a cooked capture's packet has the sender's
    /// address only, never the last frame's destination.
    @Test func linuxSLLKeepsNoMACOfTheFrameBefore() {
        var p = DecodedPacket()
        let decoder = PacketDecoder()
        for (bytes, link) in [(Frames.mac(macB) + Frames.mac(macA) + Frames.be16(0x0800) + ipv4TCP(), LinkLayer.ethernet),
                              (Frames.linuxSLL(source: macA, protocolType: 0x0800, payload: ipv4TCP()), .linuxSLL)] {
            p.reset(timestamp: 1, capturedLength: bytes.count, wireLength: bytes.count)
            bytes.withUnsafeBytes { decoder.decode(ByteView(base: $0.baseAddress!, count: $0.count), link: link, into: &p) }
        }
        #expect(p.sourceMAC == macA && p.destinationMAC == .zero, "\(p.destinationMAC)")
    }

    @Test func linuxSLLWithVLANTag() {
        let tagged = Frames.be16(0x0064) + Frames.be16(0x0800) + ipv4TCP()
        let p = decode(Frames.linuxSLL(source: macA, protocolType: 0x8100, payload: tagged), link: .linuxSLL)
        #expect(p.vlans.ids == [100] && p.network == .ipv4)
    }

    @Test func linuxSLL2() {
        let p = decode(Frames.linuxSLL2(source: macA, protocolType: 0x86DD, payload: Frames.ipv6(source: v6a, destination: v6b, nextHeader: 6, payload: tcpSegment(v6a, v6b))), link: .linuxSLL2)
        #expect(p.sourceMAC == macA && p.network == .ipv6 && p.source == v6a && p.destinationPort == 443)
        #expect(decode([UInt8](repeating: 0, count: 19), link: .linuxSLL2).anomaly == .sll2Truncated)
    }

    @Test(arguments: [(UInt32(2), NetworkKind.ipv4), (10, .ipv6), (24, .ipv6), (28, .ipv6), (30, .ipv6)])
    func nullLoopbackFamilies(family: UInt32, kind: NetworkKind) {
        let payload = kind == .ipv4 ? ipv4TCP() : Frames.ipv6(source: v6a, destination: v6b, nextHeader: 6, payload: tcpSegment(v6a, v6b))
        #expect(decode(Frames.null(family: family, payload: payload), link: .null).network == kind)
        // Written on a big-endian host.
        let bigEndian = Frames.be32(family) + payload
        #expect(decode(bigEndian, link: .null).network == kind)
    }

    @Test func nullUnknownFamilyAndTruncation() {
        #expect(decode(Frames.null(family: 99, payload: ipv4TCP()), link: .null).anomaly == .nullUnknownFamily)
        #expect(decode([2, 0, 0], link: .null).anomaly == .nullTruncated)
    }

    @Test func openBSDLoopIsNetworkOrder() {
        #expect(decode(Frames.be32(2) + ipv4TCP(), link: .loop).network == .ipv4)
    }

    @Test func rawIP() {
        #expect(decode(ipv4TCP(), link: .rawIP).destinationPort == 443)
        #expect(decode(Frames.ipv6(source: v6a, destination: v6b, nextHeader: 17, payload: Frames.udp(source: v6a, destination: v6b, sourcePort: 5, destinationPort: 53, payload: [])), link: .rawIP).destinationPort == 53)
        #expect(decode([0x50, 0, 0, 0], link: .rawIP).anomaly == .rawUnknownVersion)
    }

    @Test func arp() {
        let p = decode(ether(Frames.arp(operation: 1, senderMAC: macA, senderIP: v4a, targetMAC: .zero, targetIP: v4b), type: 0x0806))
        #expect(p.network == .arp && p.arpOperation == 1)
        #expect(p.arpSenderMAC == macA && p.arpSenderIP == v4a && p.arpTargetIP == v4b)
        let short = ether(Array(Frames.arp(operation: 2, senderMAC: macA, senderIP: v4a, targetMAC: macB, targetIP: v4b).prefix(20)), type: 0x0806)
        #expect(decode(short).anomaly == .arpTruncated)
    }

    @Test(arguments: [UInt16(0x8906), 0x8914, 0x88A2])
    func storageEtherTypesAreRecognised(type: UInt16) {
        let p = decode(ether([UInt8](repeating: 0x11, count: 40), type: type, tags: [Frames.dot1q(20)]))
        #expect(p.network == .otherEthernet && p.etherType.rawValue == type && p.vlans.ids == [20])
        #expect(p.anomaly == nil)
    }

    @Test func pppoeSession() {
        let p = decode(ether(Frames.pppoeSession(sessionID: 7, payload: ipv4TCP()), type: 0x8864))
        #expect(p.viaPPPoE && p.network == .ipv4 && p.destinationPort == 443)
        #expect(decode(ether([0x11, 0, 0, 7], type: 0x8864)).anomaly == .pppoeTruncated)
    }
}
