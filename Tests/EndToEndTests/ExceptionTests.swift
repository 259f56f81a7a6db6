import Alerting
import Foundation
import Sensor
import Testing
import Zones

/// `exceptions:`: accepted risks, scoped by rule, ends, service and user,
/// with a reason and an expiry. A table of entries against the example
/// site's six findings (1001 web -> 10.10.0.5 tcp/443, 1004 services ->
/// 10.10.0.11 tcp/22, 1006, 5002 VLAN 77, 7001 10.77.0.5, 5003), and one
/// against an FTP login for `user:`.
@Suite("Exceptions")
struct ExceptionTests {
    static let base = try! String(contentsOfFile: repoPath("config/example.yaml"), encoding: .utf8)

    static func config(_ exceptions: String, file: String = "site.yaml") throws(ConfigErrors) -> ZoneConfig {
        try ZoneConfig.parse(yaml: base + "\nexceptions:\n" + exceptions, file: file)
    }

    /// (entry, the sids still written, findings accepted)
    static let table: [(String, [Int], Int)] = [
        // Positive: each narrows to the one finding it names.
        ("  - { rules: [guest-to-management], reason: r }", [1004, 1006, 5002, 5003, 7001], 1),
        ("  - { rules: [1001], from: web, to: mgmt, services: [tcp/443], reason: r }", [1004, 1006, 5002, 5003, 7001], 1),
        ("  - { rules: [1001], from: 192.168.100.0/24, to: 10.10.0.5, reason: r }", [1004, 1006, 5002, 5003, 7001], 1),
        ("  - { rules: [management-exposed, 7001], to: [10.10.0.11, 10.77.0.0/16], reason: r }", [1001, 1006, 5002, 5003], 2),
        ("  - { rules: [5002, 5003], reason: segment findings accepted }", [1001, 1004, 1006, 7001], 2),
        ("  - { rules: [1001], reason: r, expires: 2999-12-31 }", [1004, 1006, 5002, 5003, 7001], 1),
        // The capture's traffic is of 2026-11-26: an entry in force that day covers it, whatever day it is analysed.
        ("  - { rules: [1001], reason: r, expires: 2026-11-26 }", [1004, 1006, 5002, 5003, 7001], 1),
        // Negative: a narrower end, service or user, another rule, or expired.
        ("  - { rules: [1001], from: admin, reason: r }", [1001, 1004, 1006, 5002, 5003, 7001], 0),
        ("  - { rules: [1001], to: 10.10.0.6, reason: r }", [1001, 1004, 1006, 5002, 5003, 7001], 0),
        ("  - { rules: [1001], services: [tcp/22, udp/443], reason: r }", [1001, 1004, 1006, 5002, 5003, 7001], 0),
        ("  - { rules: [1001], user: root, reason: r }", [1001, 1004, 1006, 5002, 5003, 7001], 0),
        ("  - { rules: [1002, 1003], from: web, reason: r }", [1001, 1004, 1006, 5002, 5003, 7001], 0),
        ("  - { rules: [1001], from: 00:11:22:33:44:55, reason: r }", [1001, 1004, 1006, 5002, 5003, 7001], 0),
        ("  - { rules: [1001], reason: r, expires: 2020-01-31 }", [1001, 1004, 1006, 5002, 5003, 7001], 0),
        ("  - { rules: [1001], reason: r, expires: 2026-11-25 }", [1001, 1004, 1006, 5002, 5003, 7001], 0),
    ]

    @Test(arguments: table.indices)
    func entryAcceptsWhatItNames(index: Int) throws {
        let (entry, written, accepted) = Self.table[index]
        let config = try Self.config(entry + "\n")
        let result = try analyze(config: config, [repoPath("Captures/example-site.pcap")])
        #expect(Set(result.alerts.map(\.sid)) == Set(written), "\(entry)")
        let exceptions = try #require(result.pipeline.alerts.exceptions)
        #expect(exceptions.accepted == [accepted], "\(entry)")
        #expect(result.pipeline.alerts.acceptedBySID.values.reduce(0, +) == accepted)
    }

    /// The first entry that matches counts the finding; the others do not.
    @Test func firstMatchingEntryCounts() throws {
        let config = try Self.config("""
              - { rules: [1001], to: mgmt, reason: first }
              - { rules: [1001], reason: second }

            """)
        let result = try analyze(config: config, [repoPath("Captures/example-site.pcap")])
        #expect(result.pipeline.alerts.exceptions?.accepted == [1, 0])
        #expect(!result.alerts.contains { $0.sid == 1001 })
    }

