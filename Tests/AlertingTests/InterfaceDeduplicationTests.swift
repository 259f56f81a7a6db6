import Alerting
import Detect
import Testing
import Vocabulary

/// One finding seen on several interfaces is written once, naming them all; nothing is lost.
@Suite struct InterfaceDeduplicationTests {
    private func alert(_ timestamp: UInt64, sid: Int = 2001) -> Alert {
        var a = sampleAlert()
        a.timestamp = timestamp
        a.sid = sid
        return a
    }
    private let key = FindingKey(sid: 2001, first: IPAddress(ipv4: 0x0A00_0001), second: IPAddress(ipv4: 0x0A00_0002), detail: 23)
    private func seenOn(_ a: Alert) -> String? {
        a.evidence.first { $0.0 == "seen_on" }.flatMap { if case .text(let t) = $0.1 { return t } else { return nil } }
    }

    @Test func copiesWithinTheWindowAreOneAlertNamingEveryInterface() {
        let d = InterfaceDeduplication(holdSeconds: 1)
        #expect(d.offer(alert(1_000), key: key, interface: "br0", now: 10) == nil)
        #expect(d.offer(alert(1_500), key: key, interface: "vport", now: 10.1) == nil)
        #expect(d.offer(alert(2_000), key: key, interface: "eth2", now: 10.2) == nil)
        #expect(d.release(now: 10.5).isEmpty, "held for the hold")
        let out = d.release(now: 11)
        #expect(out.count == 1 && seenOn(out[0]) == "br0,vport,eth2" && out[0].timestamp == 1_000)
        // A late copy of a written finding is still a copy.
        #expect(d.offer(alert(3_000), key: key, interface: "eth3", now: 11.2) == nil)
        #expect(d.release(now: 11.3).isEmpty && d.duplicates == 3)
    }

    /// Each interface's counts only go up: the one that holds the alert counts it
    /// written at once (whichever capture thread writes it at the release), the
    /// other's copy counts as suppressed; the release changes no count.
    @Test func countsPerInterfaceNeverStepBack() throws {
        let d = InterfaceDeduplication(holdSeconds: 60)
        let out = try FileOutput(path: "/dev/null", append: true)
        func stage(_ name: String) -> AlertStage {
            let s = AlertStage(sinks: [LineSink(output: out, format: .eve, context: context)], throttle: AlertThrottle(windowSeconds: 0))
            s.interfaceName = name
            s.interfaceDeduplication = d
            return s
        }
        let rx = stage("rx"), tx = stage("tx")
        rx.take(sampleDetection(), zones: sampleZones)
        tx.take(sampleDetection(), zones: sampleZones)
        #expect(rx.detectedBySID[2001] == 1 && rx.writtenBySID[2001] == 1, "held, counted written")
        #expect(tx.detectedBySID[2001] == 1 && tx.writtenBySID[2001] == nil, "a copy: suppressed")
        tx.releaseHeld(all: true)
        #expect(rx.writtenBySID[2001] == 1 && tx.writtenBySID[2001] == nil && rx.alertsWritten + tx.alertsWritten == 1)
    }

    @Test func oneInterfaceAloneIsWrittenWithoutSeenOn() {
        let d = InterfaceDeduplication(holdSeconds: 1)
        #expect(d.offer(alert(1_000), key: key, interface: "br0", now: 0) == nil)
        let out = d.release(now: 0, all: true)
        #expect(out.count == 1 && seenOn(out[0]) == nil)
    }

    @Test func nothingIsLost() {
        let d = InterfaceDeduplication(holdSeconds: 1, windowNanoseconds: 1_000)
        // The same interface finding it again within the window: a new finding, written at once.
        #expect(d.offer(alert(100), key: key, interface: "br0", now: 0) == nil)
        #expect(d.offer(alert(200), key: key, interface: "br0", now: 0)?.timestamp == 200)
        // Outside the window while the first is still held: both are written, in order.
        #expect(d.offer(alert(5_000), key: key, interface: "vport", now: 0.1) == nil)
        let out = d.release(now: 2)
        #expect(out.map(\.timestamp) == [100, 5_000] && d.duplicates == 0)
        // Other findings (another rule) are never merged.
        #expect(d.offer(alert(6_000, sid: 1001), key: FindingKey(sid: 1001), interface: "br0", now: 3) == nil)
        #expect(d.offer(alert(6_000), key: FindingKey(sid: 2001, detail: 21), interface: "vport", now: 3) == nil)
        #expect(d.release(now: 0, all: true).count == 2)
    }
}
