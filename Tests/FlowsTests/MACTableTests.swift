import Decode
import Testing
import Vocabulary
@testable import Flows

@Suite("MAC table")
struct MACTableTests {
    @Test func remembersZonesOncePerZone() {
        let table = MACTable(capacity: 1024)
        let mac = MACAddress("02:00:00:00:00:01")!
        let e = table.entry(mac, now: 1)
        #expect(MACTable.add(3, segment: Segment(vlan: 10), address: IPAddress(ipv4: 0x0A0A_0005), to: e))
        #expect(!MACTable.add(3, segment: Segment(vlan: 11), address: .zero, to: e), "a zone is kept with the first frame that showed it")
        #expect(MACTable.add(4, segment: Segment(vni: 5000, hasVNI: true), address: .zero, to: e))
        let again = table.entry(mac, now: 2)
        #expect(again == e && again.pointee.zoneCount == 2)
        #expect(MACTable.segmentText(again.pointee.segments[0]) == "VLAN 10" && MACTable.segmentText(again.pointee.segments[1]) == "VNI 5000")
        for zone in 5..<10 { MACTable.add(UInt16(zone), segment: Segment(), address: .zero, to: again) }
        #expect(again.pointee.zoneCount == UInt8(MACTable.zoneSlots))
    }

    /// A million MACs through a table of 4096: it never grows, and the most
    /// recently seen of each bucket survive.
    @Test func boundedUnderChurn() {
        let table = MACTable(capacity: 4096)
        #expect(table.capacity == 4096)
        #expect(MemoryLayout<MACTable.Entry>.stride == 112 && MemoryLayout<MACTable.Slot>.stride == 16, "128 bytes per MAC, as documented")
        for i in 0..<1_000_000 {
            let e = table.entry(MACAddress(rawValue: 0x0200_0000_0000 | UInt64(i)), now: UInt64(i))
            if i % 2 == 0 { MACTable.add(1, segment: Segment(vlan: 10), address: .zero, to: e) }
        }
        #expect(table.count == 4096)
        #expect(table.evictions == 1_000_000 - 4096)
        // The newest MAC is there with nothing learnt yet; seeing it again finds the same entry.
        let newest = MACAddress(rawValue: 0x0200_0000_0000 | 999_999)
        let e = table.entry(newest, now: 2_000_000)
        #expect(e.pointee.mac == newest && e.pointee.zoneCount == 0 && table.evictions == 1_000_000 - 4096)
    }
}
