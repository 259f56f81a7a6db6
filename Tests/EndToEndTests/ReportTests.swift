import Capture
import Decode
import Foundation
import Testing
import TestSupport
import Alerting
import Report
import Sensor
import Zones

/// `zonewarden report` and `learn` over the project's captures.
@Suite("Communication report and learn")
struct ReportTests {
    func json(_ args: [String]) throws -> [String: Any] {
        let r = try zonewarden(["report", "--format", "json"] + args)
        #expect(r.status == 0, "\(r.stderr)")
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    }

    func cell(_ report: [String: Any], _ from: String, _ to: String) -> [String: Any]? {
        (report["matrix"] as! [[String: Any]]).first { $0["from"] as? String == from && $0["to"] as? String == to }
    }

    /// The matrix of the example site: the numbers of its 12 flows, and the three pairs that break the plan.
    @Test func exampleSiteMatrix() throws {
        let report = try json(["-c", "config/example.yaml", "Captures/example-site.pcap"])
        let totals = report["totals"] as! [String: Any]
        #expect(totals["flows"] as? Int == 12 && totals["packets"] as? Int == 76 && totals["bytes"] as? Int == 6252)
        let summary = try zonewarden(["analyze", "-c", "config/example.yaml", "--summary", "-o", "/dev/null", "Captures/example-site.pcap"])
        #expect(summary.stderr.contains("flows: 12 created"), "the same count as analyze's")
        let matrix = report["matrix"] as! [[String: Any]]
        #expect(matrix.reduce(0) { $0 + ($1["flows"] as! Int) } == 12)
        let violations = matrix.filter { $0["violation"] as? Bool == true }.map { "\($0["from"]!)->\($0["to"]!)" }.sorted()
        #expect(violations == ["admin->web", "services->mgmt", "web->mgmt"])
        let guest = try #require(cell(report, "web", "mgmt"))
        #expect(guest["flows"] as? Int == 1 && guest["packets"] as? Int == 8 && (guest["alerts"] as? [String: Int]) == ["1001": 1])
        #expect((guest["services"] as? [[String: Any]])?.first?["service"] as? String == "tcp/443")
        let web = try #require(cell(report, "web", "web"))
        #expect(web["flows"] as? Int == 2 && Set((web["services"] as! [[String: Any]]).map { $0["service"] as! String }) == ["icmp", "tcp/5432"])
        #expect(cell(report, "mgmt", "mgmt")?["violation"] as? Bool == false)
        #expect((report["undeclared_segments"] as? [[String: Any]])?.map { $0["segment"] as! String } == ["VLAN 77"])
        #expect((report["unknown_addresses"] as? [[String: Any]])?.map { $0["address"] as! String } == ["10.77.0.5"])
        #expect((report["alerts"] as? [[String: Any]])?.map { $0["sid"] as! Int } == [1001, 1004, 1006, 5002, 5003, 7001])
    }

    /// A reload (SIGUSR2) keeps the running report: its cells keep their
    /// zones by name under the new configuration, and a zone it dropped stays.
    @Test func reportGoesOnUnderANewConfiguration() throws {
        let text = try String(contentsOfFile: repoPath("config/example.yaml"), encoding: .utf8)
        let before = ZoneMap(try ZoneConfig.parse(yaml: text, file: "a.yaml"))
        let after = ZoneMap(try ZoneConfig.parse(yaml: text.replacingOccurrences(of: "\n  web:", with: "\n  tenants:")
            .replacingOccurrences(of: "[web, db]", with: "[tenants, db]").replacingOccurrences(of: "from: web,", with: "from: tenants,"), file: "b.yaml"))
        let collector = ReportCollector(report: CommunicationReport(zones: before))
        let alerts = AlertStage(sinks: [collector], throttle: AlertThrottle(windowSeconds: 0))
        let pipeline = try Pipeline(zones: before, alerts: alerts)
        pipeline.onFlowEnd = { record, _ in collector.add(record) }
        #expect(OfflineAnalysis(pipeline: pipeline, filter: nil).run(path: repoPath("Captures/example-site.pcap")) == nil)
        pipeline.finish()
        pipeline.flows.removeAll()
        let old = collector.report
        collector.rezone(after)
        let new = collector.report
        #expect(new.configFile == "b.yaml" && new.flows == old.flows && new.packets == old.packets)
        func flows(_ r: CommunicationReport, _ a: String, _ b: String) -> UInt64? {
            guard let i = r.zoneNames.firstIndex(of: a), let j = r.zoneNames.firstIndex(of: b) else { return nil }
            return r.cell(i, j)?.flows
        }
        #expect(flows(old, "web", "mgmt") == 1 && flows(new, "web", "mgmt") == 1, "the dropped zone stays with its counts")
        #expect(new.zoneNames.contains("tenants") && new.zoneNames.last == "web")
        #expect(flows(old, "admin", "mgmt") == flows(new, "admin", "mgmt"))
        #expect(new.sortedCells.count == old.sortedCells.count)
    }

