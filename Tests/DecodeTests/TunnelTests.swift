import CaptureBuilder
import Decode
import Testing
import Vocabulary

let vtepA = IPAddress("10.40.0.11")!
let vtepB = IPAddress("10.40.0.12")!
let innerA = IPAddress("192.168.100.10")!
let innerB = IPAddress("192.168.100.11")!

func underlayUDP(port: UInt16, _ payload: [UInt8], tags: [VLANTag] = [Frames.dot1q(40)]) -> [UInt8] {
    ether(Frames.ipv4(source: vtepA, destination: vtepB, proto: 17, payload: Frames.udp(source: vtepA, destination: vtepB, sourcePort: 55555, destinationPort: port, payload: payload)), tags: tags)
}

func innerFrame(tags: [VLANTag] = []) -> [UInt8] {
    Frames.ethernet(source: MACAddress(rawValue: 0x0200_0000_1111), destination: MACAddress(rawValue: 0x0200_0000_2222), tags: tags, etherType: 0x0800,
                    payload: ipv4TCP(innerA, innerB, dport: 5432))
}

func underlayGRE(_ gre: [UInt8]) -> [UInt8] {
    ether(Frames.ipv4(source: vtepA, destination: vtepB, proto: 47, payload: gre))
}

@Suite("Tunnels")
struct TunnelTests {
    @Test func vxlan() {
        let p = decode(underlayUDP(port: 4789, Frames.vxlan(vni: 5000, inner: innerFrame())))
        #expect(p.tunnels.count == 1)
        let t = p.tunnels[0]
        #expect(t.kind == .vxlan && t.virtualNetworkID == 5000)
        #expect(t.outerSource == vtepA && t.outerDestination == vtepB)
        #expect(p.source == innerA && p.destination == innerB && p.destinationPort == 5432)
        #expect(p.sourceMAC.rawValue == 0x0200_0000_1111)
        #expect(p.vlans.ids == [40] && p.innerVLANs.isEmpty)
        #expect(p.segment == Segment(vlan: 0, vni: 5000, hasVNI: true))
    }

    /// The MACs belong to the innermost packet when its own frame carried them
    /// (VXLAN, NVGRE, plain frames), not for IP-in-IP or GRE without a frame.
    @Test func macsOfTheInnermostPacket() {
        #expect(decode(underlayUDP(port: 4789, Frames.vxlan(vni: 5000, inner: innerFrame()))).macsFrameInnermostPacket)
        #expect(decode(ether(ipv4TCP(innerA, innerB, dport: 22))).macsFrameInnermostPacket)
        let ipip = decode(ether(Frames.ipv4(source: vtepA, destination: vtepB, proto: 4, payload: Frames.ipv4(source: innerA, destination: innerB, proto: 17,
                                                                                                      payload: Frames.udp(source: innerA, destination: innerB, sourcePort: 1, destinationPort: 2, payload: [])))))
        #expect(ipip.tunnels.count == 1 && ipip.hasMACs && !ipip.macsFrameInnermostPacket)
        let gre = decode(underlayGRE(Frames.gre(protocolType: 0x0800, payload: ipv4TCP(innerA, innerB, dport: 22))))
        #expect(gre.tunnels.count == 1 && !gre.macsFrameInnermostPacket)
        #expect(decode(underlayGRE(Frames.gre(protocolType: 0x6558, key: 5000 << 8, payload: innerFrame()))).macsFrameInnermostPacket)
    }

    @Test func vxlanInnerTagIsTheSegment() {
        let p = decode(underlayUDP(port: 4789, Frames.vxlan(vni: 5000, inner: innerFrame(tags: [Frames.dot1q(101)]))))
        #expect(p.innerVLANs.ids == [101] && p.segment.vlan == 101 && p.segment.vni == 5000)
        #expect(p.reportedVLANs == [40, 101])
    }

    @Test func vxlanLinuxPortAndBadFlags() {
        #expect(decode(underlayUDP(port: 8472, Frames.vxlan(vni: 7, inner: innerFrame()))).tunnels.count == 1)
        var notVXLAN = Frames.vxlan(vni: 7, inner: innerFrame())
        notVXLAN[0] = 0
        let plain = decode(underlayUDP(port: 4789, notVXLAN))
        #expect(plain.anomaly == nil && plain.tunnels.isEmpty && plain.destinationPort == 4789, "not a VXLAN header: plain UDP")
        #expect(decode(underlayUDP(port: 4789, [8, 0, 0])).anomaly == .vxlanTruncated)
    }

    @Test func geneveWithOptions() {
        let p = decode(underlayUDP(port: 6081, Frames.geneve(vni: 0, optionWords: 2, inner: innerFrame())))
        #expect(p.tunnels[0].kind == .geneve && p.tunnels[0].virtualNetworkID == 0)
        #expect(p.destinationPort == 5432)
        let ipInside = Frames.geneve(vni: 9, protocolType: 0x0800, inner: ipv4TCP(innerA, innerB))
        #expect(decode(underlayUDP(port: 6081, ipInside)).destination == innerB)
        var otherVersion = Frames.geneve(vni: 9, inner: innerFrame())
        otherVersion[0] = 0x40
        let plain = decode(underlayUDP(port: 6081, otherVersion))
        #expect(plain.anomaly == nil && plain.tunnels.isEmpty, "another Geneve version is left as plain UDP")
        let cut = Frames.geneve(vni: 9, optionWords: 4, inner: [])
        #expect(decode(underlayUDP(port: 6081, Array(cut.prefix(12)))).anomaly == .geneveTruncated)
    }

