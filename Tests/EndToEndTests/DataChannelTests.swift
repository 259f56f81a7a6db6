import Alerting
import CaptureBuilder
import Foundation
import Sensor
import Testing
import Zones

/// An FTP session's data connections belong to it: no findings of their own,
/// counted as the session's service in the report.
@Suite("FTP data connections")
struct DataChannelTests {
    /// The real captures (Zeek's FTP traces): passive (PASV, EPSV) and active
    /// (PORT, EPRT) data connections between a guest and a management host.
    /// Before: 7 and 4 alerts (the data connections' 1001 and 6002); now
    /// only the session's.
    @Test(arguments: [("ftp-anonymous-ipv4.pcap", [1001, 2002, 2003, 6002], 4), ("ftp-anonymous-ipv6.pcap", [2002, 2003, 6002], 5)])
    func sharedCapturesGiveTheSessionsFindingsOnce(file: String, sids: [Int], dataConnections: Int) throws {
        let dir = try #require(sharedCaptures, "../shared/captures is missing")
        let path = dir.appendingPathComponent(file).path
        let config = try ZoneConfig.load(path: repoPath("Tests/Data/shared-captures.yaml"))
        let result = try analyze(config: config, [path])
        #expect(result.alerts.map(\.sid).sorted() == sids, "\(result.alerts.map { "\($0.sid) \($0.destinationPort ?? 0)" })")
        #expect(result.alerts.allSatisfy { ($0.destinationPort ?? 21) == 21 }, "only the control connection's findings")
        #expect(result.pipeline.alerts.dataChannels.coveredBySID.values.reduce(0, +) > 0)
        // The report counts the data connections under the session's service.
        let report = try zonewarden(["report", "--format", "json", "-c", repoPath("Tests/Data/shared-captures.yaml"), path])
        let json = try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any]
        let services = (json?["matrix"] as? [[String: Any]] ?? []).flatMap { ($0["services"] as? [[String: Any]]) ?? [] }
        let data = services.filter { $0["service"] as? String == "tcp/21 ftp-data" }.reduce(0) { $0 + ($1["flows"] as? Int ?? 0) }
        #expect(data == dataConnections, "\(services)")
        #expect(!services.contains { ($0["service"] as? String).map { $0.hasPrefix("tcp/") && !$0.hasPrefix("tcp/21") } ?? false }, "\(services)")
    }

    /// A guest's session to a management host with a passive data connection:
    /// one 1001 (the session's). A connection to a port no one announced, or
    /// announced too long before, is judged on its own.
    @Test func onlyAnnouncedConnectionsBelongToTheSession() throws {
        let s = CaptureScript()
        let guest = CaptureBuilder.Host("192.168.100.10"), mgmt = CaptureBuilder.Host("10.10.0.5")
        let dialogue: ProtocolMessages.Dialogue = [(false, Array("220 ready\r\n".utf8)), (true, Array("USER backup\r\n".utf8)), (false, Array("331 Password\r\n".utf8)),
                                    (true, Array("PASS x\r\n".utf8)), (false, Array("230 OK\r\n".utf8)), (true, Array("EPSV\r\n".utf8)),
                                    (false, Array("229 Entering Extended Passive Mode (|||50021|)\r\n".utf8))]
        s.tcp(client: guest, clientPort: 40_000, server: mgmt, serverPort: 21, messages: dialogue, close: false)
        s.tcp(client: guest, clientPort: 40_001, server: mgmt, serverPort: 50_021, messages: [(false, Array(repeating: 0x41, count: 300))])
        // Another port: not announced.
        s.tcp(client: guest, clientPort: 40_002, server: mgmt, serverPort: 50_022, messages: [(false, Array(repeating: 0x41, count: 300))])
        // The announced port again, ten minutes later: the announcement has lapsed.
        s.wait(seconds: 600)
        s.tcp(client: guest, clientPort: 40_003, server: mgmt, serverPort: 50_021, messages: [(false, Array(repeating: 0x41, count: 300))])
        let path = temporaryDirectory().appendingPathComponent("ftp-data.pcap").path
        try s.write(to: path)
        let config = try ZoneConfig.load(path: repoPath("config/example.yaml"))
        let guestAlerts = try analyze(config: config, [path]).alerts.filter { $0.sid == 1001 }.map { Int($0.destinationPort ?? 0) }
        #expect(guestAlerts.sorted() == [21, 50_022, 50_021].sorted(), "\(guestAlerts)")
        for workers in [2, 3] {
            let sharded = try WorkersTests.analyzeSharded(config: config, [path], workers: workers)
            #expect(sharded.alerts.filter { $0.sid == 1001 }.map { Int($0.destinationPort ?? 0) }.sorted() == guestAlerts.sorted())
        }
    }
}
