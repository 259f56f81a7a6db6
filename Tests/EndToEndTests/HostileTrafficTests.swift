import Alerting
import CaptureBuilder
import Decode
import Foundation
import Sensor
import Testing
import Vocabulary
import Zones

/// A TCP conversation written segment by segment, so that other traffic can
/// come between its parts.
struct Conversation {
    let client: CaptureBuilder.Host, server: CaptureBuilder.Host
    let clientPort: UInt16, serverPort: UInt16
    let wire: Wire
    var clientSeq: UInt32 = 1000, serverSeq: UInt32 = 50000

    mutating func send(_ s: CaptureScript, fromClient: Bool, flags: UInt8 = TCPFlags.psh | TCPFlags.ack, _ payload: [UInt8] = []) {
        let (from, to, sp, dp) = fromClient ? (client, server, clientPort, serverPort) : (server, client, serverPort, clientPort)
        let seq = fromClient ? clientSeq : serverSeq
        let ack = fromClient ? serverSeq : clientSeq
        let t = Frames.tcp(source: from.ip, destination: to.ip, sourcePort: sp, destinationPort: dp, sequence: seq,
                           acknowledgement: flags & TCPFlags.ack != 0 ? ack : 0, flags: flags, payload: payload)
        s.append(s.ipPacket(from: from, to: to, proto: 6, transport: t, wire: wire))
        let used = UInt32(payload.count) + (flags & (TCPFlags.syn | TCPFlags.fin) != 0 ? 1 : 0)
        if fromClient { clientSeq &+= used } else { serverSeq &+= used }
    }

    mutating func open(_ s: CaptureScript) {
        send(s, fromClient: true, flags: TCPFlags.syn)
        send(s, fromClient: false, flags: TCPFlags.syn | TCPFlags.ack)
        send(s, fromClient: true, flags: TCPFlags.ack)
    }
}

/// Analyses a script's packets in this process with a configuration.
func analyze(_ script: CaptureScript, yaml: String) throws -> AnalysisResult {
    let path = temporaryDirectory().appendingPathComponent("hostile.pcap").path
    try script.write(to: path)
    return try analyze(config: ZoneConfig.parse(yaml: yaml, file: "hostile.yaml"), [path])
}

let smallTableConfig = """
    zones:
      mgmt:  { role: management, vlans: [10], subnets: [10.10.0.0/16] }
      admin: { role: admin, vlans: [15], subnets: [10.99.0.0/24] }
      internet: { role: external, subnets: [172.16.0.0/12] }
    sensor:
      max_flows: 1024
    """

@Suite("Hostile traffic")
struct HostileTrafficTests {
    /// 20,000 spoofed mid-stream ACKs with distinct 4-tuples in the middle of a
    /// telnet login on a table of 1,024 flows: the flood never completed a
    /// handshake and goes first; the login in progress stays and its password,
    /// which follows the flood, is reported.
    @Test func anACKFloodDoesNotEvictALoginInProgress() throws {
        let s = CaptureScript()
        var telnet = Conversation(client: Lab.adminWorkstation, server: Lab.esxi1, clientPort: 45000, serverPort: 23, wire: Lab.mgmtVLAN)
        telnet.open(s)
        telnet.send(s, fromClient: false, Array("esxi1 login: ".utf8))
        telnet.send(s, fromClient: true, Array("root\r\n".utf8))
        telnet.send(s, fromClient: false, Array("root\r\nPassword: ".utf8))
        for i in 0..<20_000 {
            let spoofed = CaptureBuilder.Host(mac: MACAddress(rawValue: 0x0200_0000_0000 | UInt64(i)), ip: IPAddress(ipv4: 0xAC10_0000 | UInt32(i)))
            let t = Frames.tcp(source: spoofed.ip, destination: Lab.esxi2.ip, sourcePort: UInt16(1024 + i % 60000), destinationPort: 9999,
                               sequence: UInt32(i) &* 7919, acknowledgement: 1, flags: TCPFlags.ack)
            s.append(s.ipPacket(from: spoofed, to: Lab.esxi2, proto: 6, transport: t, wire: Lab.mgmtVLAN))
        }
        telnet.send(s, fromClient: true, Array("Flood-Proof-9\r\n".utf8))
        telnet.send(s, fromClient: false, Array("\r\nLast login: Fri Dec  4 10:00:00 2026\r\nroot@esxi1:~# ".utf8))
        let result = try analyze(s, yaml: smallTableConfig)
        let login = try #require(result.alerts.first { $0.sid == 2001 })
        #expect(login.evidence("user")?.stringValue == "root" && login.evidence("credential")?.stringValue == "redacted (13 chars)")
        #expect(login.evidence("login")?.stringValue == "succeeded")
        let flows = result.pipeline.flows.statistics
        #expect(flows.evicted >= 18_000 && flows.evictedInspected == 0, "\(flows)")
    }

