import Alerting
import CaptureBuilder
import Foundation
import Sensor
import Testing
import Zones

/// The lookahead (decode ahead, prefetch the flow table) and the read-ahead
/// thread (libpcap reads on a second core) must change nothing but speed: the
/// same alerts, in the same order, with the same statistics and errors.
@Suite("Lookahead and read-ahead")
struct LookaheadTests {
    /// Every field a user sees of an alert.
    static func line(_ a: Alert) -> String {
        "\(a.sid) \(a.timestamp) \(a.flowID.map(String.init) ?? "-") \(a.sourceIP?.description ?? "") \(a.destinationIP?.description ?? "") "
            + "\(a.sourcePort ?? 0) \(a.destinationPort ?? 0) \(a.sourceZone ?? "") \(a.destinationZone ?? "") \(a.segmentZone ?? "") "
            + "\(a.vlans) \(a.suppressed) \(a.evidence.map { "\($0.0)=\($0.1)" }.joined(separator: ","))"
    }

    /// One thread, no lookahead, against the lookahead alone, the read-ahead
    /// thread alone and both, with the reader decoding every packet, none (the
    /// analysis decodes), every other one (both kinds in one lookahead queue)
    /// and as it finds time (whichever side is slower).
    static func compare(config: ZoneConfig, _ paths: [String]) throws {
        let direct = try analyze(config: config, paths, lookaheadThreshold: Int.max, readAhead: false)
        let variants: [(Int, Bool, Int?)] = [(0, false, nil), (Int.max, true, 0), (0, true, 0), (0, true, Int.max), (0, true, -1), (0, true, nil)]
        for (lookahead, readAhead, backlog) in variants {
            let other = try analyze(config: config, paths, lookaheadThreshold: lookahead, readAhead: readAhead, readerDecodingBacklog: backlog)
            let variant = "lookahead \(lookahead == 0), read-ahead \(readAhead), reader decodes \(backlog.map(String.init) ?? "by default"), \(paths)"
            #expect(direct.alerts.map(line) == other.alerts.map(line), "\(variant)")
            #expect(direct.errors.map(\.description) == other.errors.map(\.description), "\(variant)")
            let (d, a) = (direct.pipeline, other.pipeline)
            #expect(d.statistics.packets == a.statistics.packets && d.statistics.bytes == a.statistics.bytes, "\(variant)")
            #expect(d.statistics.packetsWithoutFlow == a.statistics.packetsWithoutFlow && d.statistics.anomalies == a.statistics.anomalies, "\(variant)")
            #expect(d.flows.statistics == a.flows.statistics, "\(variant)")
        }
    }

    @Test(arguments: ExampleCaptures.all.map(\.name))
    func exampleCapturesGiveTheSameAlerts(name: String) throws {
        let expected = try CaptureExpectation.load(name)
        try Self.compare(config: ZoneConfig.load(path: repoPath(expected.config)), [repoPath("Captures/\(name).pcap")])
    }

    /// The real captures: odd link types, truncated and corrupt files (the
    /// queue is drained before a read error is reported).
    @Test func sharedCapturesGiveTheSameAlerts() throws {
        let dir = try #require(sharedCaptures, "../shared/captures is missing")
        let files = sharedCaptureFiles
        #expect(files.count > 20)
        let config = try ZoneConfig.load(path: repoPath("config/example.yaml"))
        for file in files { try Self.compare(config: config, [dir.appendingPathComponent(file).path]) }
    }

    /// A benchmark capture with thousands of flows, alerts and inspections,
    /// with the queue switched on part way (at 1,000 flows) as in real use.
    @Test func benchmarkCaptureGivesTheSameAlerts() throws {
        let path = temporaryDirectory().appendingPathComponent("lookahead.pcap").path
        _ = try BenchmarkCapture.write(path: path, packets: 60_000, flows: 3_000, seed: 7)
        let config = try ZoneConfig.load(path: repoPath("config/example.yaml"))
        let direct = try analyze(config: config, [path], lookaheadThreshold: Int.max, readAhead: false)
        #expect(direct.alerts.count > 20)
        #expect(direct.pipeline.statistics.packets == 60_000)
        // 60,000 packets go round the read-ahead ring dozens of times.
        for (readAhead, backlog) in [(false, nil), (true, 0), (true, Int.max), (true, -1), (true, nil)] as [(Bool, Int?)] {
            let switched = try analyze(config: config, [path], lookaheadThreshold: 1_000, readAhead: readAhead, readerDecodingBacklog: backlog)
            #expect(direct.alerts.map(Self.line) == switched.alerts.map(Self.line), "read-ahead \(readAhead), reader decodes \(String(describing: backlog))")
            #expect(direct.pipeline.flows.statistics == switched.pipeline.flows.statistics)
            #expect(switched.pipeline.statistics.packets == 60_000)
        }
    }

    /// `--open-all`: after its opening the capture runs against exactly the
    /// flows it opened (what the benchmark's flow-count sweep relies on).
    @Test func openAllCaptureKeepsExactlyItsFlows() throws {
        let dir = temporaryDirectory()
        let opening = dir.appendingPathComponent("opening.pcap").path, whole = dir.appendingPathComponent("whole.pcap").path
        let first = try BenchmarkCapture.write(path: opening, packets: 0, flows: 2_000, seed: 3, openAll: true)
        let all = try BenchmarkCapture.write(path: whole, packets: 30_000, flows: 2_000, seed: 3, openAll: true)
        #expect(all.packets == first.packets + 30_000)
        let prefix = try Data(contentsOf: URL(fileURLWithPath: opening))
        #expect(try Data(contentsOf: URL(fileURLWithPath: whole)).prefix(prefix.count) == prefix, "the opening is a prefix of the longer capture")
        let config = try ZoneConfig.load(path: repoPath("config/example.yaml"))
        let result = try analyze(config: config, [whole])
        let flows = result.pipeline.flows.statistics
        #expect(flows.created == 2_000 && flows.expired == 0 && flows.evicted == 0 && flows.peak == 2_000)
    }
}
