import CaptureBuilder
import Foundation
import Testing
import TestSupport

/// The M 5.154 audit at the head of `zonewarden report`: verdicts as data,
/// findings with names, the zone plan, coverage with hashes, a real time span.
@Suite("Audit report")
struct AuditReportTests {
    static let config = "config/examples/inventory.yaml"
    static let captures = ["Captures/inventory-roles.pcap", "Captures/guest-to-migration.pcap"]

    func report(_ args: [String]) throws -> [String: Any] {
        let r = try zonewarden(["report", "--format", "json"] + args)
        #expect(r.status == 0, "\(r.stderr)")
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    }

    func verdicts(_ report: [String: Any]) -> [String: String] {
        let points = (report["audit"] as! [String: Any])["points"] as! [[String: Any]]
        return Dictionary(uniqueKeysWithValues: points.map { ($0["point"] as! String, $0["verdict"] as! String) })
    }

    @Test func verdictsAreData() throws {
        let r = try report(["-c", Self.config] + Self.captures)
        let v = verdicts(r)
        #expect(Set(v.values).isSubset(of: ["violated", "no_violation_observed", "not_assessed"]))
        #expect(v["management network separated"] == "violated" && v["migration network separated"] == "violated"
                && v["storage network separated"] == "violated" && v["admin interfaces protected"] == "violated")
        #expect(v["admin interfaces encrypted"] == "no_violation_observed" && v["no anonymous access"] == "no_violation_observed")
        // The storage and vMotion flows carry no protocol an inspector knows: nothing to judge their protection by.
        #expect(v["migration data protected"] == "not_assessed" && v["storage access authenticated"] == "not_assessed")
        #expect(v["gateways cannot be bypassed"] == "not_assessed" && v["no undesired connections via multi-homed VMs"] == "not_assessed"
                && v["physically separate management network"] == "not_assessed")
        let points = (r["audit"] as! [String: Any])["points"] as! [[String: Any]]
        let migration = try #require(points.first { $0["point"] as? String == "migration network separated" })
        #expect(migration["requirements"] as? [String] == ["SYS.1.5.A9"] && migration["rules"] as? [Int] == [1003, 3001] && migration["findings"] as? Int == 4)
        let gateways = try #require(points.first { $0["point"] as? String == "gateways cannot be bypassed" })
        #expect((gateways["reason"] as? String)?.hasPrefix("no gateways declared") == true)
        // The same capture with gateways declared and 6001 on: those points become assessable.
        let layer2 = try report(["-c", "config/example.yaml", "Captures/example-site.pcap"])
        #expect(verdicts(layer2)["gateways cannot be bypassed"] != "not_assessed")
    }

    /// A point one of whose rules is off is not assessed, however clean the
    /// others came out: 5003 off leaves a shared management link unjudged.
    @Test func aPointWithARuleOffIsNotAssessed() throws {
        let capture = "Captures/cleartext-admin-login.pcap"
        let off = try report(["-c", "config/examples/site-roles.yaml", capture])
        let points = (off["audit"] as! [String: Any])["points"] as! [[String: Any]]
        let vlan = try #require(points.first { $0["point"] as? String == "VLAN alone is not enough" })
        #expect(vlan["verdict"] as? String == "not_assessed")
        let reason = try #require(vlan["reason"] as? String)
        #expect(reason.hasPrefix("rule 5003 off in the configuration; ") && reason.contains("found nothing in: "), "\(reason)")
        let config = temporaryDirectory().appendingPathComponent("site.yaml").path
        let text = try String(contentsOfFile: repoPath("config/examples/site-roles.yaml"), encoding: .utf8)
        try text.replacingOccurrences(of: "management-vlan-shared-link: off", with: "management-vlan-shared-link: on").write(toFile: config, atomically: true, encoding: .utf8)
        #expect(verdicts(try report(["-c", config, repoPath(capture)]))["VLAN alone is not enough"] == "violated")
    }

    @Test func findingsCarryNamesZonesAndNoSecrets() throws {
        let r = try report(["-c", Self.config] + Self.captures)
        let findings = r["findings"] as! [[String: Any]]
        #expect(findings.count == 7)
        let times = findings.map { $0["time"] as! String }
        #expect(times == times.sorted())
        let bmc = try #require(findings.first { $0["sid"] as? Int == 1004 })
        #expect(bmc["source_name"] as? String == "web-01 on esx-03" && bmc["source_zone"] as? String == "guests"
                && bmc["destination_name"] as? String == "esx-03 idrac on esx-03" && bmc["destination"] as? String == "10.50.0.31:443")
        // A capture of cleartext logins: the user is listed, the password nowhere.
        let logins = try zonewarden(["report", "--format", "json", "-c", "config/examples/site-roles.yaml", "Captures/cleartext-admin-login.pcap"])
        #expect(logins.status == 0)
        for secret in EvidenceTests.ownSecrets { #expect(!logins.stdout.contains(secret), "\(secret)") }
        let loginFindings = (try JSONSerialization.jsonObject(with: Data(logins.stdout.utf8)) as! [String: Any])["findings"] as! [[String: Any]]
        #expect(loginFindings.contains { $0["user"] as? String == "root" })
    }

    /// Files given out of order: the span is the earliest to the latest packet,
    /// each capture is listed with its own span and the hash sha256sum gives.
    @Test func coverageHashesAndTheRealSpan() throws {
        let dir = temporaryDirectory()
        let later = dir.appendingPathComponent("later.pcap").path
        let shift = try ChildProcess("/usr/bin/editcap", ["-t", "86400", repoPath("Captures/guest-to-migration.pcap"), later])
        #expect(shift.wait(seconds: 30) == 0)
        let r = try report(["-c", Self.config, later, repoPath("Captures/inventory-roles.pcap")])
        let span = r["span"] as! [String: String]
        #expect(span["first"] == "2026-11-26T14:00:00.000000Z" && span["last"] == "2026-11-27T14:00:00.005000Z")
        let coverage = r["coverage"] as! [String: Any]
        let files = coverage["captures"] as! [[String: Any]]
        // Listed in reading order: the order of their first packets.
        #expect(files.map { $0["packets"] as? Int } == [40, 6])
        #expect(files[1]["first"] as? String == "2026-11-27T14:00:00.000000Z")
        let sums = dir.appendingPathComponent("sums").path
        let sum = try ChildProcess("/usr/bin/sha256sum", [later, repoPath(Self.config)], outputPath: sums)
        #expect(sum.wait(seconds: 30) == 0)
        let expected = try String(contentsOfFile: sums, encoding: .utf8).split(separator: "\n").map { String($0.prefix(64)) }
        #expect(files[1]["sha256"] as? String == expected[0] && coverage["config_sha256"] as? String == expected[1])
        #expect((coverage["sensor"] as? String)?.hasPrefix("zonewarden ") == true)
    }

    @Test(arguments: ["html", "markdown", "json"])
    func theSameInputsGiveTheSameReport(format: String) throws {
        let a = try zonewarden(["report", "--format", format, "-c", Self.config] + Self.captures)
        let b = try zonewarden(["report", "--format", format, "-c", Self.config] + Self.captures)
        #expect(a.status == 0 && a.stdout == b.stdout && a.stdout.contains("M 5.154") == (format != "json"))
        // The captures table's "read" column is explained under it.
        if format != "json" { #expect(a.stdout.contains("to its end") && a.stdout.contains("Read: &quot;to its end&quot;") == (format == "html")) }
    }

    /// The HTML printed to PDF by a real browser: the verdict table is in the document's text.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") && FileManager.default.isExecutableFile(atPath: "/usr/bin/pdftotext"),
                   "chromium or pdftotext is not installed (scripts/setup installs them)"))
    func verdictTableInAPrintedPDF() throws {
        let dir = temporaryDirectory()
        let html = dir.appendingPathComponent("audit.html").path
        #expect(try zonewarden(["report", "-c", Self.config, "-o", html] + Self.captures).status == 0)
        let pdf = dir.appendingPathComponent("audit.pdf").path
        let chrome = ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(dir.path)/chrome", "--no-pdf-header-footer"]
        let print = try ChildProcess("/usr/bin/chromium", chrome + ["--print-to-pdf=\(pdf)", "file://\(html)"])
        #expect(print.wait(seconds: 90) == 0)
        let text = dir.appendingPathComponent("audit.txt").path
        let extract = try ChildProcess("/usr/bin/pdftotext", ["-layout", pdf, text])
        #expect(extract.wait(seconds: 30) == 0)
        let content = try String(contentsOfFile: text, encoding: .utf8)
        #expect(content.contains("M 5.154 audit"))
        let lines = content.split(separator: "\n").map(String.init)
        for (point, verdict) in [("management network separated", "violated"), ("gateways cannot be bypassed", "not assessed"),
                                 ("admin interfaces encrypted", "no violation observed")] {
            // A row's first printed line holds the start of its point and its verdict (cells wrap).
            let start = point.split(separator: " ").prefix(2).joined(separator: " ")
            #expect(lines.contains { $0.contains(start) && $0.contains(verdict) }, "\(point): \(verdict) in\n\(content.prefix(3000))")
        }
        #expect(content.contains("web-01 on esx-03"))
    }

    /// One configuration per sensor: the example plan under another sensor name.
    func sensorConfig(_ name: String, in dir: URL) throws -> String {
        let yaml = try String(contentsOfFile: repoPath(Self.config), encoding: .utf8)
            .replacingOccurrences(of: "path: inventory/", with: "path: \(repoPath("config/examples/inventory"))/")
            .replacingOccurrences(of: "\nzones:", with: "\nsensor: { name: \(name) }\nzones:")
        let path = dir.appendingPathComponent("\(name).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Two sensors' JSON reports make one site report: counts add up, verdicts combine, coverage lists both.
    @Test func sensorsMergeIntoOneSiteReport() throws {
        let dir = temporaryDirectory()
        let a = dir.appendingPathComponent("a.json").path, b = dir.appendingPathComponent("b.json").path
        #expect(try zonewarden(["report", "-c", sensorConfig("mirror-a", in: dir), "-o", a, Self.captures[0]]).status == 0)
        #expect(try zonewarden(["report", "-c", sensorConfig("mirror-b", in: dir), "-o", b, Self.captures[1]]).status == 0)
        let site = try report(["--merge", a, b])
        let v = verdicts(site)
        #expect(v["migration network separated"] == "violated" && v["storage network separated"] == "violated" && v["gateways cannot be bypassed"] == "not_assessed")
        let points = (site["audit"] as! [String: Any])["points"] as! [[String: Any]]
        let migration = try #require(points.first { $0["point"] as? String == "migration network separated" })
        #expect(migration["findings"] as? Int == 4 && (migration["reason"] as? String)?.hasPrefix("4 findings on mirror-a, mirror-b: ") == true)
        let gateways = try #require(points.first { $0["point"] as? String == "gateways cannot be bypassed" })
        #expect((gateways["reason"] as? String)?.hasPrefix("mirror-a, mirror-b: no gateways declared") == true)
        #expect((site["findings"] as! [[String: Any]]).count == 7)
        #expect((site["totals"] as! [String: Any])["packets"] as? Int == 46)
        let files = (site["coverage"] as! [String: Any])["captures"] as! [[String: Any]]
        #expect(files.map { $0["sensor"] as? String } == ["mirror-a", "mirror-b"])
        // Each sensor's configuration file is named, with its hash (the first alone hid the second).
        let config = site["config"] as? String ?? ""
        #expect(config.contains("(mirror-a, sha256 ") && config.contains("(mirror-b, sha256 "), "\(config)")
        // The same in HTML, whatever the format asked for.
        let html = try zonewarden(["report", "--merge", "--format", "html", a, b])
        #expect(html.status == 0 && html.stdout.contains("4 findings on mirror-a, mirror-b"))
    }

    @Test func mergeRefusesWhatItCannotAddUp() throws {
        let dir = temporaryDirectory()
        let a = dir.appendingPathComponent("a.json").path, other = dir.appendingPathComponent("other.json").path
        #expect(try zonewarden(["report", "-c", Self.config, "-o", a, Self.captures[0]]).status == 0)
        #expect(try zonewarden(["report", "-c", "config/example.yaml", "-o", other, "Captures/example-site.pcap"]).status == 0)
        let plans = try zonewarden(["report", "--merge", a, other])
        #expect(plans.status == 2 && plans.stderr.contains("its zone plan differs from") && plans.stdout.isEmpty)
        // One subnet changed: the refusal names the zone and both sides.
        let changed = dir.appendingPathComponent("changed.yaml").path
        try String(contentsOfFile: repoPath("config/examples/site-roles.yaml"), encoding: .utf8).replacingOccurrences(of: "10.30.0.0/24", with: "10.30.0.0/23")
            .write(toFile: changed, atomically: true, encoding: .utf8)
        let x = dir.appendingPathComponent("x.json").path, y = dir.appendingPathComponent("y.json").path
        #expect(try zonewarden(["report", "-c", "config/examples/site-roles.yaml", "-o", x, "Captures/guest-to-migration.pcap"]).status == 0)
        #expect(try zonewarden(["report", "-c", changed, "-o", y, "Captures/guest-to-migration.pcap"]).status == 0)
        let zone = try zonewarden(["report", "--merge", x, y])
        #expect(zone.status == 2 && zone.stderr.contains("in zone vmotion (role migration, VLANs 30, VNIs 6000, subnets 10.30.0.0/24 there; role migration, VLANs 30, VNIs 6000, subnets 10.30.0.0/23 here)"), "\(zone.stderr)")
        let notReport = try zonewarden(["report", "--merge", a, repoPath("Captures/example-site.pcap")])
        #expect(notReport.status == 2 && notReport.stderr.contains("not a JSON report of zonewarden"))
        let mixed = try zonewarden(["report", "--merge", "-c", Self.config, a])
        #expect(mixed.status == 2 && mixed.stderr.contains("--merge reads reports, not captures"))
        // The report names the build that wrote it; builds of one release merge, other releases do not.
        let text = try String(contentsOfFile: x, encoding: .utf8)
        let version = try #require(text.firstMatch(of: /"sensor": "(zonewarden [0-9.]+) \(commit [0-9a-f]{12}(-dirty)?\)"/), "\(text.prefix(400))")
        let otherBuild = dir.appendingPathComponent("other-build.json").path, otherRelease = dir.appendingPathComponent("other-release.json").path
        let z = dir.appendingPathComponent("z.json").path
        #expect(try zonewarden(["report", "-c", "config/examples/site-roles.yaml", "-o", z, "Captures/guest-to-storage.pcap"]).status == 0)
        let zText = try String(contentsOfFile: z, encoding: .utf8)
        try zText.replacingOccurrences(of: String(version.0), with: "\"sensor\": \"\(version.1) (commit 000000000000)\"").write(toFile: otherBuild, atomically: true, encoding: .utf8)
        try zText.replacingOccurrences(of: String(version.0), with: "\"sensor\": \"zonewarden 9.9.9 (commit 000000000000)\"").write(toFile: otherRelease, atomically: true, encoding: .utf8)
        #expect(try zonewarden(["report", "--merge", x, otherBuild]).status == 0)
        let release = try zonewarden(["report", "--merge", x, otherRelease])
        #expect(release.status == 2 && release.stderr.contains("reports of different versions are not merged"), "\(release.stderr)")
    }

    /// What the captures cannot show is not assessed: logins cut off by the snap length are no
    /// "no violation observed"; port 8000 between guests is no migration traffic; an accepted
    /// risk is said in its point's reason; the same report merged twice is refused.
    /// What an auditor's trial found of the verdicts: a VNC console without
    /// TLS is an admin interface not encrypted; management traffic with no
    /// zone to keep it from judges nothing; an accepted finding is a decision,
    /// not a point unassessed; rules that cannot run here are not said to have
    /// found nothing; a reason cut short says so.
    @Test func verdictsAfterAnAuditorsTrial() throws {
        let shared = try #require(sharedCaptures, "../shared/captures is missing")
        let dir = temporaryDirectory()
        let config = dir.appendingPathComponent("site.yaml").path
        try """
            zones:
              hv:    { role: management, subnets: [192.168.2.125/32, 192.168.2.16/32] }
              admin: { role: admin, subnets: [192.168.2.115/32] }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let vnc = try report(["-c", config, shared.appendingPathComponent("rfb-vnc-auth-mac-to-linux.pcap").path])
        let v = verdicts(vnc)
        #expect(v["admin interfaces encrypted"] == "violated" && v["authentication data encrypted"] == "violated", "\(v)")
        #expect(v["management network separated"] == "not_assessed", "\(v)")
        let points = (vnc["audit"] as! [String: Any])["points"] as! [[String: Any]]
        let planned = try #require(points.first { $0["point"] as? String == "communication planned" })
        let reason = try #require(planned["reason"] as? String)
        #expect(reason.contains("1005 judges only under policy default-deny") && reason.contains("7002 cannot run here") && !reason.contains("7002 found nothing"), "\(reason)")
        // An exception that accepted the only finding of a point: no violation observed, the decision named.
        let accepting = dir.appendingPathComponent("accepting.yaml").path
        try (String(contentsOfFile: repoPath("config/example.yaml"), encoding: .utf8) + """

            exceptions:
              - { rules: [2002], to: 199.233.217.249, services: [tcp/21], reason: "public mirror", expires: 2099-12-31 }

            """).write(toFile: accepting, atomically: true, encoding: .utf8)
        let ftp = try report(["-c", accepting, shared.appendingPathComponent("ftp-anonymous-ipv4.pcap").path])
        let anonymous = try #require(((ftp["audit"] as! [String: Any])["points"] as! [[String: Any]]).first { $0["point"] as? String == "no anonymous access" })
        #expect(anonymous["verdict"] as? String == "no_violation_observed" && (anonymous["reason"] as? String)?.contains("accepted as a risk") == true, "\(anonymous)")
        // Seven tagged segments, six named: the reason says one more.
        let tags = try report(["-c", "config/example.yaml", "Captures/example-site.pcap"])
        let tagged = try #require(((tags["audit"] as! [String: Any])["points"] as! [[String: Any]]).first { $0["point"] as? String == "VLAN alone is not enough" })
        let text = try #require(tagged["reason"] as? String)
        let count = Int(text.prefix { $0.isNumber }) ?? 0
        #expect(count <= 6 ? !text.contains("more") : text.contains("and \(count - 6) more"), "\(text)")
    }

    /// What a second trial found: an unencrypted VNC console without
    /// authentication read as "admin interfaces encrypted: no violation", and
    /// storage between addresses in no zone as "no storage traffic seen".
    @Test func verdictsAfterASecondTrial() throws {
        let shared = try #require(sharedCaptures, "../shared/captures is missing")
        // Each capture alone: the VNC console by 2002, the telnet login by 2001.
        for (capture, sid) in [("rfb-security-none.pcap", "2002 anonymous-admin-access"), ("telnet-login-administrator.pcap", "2001 cleartext-admin-login")] {
            let consoles = try report(["-c", "config/example.yaml", shared.appendingPathComponent(capture).path])
            let point = try #require(((consoles["audit"] as! [String: Any])["points"] as! [[String: Any]]).first { $0["point"] as? String == "admin interfaces encrypted" })
            #expect(point["verdict"] as? String == "violated" && (point["reason"] as? String)?.contains(sid) == true, "\(capture): \(point)")
        }
        let nfs = try report(["-c", "config/example.yaml", shared.appendingPathComponent("nfsv3-basic.pcap").path])
        let points = (nfs["audit"] as! [String: Any])["points"] as! [[String: Any]]
        for name in ["storage network separated", "storage access authenticated"] {
            let point = try #require(points.first { $0["point"] as? String == name })
            let reason = try #require(point["reason"] as? String)
            #expect(point["verdict"] as? String == "not_assessed" && reason.contains("6 flows on storage ports to addresses in no zone, 6 with the protocol recognised")
                    && reason.contains("tcp/2049"), "\(reason)")
        }
        // The two 7001 findings of one flow differ in the table by what is in no zone.
        let md = try zonewarden(["report", "-c", "config/example.yaml", shared.appendingPathComponent("telnet-login-administrator.pcap").path])
        #expect(md.stdout.contains("| source address 192.168.75.1 is in no zone |") && md.stdout.contains("| destination address 192.168.75.132 is in no zone |"),
                "\(md.stdout)")
    }

    /// Reports moved together with their evidence folders still merge into a
    /// site report whose links open; Markdown shows an inventory's markup as text.
    @Test func movedReportsKeepTheirEvidence() throws {
        let dir = temporaryDirectory()
        let sensor = dir.appendingPathComponent("sensor")
        try FileManager.default.createDirectory(at: sensor, withIntermediateDirectories: true)
        let a = sensor.appendingPathComponent("a.json").path, b = sensor.appendingPathComponent("b.json").path
        #expect(try zonewarden(["report", "-c", "config/example.yaml", "--evidence", sensor.appendingPathComponent("ev-a").path, "-o", a, "Captures/example-site.pcap"]).status == 0)
        #expect(try zonewarden(["report", "-c", "config/example.yaml", "--evidence", sensor.appendingPathComponent("ev-b").path, "-o", b, "Captures/guest-to-management.pcap"]).status == 0)
        let moved = dir.appendingPathComponent("moved")
        try FileManager.default.moveItem(at: sensor, to: moved)
        let site = moved.appendingPathComponent("site.md").path
        let r = try zonewarden(["report", "--merge", "-o", site, moved.appendingPathComponent("a.json").path, moved.appendingPathComponent("b.json").path])
        #expect(r.status == 0 && !r.stderr.contains("not there"), "\(r.stderr)")
        let markdown = try String(contentsOfFile: site, encoding: .utf8)
        let links = markdown.matches(of: /\]\(<([^>]+\.pcap)>\)/).map { String($0.1) }
        #expect(!links.isEmpty && links.allSatisfy { !$0.hasPrefix("/") && FileManager.default.fileExists(atPath: moved.appendingPathComponent($0).path) }, "\(links)")
        // Without the evidence folders: said.
        try FileManager.default.removeItem(at: moved.appendingPathComponent("ev-b"))
        let missing = try zonewarden(["report", "--merge", "-o", site, moved.appendingPathComponent("a.json").path, moved.appendingPathComponent("b.json").path])
        #expect(missing.status == 0 && missing.stderr.contains("evidence files the reports link are not there"), "\(missing.stderr)")
    }

    /// What the head of a report says beside the verdicts: a capture not read
    /// whole, packets read that are in no flow, an exception lapsed since the captures.
    @Test func theHeadSaysWhatTheVerdictsRestOn() throws {
        let dir = temporaryDirectory()
        let cut = dir.appendingPathComponent("cut.pcap")
        try Data(try Data(contentsOf: URL(fileURLWithPath: repoPath("Captures/example-site.pcap"))).prefix(3000)).write(to: cut)
        let r = try zonewarden(["report", "-c", "config/example.yaml", "--format", "markdown", "Captures/example-site.pcap", cut.path])
        #expect(r.status == 3 && r.stdout.contains("Coverage incomplete: 1 of 2 captures not read whole (\(cut.path); see Coverage)"), "\(r.stdout)")
        let s = CaptureScript()
        let a = CaptureBuilder.Host("192.168.100.10"), b = CaptureBuilder.Host("192.168.100.11")
        s.arp(from: a, for: b)
        s.ping(from: a, to: b)
        let capture = dir.appendingPathComponent("arp.pcap").path
        try s.write(to: capture)
        let config = dir.appendingPathComponent("site.yaml").path
        try (String(contentsOfFile: repoPath("config/example.yaml"), encoding: .utf8) + """

            exceptions:
              - { rules: [1001], reason: "until the move", expires: 2026-11-30 }

            """).write(toFile: config, atomically: true, encoding: .utf8)
        for format in ["markdown", "html"] {
            let head = try zonewarden(["report", "-c", config, "--format", format, capture, "Captures/example-site.pcap"])
            #expect(head.status == 0, "\(head.stderr)")
            #expect(head.stdout.contains("are in flows of the") && head.stdout.contains("(frames of no flow: ARP, later fragments, undecodable ones) are in no cell"), "\(format)")
            // The captures are of 2026-11-26: the exception applied to them, and has lapsed since.
            #expect(head.stdout.contains("2026-11-30 (after the captures;") && head.stdout.contains("lapsed"), "\(format)")
        }
    }

    @Test func verdictsAreNoBolderThanTheCaptures() throws {
        let dir = temporaryDirectory()
        let cut = dir.appendingPathComponent("cut.pcap").path
        let editcap = try ChildProcess("/usr/bin/editcap", ["-s", "66", repoPath("Captures/storage-without-authentication.pcap"), cut])
        #expect(editcap.wait(seconds: 30) == 0)
        let full = try report(["-c", "config/examples/site-roles.yaml", "Captures/storage-without-authentication.pcap"])
        #expect(verdicts(full)["storage access authenticated"] == "violated")
        let snapped = try report(["-c", "config/examples/site-roles.yaml", cut])
        let points = (snapped["audit"] as! [String: Any])["points"] as! [[String: Any]]
        let storage = try #require(points.first { $0["point"] as? String == "storage access authenticated" })
        #expect(storage["verdict"] as? String == "not_assessed" && (storage["reason"] as? String)?.contains("none with its protocol recognised") == true, "\(storage)")
        let guests = try report(["-c", "config/examples/site-roles.yaml", "Captures/inventory-roles.pcap"])
        #expect(verdicts(guests)["migration network separated"] == "not_assessed", "port 8000 between guests is no migration traffic")
        // An exception for 1004: its point says the finding was accepted.
        let yaml = try String(contentsOfFile: repoPath(Self.config), encoding: .utf8)
            .replacingOccurrences(of: "path: inventory/", with: "path: \(repoPath("config/examples/inventory"))/")
            + "exceptions:\n  - { rules: [1004], from: web-01, reason: \"CHG-7\" }\n"
        let accepted = dir.appendingPathComponent("accepted.yaml").path
        try yaml.write(toFile: accepted, atomically: true, encoding: .utf8)
        let withException = try report(["-c", accepted, Self.captures[0]])
        let admin = try #require(((withException["audit"] as! [String: Any])["points"] as! [[String: Any]]).first { $0["point"] as? String == "admin interfaces protected" })
        #expect((admin["reason"] as? String)?.contains("1 finding accepted as a risk (\(accepted):") == true, "\(admin)")
        let a = dir.appendingPathComponent("a.json").path
        #expect(try zonewarden(["report", "-c", Self.config, "-o", a, Self.captures[0]]).status == 0)
        let twice = try zonewarden(["report", "--merge", a, a])
        #expect(twice.status == 2 && twice.stderr.contains("given twice"), "\(twice.stderr)")
    }
}
