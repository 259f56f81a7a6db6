import CaptureBuilder
import Foundation
import Testing

/// What a new user's trial found of inputs the sensor must not trust or
/// must not lose: captures that cannot be read, text from the wire in a
/// draft or a report, reports damaged before a merge, standard output that
/// cannot be written, links planted by other users.
@Suite("Untrusted and unreadable inputs")
struct UntrustedInputTests {
    private func shell(_ script: String) throws -> ProcessResult {
        try runProgram("/bin/bash", ["-c", "cd '\(repositoryRoot.path)' && ZW='\(productsDirectory.appendingPathComponent("zonewarden").path)' && " + script])
    }

    /// A capture of one login whose user name carries what text from the wire
    /// may: a terminal escape and a bidi override (FTP), or a newline that
    /// would start a YAML line (an LDAP bind's DN).
    private func hostileLogin(ldap: Bool) throws -> String {
        let s = CaptureScript()
        let client = CaptureBuilder.Host("192.168.100.10"), server = CaptureBuilder.Host("10.10.0.5")
        if ldap {
            s.tcp(client: client, clientPort: 40_389, server: server, serverPort: 389,
                  messages: [(true, ProtocolMessages.ldapBind(id: 1, dn: "cn=x\npolicy: default-deny", password: "S3cret-pw")),
                             (false, ProtocolMessages.ldapBindResponse(id: 1, code: 0))])
        } else {
            s.tcp(client: client, clientPort: 40_021, server: server, serverPort: 21,
                  messages: ProtocolMessages.ftpLogin(user: "ad\u{1B}[2Jm\u{202E}in", password: "S3cret-pw", accepted: true))
        }
        let path = temporaryDirectory().appendingPathComponent(ldap ? "ldap-hostile.pcap" : "ftp-hostile.pcap").path
        try s.write(to: path)
        return path
    }

    /// Not one capture readable (missing, not a capture): status 3, one line
    /// each, and the last run's alerts and flow records are still there.
    @Test func unreadableInputsLeaveTheOutputsAlone() throws {
        let dir = temporaryDirectory()
        let out = dir.appendingPathComponent("alerts.txt").path, flows = dir.appendingPathComponent("flows.json").path
        let text = dir.appendingPathComponent("notes.pcap").path
        for path in [out, flows] { try "the last run's\n".write(toFile: path, atomically: true, encoding: .utf8) }
        try "not a capture\n".write(toFile: text, atomically: true, encoding: .utf8)
        let r = try zonewarden(["analyze", "-c", "config/example.yaml", "-o", out, "--flow-log", flows, dir.appendingPathComponent("nosuch.pcap").path, text])
        #expect(r.status == 3 && r.stderr.split(separator: "\n").count == 2, "\(r.stderr)")
        for path in [out, flows] { #expect(try String(contentsOfFile: path, encoding: .utf8) == "the last run's\n") }
        // One readable capture among them: the outputs are the run's.
        let ok = try zonewarden(["analyze", "-c", "config/example.yaml", "-o", out, "--flow-log", flows, dir.appendingPathComponent("nosuch.pcap").path, "Captures/example-site.pcap"])
        let written = try String(contentsOfFile: out, encoding: .utf8)
        #expect(ok.status == 3 && written.contains("1001"), "\(ok.stderr)")
        // Rule 5003's link is named after the file read, not the missing one.
        #expect(written.contains("link=\"example-site.pcap\""), "\(written)")
    }

    /// learn keeps text from the wire on its comment line: the draft still
    /// passes check-config, and no escape reaches the terminal.
    @Test func learnEscapesTextFromTheWire() throws {
        for (ldap, shown) in [(false, "by user ad\\x1b[2Jm\\u202ein "), (true, "by user cn=x\\npolicy ")] {
            let r = try zonewarden(["learn", try hostileLogin(ldap: ldap)])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(!r.stdout.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x202E }, "\(r.stdout)")
            #expect(r.stdout.contains(shown), "\(r.stdout)")
            let draft = temporaryDirectory().appendingPathComponent("draft.yaml").path
            try r.stdout.write(toFile: draft, atomically: true, encoding: .utf8)
            let check = try zonewarden(["check-config", "-c", draft])
            #expect(check.status == 0, "\(check.stderr)\n\(r.stdout)")
        }
        // An inventory's names (RFC 4180 lets a quoted one hold a line break) stay on their comment line too.
        let inventory = temporaryDirectory().appendingPathComponent("inventory.csv").path
        try "address,name,kind\n10.10.0.5,\"esx-01\npolicy: default-deny\",hypervisor\n".write(toFile: inventory, atomically: true, encoding: .utf8)
        let withInventory = try zonewarden(["learn", "--inventory", "csv:\(inventory)", try hostileLogin(ldap: false)])
        #expect(withInventory.status == 0 && withInventory.stdout.contains("esx-01\\npolicy: default-deny"), "\(withInventory.stderr)\n\(withInventory.stdout)")
        let draft = temporaryDirectory().appendingPathComponent("draft.yaml").path
        try withInventory.stdout.write(toFile: draft, atomically: true, encoding: .utf8)
        #expect(try zonewarden(["check-config", "-c", draft]).status == 0, "\(withInventory.stdout)")
        let capture = try hostileLogin(ldap: false)
        // The Markdown and HTML reports show no bidi override either.
        for format in ["markdown", "html"] {
            let report = try zonewarden(["report", "-c", "config/example.yaml", "--format", format, capture])
            #expect(report.status == 0 && !report.stdout.unicodeScalars.contains { $0.value == 0x202E || $0.value == 0x1B }, "\(format)")
            #expect(!report.stdout.contains("S3cret-pw"))
        }
    }