    /// The live sensor's report counts the flows still open, in the
    /// observations behind the verdicts too: a storage session that has not
    /// ended is storage traffic seen (it was "not assessed" until it timed out).
    @Test func openFlowsCountInTheVerdicts() throws {
        let zones = ZoneMap(try ZoneConfig.load(path: repoPath("config/examples/site-roles.yaml")))
        let collector = ReportCollector(report: CommunicationReport(zones: zones), zones: zones)
        let alerts = AlertStage(sinks: [collector], throttle: AlertThrottle(windowSeconds: 0))
        let pipeline = try Pipeline(zones: zones, alerts: alerts)
        pipeline.onFlowEnd = { record, _ in collector.add(record) }
        #expect(OfflineAnalysis(pipeline: pipeline, filter: nil).run(path: repoPath("Captures/storage-without-authentication.pcap")) == nil)
        #expect(pipeline.flows.count > 0, "flows are still open")
        let live = collector.snapshot(pipeline.flows, first: pipeline.firstTimestamp, last: pipeline.lastTimestamp)
        pipeline.finish()
        pipeline.flows.removeAll()
        let ended = collector.report
        let storage = ServiceClass.storage.rawValue
        #expect((ended.observed[storage]?.flows ?? 0) > 0)
        #expect(live.observed[storage]?.flows == ended.observed[storage]?.flows && live.flows == ended.flows,
                "\(live.observed[storage]?.flows ?? 0) storage flows while open, \(ended.observed[storage]?.flows ?? 0) once ended")
    }

    /// A live link judged again with nothing new on it (an idle interface at
    /// each stats interval) raises nothing more: not a throttled 5003 per
    /// interval; nor does a busy one within the throttle's window (the same
    /// finding is no new detection, nor a throttled one).
    @Test func anIdleLinkIsNotJudgedAgain() throws {
        let zones = ZoneMap(try ZoneConfig.load(path: repoPath("config/example.yaml")))
        let alerts = AlertStage(sinks: [], throttle: AlertThrottle(windowSeconds: 3600))
        let pipeline = try Pipeline(zones: zones, alerts: alerts)
        let handle = try PcapHandle.openOffline(repoPath("Captures/example-site.pcap"))
        let link = try #require(LinkLayer(handle.linkType))
        pipeline.beginLink("eth1")
        while case .packet(let p) = try handle.next() { pipeline.process(p, link: link) }
        pipeline.reportLink()
        pipeline.reportLink()
        pipeline.reportLink()
        #expect(alerts.detectedBySID[5003] == 1 && alerts.writtenBySID[5003] == 1, "\(alerts.detectedBySID)")
        // A busy link judged again within the throttle's window: the same finding, neither detected nor throttled again.
        for _ in 0..<3 {
            let again = try PcapHandle.openOffline(repoPath("Captures/example-site.pcap"))
            while case .packet(let p) = try again.next() { pipeline.process(p, link: link) }
            pipeline.reportLink()
        }
        pipeline.endLink()
        #expect(alerts.detectedBySID[5003] == 1 && alerts.writtenBySID[5003] == 1 && alerts.throttle.suppressedBySID[5003] == nil,
                "\(alerts.detectedBySID) \(alerts.throttle.suppressedBySID)")
    }

    /// A reload (SIGUSR2) keeps what the old configuration's exceptions
    /// accepted in the live report: an entry that stays is counted on, one
    /// that moved or went is still listed with its findings.
    @Test func acceptedRisksSurviveAReload() {
        typealias Risk = CommunicationReport.AcceptedRisk
        let kept = Risk(place: "run.yaml:23", scope: "1001 from web", reason: "CHG-1", expires: nil, expired: false, findings: 2)
        let moved = Risk(place: "run.yaml:35", scope: "2001 from admin", reason: "CHG-2", expires: nil, expired: false, findings: 1)
        var again = kept
        again.findings = 3
        let new = Risk(place: "run.yaml:39", scope: "2001 from admin", reason: "CHG-2", expires: "2027-01-01", expired: false, findings: 0)
        let merged = Risk.merged([kept, moved], [again, new])
        #expect(merged.map(\.place) == ["run.yaml:23", "run.yaml:35", "run.yaml:39"])
        #expect(merged.map(\.findings) == [5, 1, 0])
    }

    /// With default-deny, flows outside the allow list are violations (1005); allowed ones are not.
    @Test func allowListViolations() throws {
        let report = try json(["-c", "config/examples/zone-policy-violation.yaml", "Captures/zone-policy-violation.pcap", "Captures/zone-policy-violation-ok.pcap"])
        let violations = (report["matrix"] as! [[String: Any]]).filter { $0["violation"] as? Bool == true }
        #expect(violations.map { "\($0["from"]!)->\($0["to"]!)" } == ["services->guests"])
        #expect((violations.first?["alerts"] as? [String: Int]) == ["1005": 1])
        #expect(cell(report, "admin", "mgmt").map { $0["violation"] as? Bool == false && ($0["flows"] as! Int) >= 1 } == true)
    }

    @Test func markdownAndDot() throws {
        let md = try zonewarden(["report", "-c", "config/example.yaml", "Captures/example-site.pcap"])
        #expect(md.stdout.contains("| **web** | **1** ⚠ |") && md.stdout.contains("## Cells that break the plan (3)"))
        let dot = try zonewarden(["report", "-c", "config/example.yaml", "--format", "dot", "Captures/example-site.pcap"])
        #expect(dot.stdout.hasPrefix("digraph zones {") && dot.stdout.contains("\"web\" -> \"mgmt\" [label=\"1 flow\\ntcp/443\", color=red"))
        // The file name chooses the format.
        let out = temporaryDirectory().appendingPathComponent("zones.dot").path
        #expect(try zonewarden(["report", "-c", "config/example.yaml", "-o", out, "Captures/example-site.pcap"]).status == 0)
        #expect(try String(contentsOfFile: out, encoding: .utf8).hasPrefix("digraph zones {"))
    }

    /// learn's draft passes check-config, and the capture's traffic falls into the guessed zones.
    @Test func learnDraftsAWorkingConfig() throws {
        let r = try zonewarden(["learn", "Captures/example-site.pcap"])
        #expect(r.status == 0 && r.stderr.isEmpty)
        let draft = r.stdout
        for line in ["mgmt-vlan10: { role: management, vlans: [10], subnets: [\"10.10.0.0/24\"",
                     "storage-vlan20: { role: storage, vlans: [20], subnets: [\"10.20.0.0/24\"] }",
                     "services-vlan50: { role: service, vlans: [50], subnets: [\"10.50.0.0/24\"] }",
                     "migration-vlan30: { role: migration, vlans: [30], subnets: [\"10.30.0.0/24\"] }",
                     "underlay-vlan40: { role: transport, vlans: [40], subnets: [\"10.40.0.0/24\"] }",
                     "# VLAN 30: 1 of 1 flow reached migration services (vmotion tcp/8000 ×1)",
                     "internet: { role: external, subnets: [public] }"] {
            #expect(draft.contains(line), "\(line)\n\(draft)")
        }
        #expect(draft.contains("guests-vlan100: { role: guest, vlans: [100]"))
        let path = temporaryDirectory().appendingPathComponent("draft.yaml").path
        try draft.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try zonewarden(["check-config", "-c", path]).status == 0)
        // Every flow of the capture lands in a learnt zone: nothing in no zone, the infrastructure VLANs by their roles.
        let report = try json(["-c", path, "Captures/example-site.pcap"])
        let matrix = report["matrix"] as! [[String: Any]]
        #expect(!matrix.contains { $0["from"] as? String == "no zone" || $0["to"] as? String == "no zone" }, "\(matrix)")
        #expect(cell(report, "storage-vlan20", "storage-vlan20")?["flows"] as? Int == 1)
        #expect(cell(report, "migration-vlan30", "migration-vlan30")?["flows"] as? Int == 1)
        #expect((report["unknown_addresses"] as? [Any])?.isEmpty == true)
    }

    /// The HTML report in a real headless browser: the DOM has the matrix cells
    /// and totals, and a screenshot is written to the test's output folder.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium"), "chromium is not installed (scripts/setup installs it)"))
    func htmlInAHeadlessBrowser() throws {
        let dir = temporaryDirectory()
        let html = dir.appendingPathComponent("report.html").path
        #expect(try zonewarden(["report", "-c", "config/example.yaml", "-o", html, "Captures/example-site.pcap"]).status == 0)
        let text = try String(contentsOfFile: html, encoding: .utf8)
        #expect(!text.contains("<script") && !text.contains("http://") || text.contains("xmlns=\"http://www.w3.org/2000/svg\""), "self-contained")
        #expect(!text.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "").contains("http"), "nothing loaded from the network")
        let dom = dir.appendingPathComponent("dom.html").path
        let chrome = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(dir.path)/chrome"]
        let p = try ChildProcess("/usr/bin/chromium", chrome + ["--dump-dom", "file://\(html)"], outputPath: dom)
        #expect(p.wait(seconds: 60) == 0)
        let rendered = try String(contentsOfFile: dom, encoding: .utf8)
        #expect(rendered.contains("<b id=\"total-flows\">12</b>") && rendered.contains("<b id=\"total-violations\">3</b>"))
        #expect(rendered.contains("class=\"cell\" data-from=\"web\" data-to=\"mgmt\" data-flows=\"1\" data-violation=\"true\""))
        #expect(rendered.contains("class=\"cell\" data-from=\"web\" data-to=\"web\" data-flows=\"2\" data-violation=\"false\""))
        #expect(rendered.contains("class=\"edge\" data-from=\"services\" data-to=\"mgmt\""))
        let png = dir.appendingPathComponent("report.png").path
        let shot = try ChildProcess("/usr/bin/chromium", chrome + ["--window-size=1100,640", "--screenshot=\(png)", "file://\(html)"])
        #expect(shot.wait(seconds: 60) == 0)
        let image = try Data(contentsOf: URL(fileURLWithPath: png))
        #expect(image.count > 20_000 && image.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]), "a PNG screenshot in \(png)")
    }
}

@Suite("Report memory")
struct ReportMemoryTests {
    @Test func topCounterIsExactThenBounded() {
        var counter = TopCounter<Int>(capacity: 8)
        for i in 0..<8 { counter.add(i, UInt64(i + 1)) }
        #expect(!counter.approximate && counter.top(3).map(\.key) == [7, 6, 5] && counter.top(1).first?.count == 8)
        // A flood of singletons with one key in every four: a key more frequent than 1/capacity is never lost.
        for i in 0..<100_000 { counter.add(i % 4 == 0 ? 7 : 1000 + i) }
        #expect(counter.count == 8 && counter.approximate)
        #expect(counter.top(1).first?.key == 7 && counter.top(1).first!.count >= 25_000)
    }
}