    @Test func greIPv4WithKeyAndChecksum() {
        let p = decode(underlayGRE(Frames.gre(protocolType: 0x0800, key: 42, sequence: 5, checksum: true, payload: ipv4TCP(innerA, innerB, dport: 5432))))
        #expect(p.tunnels[0].kind == .gre && p.tunnels[0].identifier == 42 && p.tunnels[0].hasIdentifier)
        #expect(p.destination == innerB && p.destinationPort == 5432)
    }

    @Test func greTransparentBridgingAndNVGRE() {
        let teb = decode(underlayGRE(Frames.gre(protocolType: 0x6558, payload: innerFrame())))
        #expect(teb.tunnels[0].kind == .gre && teb.destinationPort == 5432 && teb.segment.hasVNI == false)
        let nvgre = decode(underlayGRE(Frames.gre(protocolType: 0x6558, key: 0x0013_8800 | 0x7F, payload: innerFrame())))
        #expect(nvgre.tunnels[0].kind == .nvgre && nvgre.segment.vni == 0x1388 && nvgre.segment.hasVNI)
    }

    @Test func erspanTypes() {
        let one = decode(underlayGRE(Frames.gre(protocolType: 0x88BE, payload: innerFrame())))
        #expect(one.tunnels[0].kind == .erspan1 && one.destinationPort == 5432)
        let two = decode(underlayGRE(Frames.gre(protocolType: 0x88BE, sequence: 1, payload: Frames.erspan2(vlan: 23, session: 100, inner: innerFrame()))))
        #expect(two.tunnels[0].kind == .erspan2 && two.tunnels[0].identifier == 100 && two.mirrorVLAN == 23)
        #expect(two.segment.vlan == 23 && two.reportedVLANs == [23] && two.destinationPort == 5432)
        for subheader in [false, true] {
            let three = decode(underlayGRE(Frames.gre(protocolType: 0x22EB, sequence: 1, payload: Frames.erspan3(vlan: 20, session: 7, platformSubheader: subheader, inner: innerFrame()))))
            #expect(three.tunnels[0].kind == .erspan3 && three.mirrorVLAN == 20 && three.destinationPort == 5432)
        }
        var badVersion = Frames.erspan2(vlan: 23, session: 100, inner: innerFrame())
        badVersion[0] = 0x30
        #expect(decode(underlayGRE(Frames.gre(protocolType: 0x88BE, sequence: 1, payload: badVersion))).anomaly == .erspanBadVersion)
        #expect(decode(underlayGRE(Frames.gre(protocolType: 0x22EB, payload: [0x20, 0, 0]))).anomaly == .erspanTruncated)
    }

    @Test func greVersions() {
        let pptp: [UInt8] = [0x30, 0x01, 0x88, 0x0B, 0, 4, 0, 1, 0, 0, 0, 1] + [UInt8](repeating: 0, count: 4)
        let p = decode(underlayGRE(pptp))
        #expect(p.tunnels.isEmpty && p.anomaly == nil, "PPTP's enhanced GRE carries PPP and is not followed")
        #expect(decode(underlayGRE([0x00, 0x02, 0x08, 0x00])).anomaly == .greBadVersion)
        #expect(decode(underlayGRE([0x20, 0x00, 0x08, 0x00, 0, 0])).anomaly == .greTruncated)
    }

    @Test func ipInIP() {
        let inner4 = ipv4TCP(innerA, innerB)
        let inner6 = Frames.ipv6(source: v6a, destination: v6b, nextHeader: 6, payload: tcpSegment(v6a, v6b))
        let cases: [([UInt8], TunnelKind)] = [
            (Frames.ipv4(source: vtepA, destination: vtepB, proto: 4, payload: inner4), .ipv4InIPv4),
            (Frames.ipv4(source: vtepA, destination: vtepB, proto: 41, payload: inner6), .ipv6InIPv4),
        ]
        for (packet, kind) in cases {
            let p = decode(ether(packet))
            #expect(p.tunnels.count == 1 && p.tunnels[0].kind == kind && p.tunnels[0].outerSource == vtepA)
            #expect(p.destinationPort == 443 || p.destinationPort == 5432)
        }
        let fourInSix = decode(ether(Frames.ipv6(source: v6a, destination: v6b, nextHeader: 4, payload: inner4), type: 0x86DD))
        #expect(fourInSix.tunnels[0].kind == .ipv4InIPv6 && fourInSix.destination == innerB)
        let sixInSix = decode(ether(Frames.ipv6(source: v6a, destination: v6b, nextHeader: 41, payload: inner6), type: 0x86DD))
        #expect(sixInSix.tunnels[0].kind == .ipv6InIPv6 && sixInSix.destination == v6b)
    }

    @Test func nestingIsBounded() {
        var frame = innerFrame()
        for _ in 0..<6 { frame = underlayUDP(port: 4789, Frames.vxlan(vni: 1, inner: frame), tags: []) }
        let p = decode(frame)
        #expect(p.anomaly == .tunnelTooDeep)
        #expect(p.tunnels.count == EncapsulationStack.capacity)
    }

    @Test func greInsideGRE() {
        let innerGRE = Frames.ipv4(source: IPAddress("10.10.11.2")!, destination: IPAddress("10.10.13.2")!, proto: 47,
                                   payload: Frames.gre(protocolType: 0x0800, payload: ipv4TCP(innerA, innerB)))
        let p = decode(underlayGRE(Frames.gre(protocolType: 0x0800, payload: innerGRE)))
        #expect(p.tunnels.count == 2 && p.tunnels[1].outerSource == IPAddress("10.10.11.2")!)
        #expect(p.destination == innerB)
    }
}
