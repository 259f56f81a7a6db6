import Alerting
import Capture
import CaptureBuilder
import Foundation
import Sensor
import Testing
import Zones

/// `analyze --workers N`: the flows are shared out among N pipelines and
/// what they find is merged; the alerts must be those of one pipeline (flow
/// ids aside), with the same counts, on every capture the project has.
@Suite("Workers")
struct WorkersTests {
    /// Every field a user sees of an alert but its flow id.
    static func line(_ a: Alert) -> String {
        "\(a.sid) \(a.timestamp) \(a.sourceIP?.description ?? "") \(a.destinationIP?.description ?? "") "
            + "\(a.sourcePort ?? 0) \(a.destinationPort ?? 0) \(a.sourceZone ?? "") \(a.destinationZone ?? "") \(a.segmentZone ?? "") "
            + "\(a.vlans) \(a.suppressed) \(a.message) \(a.evidence.map { "\($0.0)=\($0.1)" }.joined(separator: ","))"
    }

    struct Sharded {
        var alerts: [Alert]
        var errors: [CaptureError]
        var analysis: ShardedAnalysis
    }

    static func analyzeSharded(config: ZoneConfig, _ paths: [String], workers: Int) throws -> Sharded {
        let sink = CollectingSink()
        let alerts = AlertStage(sinks: [sink], throttle: AlertThrottle(windowSeconds: config.sensor.alertThrottleSeconds))
        let analysis = try ShardedAnalysis(zones: ZoneMap(config), alerts: alerts, workers: workers, filter: nil)
        var errors: [CaptureError] = []
        for path in paths { if let e = analysis.run(path: path) { errors.append(e) } }
        analysis.finish()
        return Sharded(alerts: sink.alerts, errors: errors, analysis: analysis)
    }

    /// One pipeline against 2 and 3 workers; returns the sids one pipeline wrote.
    @discardableResult
    static func compare(config: ZoneConfig, _ paths: [String]) throws -> Set<Int> {
        let one = try analyze(config: config, paths)
        for n in [2, 3] {
            let many = try analyzeSharded(config: config, paths, workers: n)
            let variant = "\(n) workers, \(paths.map { ($0 as NSString).lastPathComponent })"
            #expect(one.alerts.map(line).sorted() == many.alerts.map(line).sorted(), "\(variant)")
            #expect(one.errors.map(\.description) == many.errors.map(\.description), "\(variant)")
            let (s, m) = (one.pipeline.statistics, many.analysis.statistics)
            #expect(s.packets == m.packets && s.bytes == m.bytes && s.packetsWithoutFlow == m.packetsWithoutFlow, "\(variant)")
            #expect(s.anomalies == m.anomalies, "\(variant)")
            #expect(one.pipeline.flows.statistics.created == many.analysis.flowStatistics.created, "\(variant)")
            #expect(one.pipeline.alerts.detectedBySID == many.analysis.alerts.detectedBySID, "\(variant)")
            #expect(one.pipeline.alerts.writtenBySID == many.analysis.alerts.writtenBySID, "\(variant)")
            // Flow ids stay unique across the workers' tables.
            let flowsOfIDs = Dictionary(grouping: many.alerts.filter { $0.flowID != nil }, by: { $0.flowID! })
            for (id, alerts) in flowsOfIDs {
                let endpoints = Set(alerts.map { Set([$0.sourceIP?.description ?? "", $0.destinationIP?.description ?? ""]) })
                #expect(endpoints.count == 1, "flow id \(id) names \(endpoints.count) pairs of endpoints (\(variant))")
            }
        }
        return Set(one.alerts.map(\.sid))
    }

    @Test(arguments: ExampleCaptures.all.map(\.name))
    func exampleCapturesGiveTheSameAlerts(name: String) throws {
        let expected = try CaptureExpectation.load(name)
        try Self.compare(config: ZoneConfig.load(path: repoPath(expected.config)), [repoPath("Captures/\(name).pcap")])
    }

    /// The real captures, under the example configuration and the one that
    /// gives them zones; between them the rules whose memory spans flows
    /// (a new VLAN 5002, a link's VLANs 5003, a MAC in two zones 6001) fire.
    @Test func sharedCapturesGiveTheSameAlerts() throws {
        let dir = try #require(sharedCaptures, "../shared/captures is missing")
        let files = sharedCaptureFiles
        #expect(files.count > 20)
        var sids = Set<Int>()
        for config in ["config/example.yaml", "Tests/Data/shared-captures.yaml"] {
            let zones = try ZoneConfig.load(path: repoPath(config))
            for file in files { sids.formUnion(try Self.compare(config: zones, [dir.appendingPathComponent(file).path])) }
        }
        #expect(sids.isSuperset(of: [5002, 2001, 1001]), "\(sids.sorted())")
    }

    /// Every example capture as one analysis (flows and rule memory carry
    /// from file to file), and a benchmark capture with thousands of flows,
    /// a full MAC table and every kind of alert.
    @Test func manyFilesAndABenchmarkCaptureGiveTheSameAlerts() throws {
        let config = try ZoneConfig.load(path: repoPath("config/example.yaml"))
        let all = ExampleCaptures.all.map { repoPath("Captures/\($0.name).pcap") }
        let sids = try Self.compare(config: config, all)
        #expect(sids.isSuperset(of: [5002, 5003, 6001]), "\(sids.sorted())")
        let path = temporaryDirectory().appendingPathComponent("workers.pcap").path
        _ = try BenchmarkCapture.write(path: path, packets: 60_000, flows: 3_000, seed: 11)
        let benchmark = try Self.compare(config: config, [path])
        #expect(benchmark.count >= 5, "\(benchmark.sorted())")
    }

