import CaptureBuilder
import Decode
import Testing

@Suite("VLAN tags and MPLS")
struct VLANAndMPLSTests {
    @Test func singleTag() {
        let p = decode(ether(ipv4TCP(), tags: [Frames.dot1q(123, priority: 7)]))
        #expect(p.vlans.ids == [123])
        #expect(p.vlans[0].priority == 7 && p.vlans[0].tpid == 0x8100)
        #expect(p.segment == Segment(vlan: 123))
    }

    @Test(arguments: [
        [Frames.dot1ad(200), Frames.dot1q(100)],
        [VLANTag(tpid: 0x9100, tci: 300), Frames.dot1q(10)],
        [Frames.dot1q(13), Frames.dot1q(10)],
        [Frames.dot1q(30), Frames.dot1q(20), Frames.dot1q(10)],
    ])
    func stacks(tags: [VLANTag]) {
        let p = decode(ether(ipv4TCP(), tags: tags))
        #expect(p.vlans.ids == tags.map(\.id))
        #expect((0..<p.vlans.count).map { p.vlans[$0].tpid } == tags.map(\.tpid))
        #expect(p.segment.vlan == tags.last!.id, "the segment is the innermost tag")
        #expect(p.network == .ipv4 && p.anomaly == nil)
    }

    @Test func priorityOnlyTagIsNoSegment() {
        let p = decode(ether(ipv4TCP(), tags: [Frames.dot1q(0, priority: 5)]))
        #expect(p.vlans.count == 1 && p.segment.vlan == 0)
    }

    @Test func stackDeeperThanCapacityIsAnAnomaly() {
        let tags = (1...9).map { Frames.dot1q(UInt16($0)) }
        let p = decode(ether(ipv4TCP(), tags: tags))
        #expect(p.anomaly == .vlanTooManyTags)
        #expect(p.vlans.count == VLANStack.capacity)
        #expect(p.network == .none)
    }

    @Test func truncatedTag() {
        let frame = Frames.mac(macB) + Frames.mac(macA) + [0x81, 0x00, 0x00]
        #expect(decode(frame).anomaly == .vlanTruncated)
    }

    @Test func mplsLabelsThenIPv4() {
        let p = decode(ether(Frames.mpls(labels: [254, 99], payload: ipv4TCP()), type: 0x8847, tags: [Frames.dot1q(3399)]))
        #expect(p.mplsLabelList == [254, 99])
        #expect(p.vlans.ids == [3399] && p.network == .ipv4 && p.destinationPort == 443)
    }

    @Test func mplsPseudowireEthernet() {
        let inner = ether(ipv4TCP(), tags: [Frames.dot1q(44)])
        let p = decode(ether(Frames.mpls(labels: [16106], payload: [0, 0, 0, 0] + inner), type: 0x8847))
        #expect(p.mplsLabelList == [16106])
        #expect(p.vlans.ids == [44] && p.network == .ipv4)
    }

    @Test func mplsAnomalies() {
        #expect(decode(ether([0, 0, 0x11], type: 0x8847)).anomaly == .mplsTruncated)
        let nine = (0..<9).flatMap { _ in Frames.be32(100 << 12 | 64) }
        #expect(decode(ether(nine, type: 0x8847)).anomaly == .mplsTooManyLabels)
        #expect(decode(ether(Frames.mpls(labels: [5], payload: [0x90, 0, 0, 0]), type: 0x8847)).anomaly == .mplsUnknownPayload)
    }
}