    /// `user:` matches a login's user name: the FTP capture's Admin, not another.
    @Test func userNarrowsToALogin() throws {
        let expected = try CaptureExpectation.load("cleartext-admin-login")
        let text = try String(contentsOfFile: repoPath(expected.config), encoding: .utf8)
        let capture = repoPath("Captures/cleartext-admin-login.pcap")
        let plain = try analyze(config: ZoneConfig.parse(yaml: text, file: "c.yaml"), [capture])
        func user(_ a: Alert) -> String? {
            for (key, value) in a.evidence where key == "user" { if case .text(let u) = value { return u } }
            return nil
        }
        let users = Set(plain.alerts.filter { $0.sid == 2001 }.compactMap(user))
        #expect(users.count > 3)
        // A Windows domain login: the backslash must survive the YAML and the match.
        let login = try #require(users.first { $0.contains("\\") } ?? users.sorted().first, "the capture's 2001 alerts name a user")
        for (name, accepted) in [(login, true), (login + "x", false)] {
            let config = try ZoneConfig.parse(yaml: text + "\nexceptions:\n  - { rules: [2001], user: '\(name.replacingOccurrences(of: "'", with: "''"))', reason: r }\n", file: "c.yaml")
            let result = try analyze(config: config, [capture])
            #expect(result.alerts.contains { $0.sid == 2001 && user($0) == login } == !accepted, "user \(name)")
            #expect((result.pipeline.alerts.exceptions?.accepted[0] ?? 0 > 0) == accepted, "user \(name)")
        }
    }

    /// An entry applies through the last day it names (UTC), not after.
    @Test func expiryIsTheEndOfTheDay() throws {
        let zones = ZoneMap(try Self.config("  - { rules: [1001], reason: r, expires: 2027-01-31 }\n"))
        let exceptions = try AlertExceptions(zones)
        let lastSecond: UInt64 = 1_801_439_999 * 1_000_000_000  // 2027-01-31T23:59:59Z
        #expect(exceptions.expired(at: lastSecond).isEmpty)
        #expect(exceptions.expired(at: lastSecond + 1_000_000_000) == [0])
        #expect(exceptions.expiryNotes(at: lastSecond + 1_000_000_000) == ["exception site.yaml:\(exceptions.settings[0].position.line) (1001) expired on 2027-01-31: its findings in later traffic are written again"])
    }

    /// Mistakes: file:line:col and what to write instead.
    static let mistakes: [(String, String)] = [
        ("  - { rules: [guest-to-managment], reason: r }", "unknown rule \"guest-to-managment\" (did you mean \"guest-to-management\"?)"),
        ("  - { rules: [1001] }", "an exception needs reason:"),
        ("  - { rules: [1001], reason: \"  \" }", "exception reason: must say why"),
        ("  - { reason: r }", "an exception needs rules:"),
        ("  - { rules: [1001], reason: r, expires: 2027-02-30 }", "\"2027-02-30\" is not a date YYYY-MM-DD"),
        ("  - { rules: [1001], reason: r, expires: 31.01.2027 }", "is not a date YYYY-MM-DD"),
        ("  - { rules: [1001], from: webb, reason: r }", "\"webb\" is no zone, IP address, prefix or MAC (did you mean \"web\"?)"),
        ("  - { rules: [1001], services: [tcp/99999], reason: r }", "port \"99999\" must be 0-65535"),
        ("  - { rules: [1001], reason: r, until: 2027-01-01 }", "unknown key \"until\" in an exception"),
    ]

    @Test(arguments: mistakes.indices)
    func mistakesAreReportedWithTheirPlace(index: Int) throws {
        let (entry, message) = Self.mistakes[index]
        let line = Self.base.split(separator: "\n", omittingEmptySubsequences: false).count + 2
        var errors: [ConfigError] = []
        do throws(ConfigErrors) {
            let config = try Self.config(entry + "\n")
            try SensorConfiguration.validate(ZoneMap(config))
        } catch {
            errors = error.errors
        }
        #expect(errors.contains { $0.description.contains(message) && $0.description.hasPrefix("site.yaml:\(line):") }, "\(errors.map(\.description))")
    }