    /// Out-of-range and malformed values are usage errors (status 2) with one line.
    /// A capture whose flows idle past their timeouts (the alert mix slowed
    /// 3,000 times: SYN-ACKs after `tcp_new`, logins typed over minutes):
    /// 2 and 3 workers write the alerts of one pipeline. A flow first seen at
    /// its SYN-ACK once borrowed its table slot's previous SYN sequence, so
    /// that which flows shared a worker decided whether its login was found.
    @Test func slowFlowsAcrossWorkers() throws {
        let dir = temporaryDirectory()
        let fast = dir.appendingPathComponent("fast.pcap").path, slow = dir.appendingPathComponent("slow.pcap").path
        _ = try BenchmarkCapture.write(path: fast, packets: 60_000, flows: 2_000, seed: 11, mix: .alerts)
        let reader = try PcapHandle.openOffline(fast)
        let writer = try PcapWriter(path: slow)
        var start: UInt64?
        while case .packet(let p) = try reader.next() {
            let base = start ?? p.timestamp
            start = base
            writer.write(timestamp: base + (p.timestamp - base) * 3_000, bytes: p.bytes, wireLength: p.wireLength)
        }
        try writer.close()
        var config = try ZoneConfig.load(path: repoPath("config/example.yaml"))
        config.sensor.alertThrottleSeconds = 0
        let one = try analyze(config: config, [slow]).alerts.map(Self.line).sorted()
        #expect(one.count > 1_000)
        for workers in [2, 3] {
            let many = try Self.analyzeSharded(config: config, [slow], workers: workers).alerts.map(Self.line).sorted()
            let differ = Set(one).symmetricDifference(many)
            #expect(differ.isEmpty, "\(workers) workers: \(differ.count) alerts differ, e.g. \(differ.sorted().prefix(2))")
        }
    }

    @Test(arguments: ["0", "65", "two", "-1"])
    func badWorkerCountsAreUsageErrors(value: String) throws {
        let r = try zonewarden(["analyze", "-c", repoPath("config/example.yaml"), "--workers", value, repoPath("Captures/example-site.pcap")])
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stdout.isEmpty)
        #expect(r.stderrLines.contains { $0.contains("--workers") || $0.contains("workers") }, "\(r.stderr)")
    }

    /// Workers sharing a small max_flows: each table is enlarged to 64 flows, and that is said.
    @Test func workersBeyondTheTableAreSaid() throws {
        let config = temporaryDirectory().appendingPathComponent("small.yaml").path
        try "zones:\n  web: { role: guest, subnets: [192.168.0.0/16] }\nsensor:\n  max_flows: 1024\n".write(toFile: config, atomically: true, encoding: .utf8)
        let many = try zonewarden(["analyze", "-c", config, "--workers", "64", "-o", "/dev/null", repoPath("Captures/example-site.pcap")])
        #expect(many.status == 0 && many.stderrLines == ["zonewarden: note: sensor.max_flows 1024 shared among 64 workers is below 64 flows each: each worker's table holds 64 (4096 flows in all)"],
                "\(many.stderr)")
        let few = try zonewarden(["analyze", "-c", config, "--workers", "16", "-o", "/dev/null", repoPath("Captures/example-site.pcap")])
        #expect(few.status == 0 && few.stderr.isEmpty, "\(few.stderr)")
    }

    /// `run --workers` takes what `analyze --workers` takes, and refuses the
    /// report and evidence (one pipeline's) with several workers; all before any interface is opened.
    @Test(arguments: [(["--workers", "0"], "--workers must be 1-64, not 0"), (["--workers", "65"], "--workers must be 1-64, not 65"),
                      (["--workers", "two"], "--workers"),
                      (["--workers", "2", "--report", "/tmp/zonewarden-report.html"], "--report is written from one pipeline's flows: give --workers 1"),
                      (["--workers", "2", "--evidence", "/tmp"], "--evidence keeps each flow's packets in one pipeline: give --workers 1")])
    func runRefusesWorkersItCannotUse(arguments: [String], message: String) throws {
        let r = try zonewarden(["run", "-c", repoPath("config/example.yaml"), "-i", "zw-no-such-interface"] + arguments)
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains(message), "\(r.stderr)")
        #expect(!r.stderr.contains("No such device"), "\(r.stderr)")
    }

    /// The binary with two workers writes what it writes with one (flow ids aside).
    @Test func binaryWithTwoWorkersWritesTheSameAlerts() throws {
        let capture = repoPath("Captures/example-site.pcap")
        var outputs: [[String]] = []
        for n in ["1", "2"] {
            let r = try zonewarden(["analyze", "-c", repoPath("config/example.yaml"), "--format", "eve", "--workers", n, "--summary", capture])
            #expect(r.status == 0, "\(r.stderr)")
            outputs.append(r.stdoutLines.map { $0.replacingOccurrences(of: #""flow_id":[0-9]+,"#, with: "", options: .regularExpression) }.sorted())
        }
        #expect(outputs[0] == outputs[1])
        #expect(outputs[0].count > 3)
    }
}