    /// When every candidate is a login in progress, one of them must go: it is
    /// counted (flow.evicted_inspected) and the summary says so.
    @Test func evictingAnInspectedFlowIsCounted() throws {
        let s = CaptureScript()
        for i in 0..<2_000 {
            var c = Conversation(client: Lab.adminWorkstation, server: CaptureBuilder.Host(mac: Lab.esxi1.mac, ip: IPAddress(ipv4: 0x0A0A_0000 | UInt32(i + 1))),
                                 clientPort: UInt16(20_000 + i), serverPort: 23, wire: Lab.mgmtVLAN)
            c.open(s)
            c.send(s, fromClient: false, Array("login: ".utf8))
        }
        let result = try analyze(s, yaml: smallTableConfig)
        #expect(result.pipeline.flows.statistics.evictedInspected > 0)
        #expect(Summary.render(pipeline: result.pipeline, files: 1, failedFiles: 0).contains("while inspected (flow.evicted_inspected)"))
    }

    /// A VXLAN sweep over 5,000 undeclared VNIs: each is reported once, none
    /// is forgotten or reported twice, however many come.
    @Test func manyUndeclaredVNIsAreEachReportedOnce() throws {
        let s = CaptureScript()
        let vtep1 = CaptureBuilder.Host("10.10.0.21"), vtep2 = CaptureBuilder.Host("10.10.0.22")
        let a = CaptureBuilder.Host("192.168.200.1"), b = CaptureBuilder.Host("192.168.200.2")
        for round in 0..<2 {
            for i in 0..<5_000 {
                let wire = Wire(tunnel: .vxlan(vni: UInt32(100_000 + i * 3_301), from: vtep1, to: vtep2, tags: []))
                s.udp(client: a, clientPort: UInt16(30_000 + round), server: b, serverPort: 53, wire: wire, request: [1, 2, 3, 4])
            }
        }
        let result = try analyze(s, yaml: smallTableConfig)
        let reported = result.alerts.filter { $0.sid == 5002 }.compactMap { $0.evidence("vni")?.plainText }
        #expect(reported.count == 5_000 && Set(reported).count == 5_000, "\(reported.count)")
        let sent: Set<String> = Set((0..<5_000).map { (i: Int) -> String in String(100_000 + i * 3_301) })
        #expect(Set(reported) == sent)
    }
}

/// The benchmark's traffic mixes are what `scripts/bench` says they are.
@Suite("Benchmark mixes")
struct BenchmarkMixTests {
    func run(_ mix: BenchmarkCapture.Mix, packets: Int = 20_000) throws -> (AnalysisResult, Int) {
        let path = temporaryDirectory().appendingPathComponent("\(mix.rawValue).pcap").path
        let written = try BenchmarkCapture.write(path: path, packets: packets, flows: 500, seed: 7, mix: mix)
        return (try analyze(configPath: "config/example.yaml", [path]), written.packets)
    }

    @Test func inspectMixOpensEveryTCPFlowWithAnInspectedProtocol() throws {
        let path = temporaryDirectory().appendingPathComponent("inspect.pcap").path
        _ = try BenchmarkCapture.write(path: path, packets: 20_000, flows: 500, seed: 7, mix: .inspect)
        let zones = ZoneMap(try ZoneConfig.load(path: repoPath("config/example.yaml")))
        let pipeline = try Pipeline(zones: zones, alerts: AlertStage(sinks: [], throttle: AlertThrottle(windowSeconds: 0)))
        nonisolated(unsafe) var tcp = 0, recognised = 0
        nonisolated(unsafe) var missed: [UInt16: Int] = [:]
        pipeline.onFlowEnd = { record, _ in
            // Flows the capture opened (not those cut off mid-stream by its end) that carried data both ways.
            // TLS is judged only towards management services, and no inspector reads MySQL yet:
            // those openings go through every recognizer and are left alone, as on a real network.
            guard record.key.protocolNumber == 6, record.bytesFromInitiator > 0, record.bytesFromResponder > 0,
                  ![443, 3306].contains(record.responderPort) else { return }
            tcp += 1
            if record.appProtocol != 0 { recognised += 1 } else { missed[record.responderPort, default: 0] += 1 }
        }
        #expect(OfflineAnalysis(pipeline: pipeline, filter: nil).run(path: path) == nil)
        pipeline.finish()
        pipeline.flows.removeAll()
        #expect(tcp > 300 && recognised * 100 >= tcp * 97, "\(recognised) of \(tcp) TCP flows recognised; not by server port: \(missed.sorted { $0.key < $1.key })")
    }

    @Test func alertMixHasSeveralFindingsPerThousandPacketsFromManyHosts() throws {
        let (result, packets) = try run(.alerts)
        #expect(result.alerts.count * 1000 >= 4 * packets, "\(result.alerts.count) alerts in \(packets) packets")
        #expect(Set(result.alerts.compactMap(\.sourceIP)).count > 100)
    }

    @Test func stormMakesAnAlertEveryFewPackets() throws {
        let (result, packets) = try run(.storm)
        #expect(result.alerts.filter { $0.sid == 1001 }.count * 6 >= packets * 9 / 10)
    }
}