    /// The binary: accepted findings are left out of the output and of
    /// --fail-on, counted in the summary with their reason; check-config and
    /// analyze say when an entry has expired.
    @Test func binarySummaryAndFailOn() throws {
        let dir = temporaryDirectory()
        let path = dir.appendingPathComponent("accepting.yaml").path
        try (Self.base + """

            exceptions:
              - rules: [1001, 1006]
                reason: "CHG-4711, accepted by the ISO"
                expires: 2999-01-01
              - rules: [7001]
                reason: lab
                expires: 2021-06-30

            """).write(toFile: path, atomically: true, encoding: .utf8)
        let capture = repoPath("Captures/example-site.pcap")
        let r = try zonewarden(["analyze", "-c", path, "--summary", "--fail-on", "critical", capture])
        #expect(r.status == 0, "the only critical finding (1001) is accepted: \(r.stderr)")
        #expect(!r.stdoutLines.contains { $0.contains(" 1001 ") || $0.contains(" 1006 ") })
        #expect(r.stdoutLines.contains { $0.contains(" 7001 ") })
        #expect(r.stderr.contains("2 accepted by exceptions"))
        #expect(r.stderr.contains("(1001, 1006): 2 findings, until 2999-01-01; reason: CHG-4711, accepted by the ISO"))
        #expect(r.stderr.contains("(7001) expired on 2021-06-30: its findings in later traffic are written again"))
        let check = try zonewarden(["check-config", "-c", path])
        #expect(check.status == 0)
        #expect(check.stdout.contains("2 exceptions"))
        #expect(check.stderrLines.count == 1 && check.stderr.contains("expired on 2021-06-30"), "\(check.stderr)")
        // The report lists them as accepted risks, in every format.
        let json = try zonewarden(["report", "-c", path, "--format", "json", capture])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let risks = try #require(object?["accepted_risks"] as? [[String: Any]])
        #expect(risks.count == 2)
        #expect(risks.first?["findings"] as? Int == 2 && risks.first?["reason"] as? String == "CHG-4711, accepted by the ISO")
        #expect(risks.last?["expired"] as? Bool == true && risks.last?["expires"] as? String == "2021-06-30")
        let html = try zonewarden(["report", "-c", path, "--format", "html", capture])
        #expect(html.stdout.contains("<table id=\"accepted\">") && html.stdout.contains("<strong>expired</strong> 2021-06-30"))
        let markdown = try zonewarden(["report", "-c", path, "--format", "markdown", capture])
        #expect(markdown.stdout.contains("| 1001, 1006 | CHG-4711, accepted by the ISO | 2999-01-01 | 2 |"))
        // Without the exceptions, --fail-on critical fails.
        let plain = try zonewarden(["analyze", "-c", repoPath("config/example.yaml"), "--fail-on", "critical", capture])
        #expect(plain.status == 1)
    }

    /// check-config says every mistake at once: rule names in `rules:` and in
    /// exceptions among the loader's own; and what can never match.
    @Test func everyMistakeAtOnceAndEntriesThatCanNeverMatch() throws {
        let dir = temporaryDirectory()
        let broken = dir.appendingPathComponent("broken.yaml").path
        try (Self.base.replacingOccurrences(of: "role: admin", with: "role: admn")
             .replacingOccurrences(of: "  undeclared-vlan: { severity: high }", with: "  undeclared-vlann: { severity: high }")
             + "\nexceptions:\n  - { rules: [guest-to-managment, 9999], reason: r }\n").write(toFile: broken, atomically: true, encoding: .utf8)
        let r = try zonewarden(["check-config", "-c", broken])
        #expect(r.status == 2)
        #expect(r.stderrLines.contains { $0.contains("unknown role \"admn\"") }, "\(r.stderr)")
        #expect(r.stderrLines.contains { $0.contains("unknown rule \"undeclared-vlann\" in rules: (did you mean \"undeclared-vlan\"?)") }, "\(r.stderr)")
        #expect(r.stderrLines.contains { $0.contains("exception names unknown rule \"guest-to-managment\" (did you mean \"guest-to-management\"?)") })
        #expect(r.stderrLines.contains { $0.contains("exception names unknown rule \"9999\" (zonewarden rules lists them)") })
        #expect(r.stderrLines.allSatisfy { $0.hasPrefix(broken + ":") }, "file:line:col on every line")

        let never = dir.appendingPathComponent("never.yaml").path
        try (Self.base + """

            exceptions:
              - { rules: [1001], user: admin, reason: a }
              - { rules: [5003], from: web, reason: b }
              - { rules: [1001, 1004], from: web, reason: c }
              - { rules: [1001], from: web, to: mgmt, reason: d }

            """).write(toFile: never, atomically: true, encoding: .utf8)
        let check = try zonewarden(["check-config", "-c", never])
        #expect(check.status == 0, "entries that never match are no error")
        let notes = check.stderrLines
        #expect(notes.count == 3, "\(notes)")
        #expect(notes.contains { $0.contains("(1001 user admin) can never match: user: is in the findings of 2001, 2002 and 2004 only") })
        #expect(notes.contains { $0.contains("(5003 from web) can never match: 5003 judges a link") })
        #expect(notes.contains { $0.contains("(1001 from web to mgmt) is never reached: the entry at line") })
    }

    /// The live sensor's metrics carry the count per exception, and its last lines too (summed over its interfaces).
    @Test func metricsCountPerException() {
        var s = InterfaceSnapshot(interface: "eth1"), t = InterfaceSnapshot(interface: "eth2")
        s.accepted = ["site.yaml:40 (1001 from web)": 3, "site.yaml:44 (2002 from web to ftp-mirror)": 1]
        t.accepted = ["site.yaml:40 (1001 from web)": 2, "site.yaml:48 (6002)": 0]
        let text = SensorReport.prometheus([s], [], rules: [])
        #expect(text.contains("zonewarden_exception_findings_total{interface=\"eth1\",exception=\"site.yaml:40 (1001 from web)\"} 3"))
        #expect(SensorReport.lines([s], [], rules: [])[0].contains("4 accepted by exceptions"))
        #expect(SensorReport.exceptionLines([s, t]) == ["exception site.yaml:40 (1001 from web): 5 findings accepted",
                                                         "exception site.yaml:44 (2002 from web to ftp-mirror): 1 finding accepted"])
    }
}