    /// Standard output that cannot take the draft or the report: said, status 4.
    @Test func standardOutputThatCannotBeWritten() throws {
        for command in ["$ZW learn Captures/example-site.pcap > /dev/full", "$ZW report -c config/example.yaml Captures/example-site.pcap > /dev/full"] {
            let r = try shell(command)
            #expect(r.status == 4 && r.stderr.contains("No space left on device"), "\(command): \(r.stderr)")
        }
    }

    /// A report damaged before a merge (a negative or fractional count, text
    /// for a number, a missing matrix) is refused with its file and field, status 2.
    @Test func damagedReportsAreRefused() throws {
        let dir = temporaryDirectory()
        let a = dir.appendingPathComponent("a.json").path, b = dir.appendingPathComponent("b.json").path
        #expect(try zonewarden(["report", "-c", "config/example.yaml", "-o", a, "Captures/example-site.pcap"]).status == 0)
        #expect(try zonewarden(["report", "-c", "config/example.yaml", "-o", b, "Captures/guest-to-management.pcap"]).status == 0)
        let good = try zonewarden(["report", "--merge", "--format", "json", a, b])
        #expect(good.status == 0, "\(good.stderr)")
        let original = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: a))) as? [String: Any])
        func damaged(_ change: (inout [String: Any]) -> Void) throws -> String {
            var json = original
            change(&json)
            let path = dir.appendingPathComponent("damaged-\(UUID().uuidString).json").path
            try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
            return path
        }
        func cell(_ value: Any) -> (inout [String: Any]) -> Void {
            { json in
                var matrix = json["matrix"] as! [[String: Any]]
                matrix[0]["flows"] = value
                json["matrix"] = matrix
            }
        }
        func totals(_ value: Any) -> (inout [String: Any]) -> Void {
            { json in
                var t = json["totals"] as! [String: Any]
                t["packets"] = value
                json["totals"] = t
            }
        }
        // A verdict edited to disagree with the report's own findings.
        let points = (original["audit"] as! [String: Any])["points"] as! [[String: Any]]
        let violated = try #require(points.firstIndex { $0["verdict"] as? String == "violated" })
        let softened: (inout [String: Any]) -> Void = { json in
            var audit = json["audit"] as! [String: Any]
            var list = audit["points"] as! [[String: Any]]
            list[violated]["verdict"] = "no_violation_observed"
            audit["points"] = list
            json["audit"] = audit
        }
        for (change, field) in [(cell(-5), "matrix[0].flows"), (cell("many"), "matrix[0].flows"), (totals(1.5), "totals.packets"),
                                ({ (json: inout [String: Any]) in json["matrix"] = nil }, "matrix"), (softened, "audit.points[\(violated)]")] {
            let path = try damaged(change)
            let r = try zonewarden(["report", "--merge", "--format", "json", b, path])
            #expect(r.status == 2 && r.stderr.hasPrefix("zonewarden: \(path): \(field): ") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        }
    }

    /// check-config refuses what analyze and run refuse: the configuration itself as an output.
    @Test func checkConfigRefusesTheConfigurationAsAnOutput() throws {
        let dir = temporaryDirectory()
        let config = dir.appendingPathComponent("site.yaml").path
        let text = try String(contentsOfFile: repoPath("config/example.yaml"), encoding: .utf8)
        let withLog = text.replacingOccurrences(of: "\nsensor:\n", with: "\nsensor:\n  flow_log: \(config)\n")
        #expect(withLog != text)
        try withLog.write(toFile: config, atomically: true, encoding: .utf8)
        let r = try zonewarden(["check-config", "-c", config])
        #expect(r.status == 2 && r.stderr.contains("sensor.flow_log names the configuration"), "\(r.stderr)")
    }

    /// An evidence directory reached through another user's link is refused (as -o is).
    @Test(.enabled(if: geteuid() == 0, "needs root to give a link to another user"))
    func evidenceThroughAnotherUsersLinkIsRefused() throws {
        let dir = temporaryDirectory()
        let target = dir.appendingPathComponent("elsewhere").path, link = dir.appendingPathComponent("evidence").path
        #expect(mkdir(target, 0o777) == 0 && symlink(target, link) == 0 && lchown(link, 65534, 65534) == 0)
        let r = try zonewarden(["analyze", "-c", "config/examples/site-roles.yaml", "--evidence", link, "Captures/cleartext-admin-login.pcap"])
        #expect(r.status == 2 && r.stderr.contains("symbolic link owned by another user"), "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: target).isEmpty)
    }

    /// Usage errors say what would be right, point to the subcommand's help,
    /// and never echo a password given in a syslog URL's query.
    @Test func usageErrorsSayTheFix() throws {
        for (arguments, said) in [
            (["analyze", "--workers", "-1", "x.pcap"], "--workers must be 1-64, not -1 (see zonewarden help analyze)"),
            (["analyse", "-c", "config/example.yaml", "--since", "2026-11-26T14:00:00", "x.pcap"], "give RFC 3339 with its offset"),
            (["analyze", "-c", "config/example.yaml", "--syslog-timeout", "2", "x.pcap"], "--syslog-timeout applies to --syslog destinations, and none is given"),
            (["learn", "--inventory", "csv", "x.pcap"], "(the path is missing: csv:FILE) (see zonewarden help learn)"),
            (["analyze", "-c", "config/example.yaml", "--syslog", "udp://h:514?password=S3cret", "Captures/example-site.pcap"], "\"udp://h:514?***\": a syslog URL takes no query"),
            (["help", "anlyze"], "help: no subcommand 'anlyze'; the subcommands are analyze, run, report, learn, check-config, rules"),
            (["run", "-c", "config/example.yaml", "-i", "lo", "-i", "eth9", "-i", "lo"], "lo is given twice (-i): name each interface once"),
        ] {
            let r = try zonewarden(arguments)
            #expect(r.status == 2 && r.stderr.contains(said) && r.stderr.split(separator: "\n").count == 1 && !r.stderr.contains("S3cret"), "\(arguments): \(r.stderr)")
        }
    }

    /// An inventory's name with Markdown in it (a link, a code span,
    /// emphasis, a pipe) is text in the Markdown report, not markup.
    @Test func markdownReportShowsMarkupAsText() throws {
        let dir = temporaryDirectory()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("inventory"), withIntermediateDirectories: true)
        var assets = try String(contentsOfFile: repoPath("config/examples/inventory/assets.csv"), encoding: .utf8)
        assets = assets.replacingOccurrences(of: "192.168.100.10,web-01,", with: "192.168.100.10,web | `x` *b* [link](http://x),")
        #expect(assets.contains("[link]"))
        try assets.write(to: dir.appendingPathComponent("inventory/assets.csv"), atomically: true, encoding: .utf8)
        let config = dir.appendingPathComponent("site.yaml").path
        let text = try String(contentsOfFile: repoPath("config/examples/inventory.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "  - format: govc-vnic\n    path: inventory/vmknics\n", with: "")
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let r = try zonewarden(["report", "-c", config, "--format", "markdown", "Captures/inventory-roles.pcap"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("web \\| \\`x\\` \\*b\\* \\[link\\](http://x)") && !r.stdout.contains("[link](http://x)"), "\(r.stdout)")
    }

    /// A time window that holds no packet: said, for report as for analyze.
    @Test func reportSaysAnEmptyWindow() throws {
        let r = try zonewarden(["report", "-c", "config/example.yaml", "--since", "2030-01-01T00:00:00Z", "Captures/example-site.pcap"])
        #expect(r.status == 0 && r.stderr.contains("note: no packet of the captures lies between"), "\(r.stderr)")
    }
}
