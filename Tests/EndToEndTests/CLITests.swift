import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Platform
import Testing
import TestSupport

@Suite("zonewarden command line")
struct CLITests {
    @Test func readmeExample() throws {
        let r = try zonewarden(["analyze", "-c", "config/example.yaml", "Captures/example-site.pcap"])
        #expect(r.status == 0 && r.stderr.isEmpty)
        #expect(r.stdoutLines.count == 6)
        #expect(r.stdoutLines[0].contains("[critical] 1001 guest-to-management: guest 192.168.100.11 in zone web reached management host 10.10.0.5"))
        #expect(r.stdoutLines[5].contains("[medium] 5003 management-vlan-shared-link: management VLAN 10 (zone mgmt, 22 frames) and guest VLAN 100 (zone web, 30 frames) share the link example-site.pcap"))
    }

    @Test func eveLinesAreJSON() throws {
        let r = try zonewarden(["analyze", "-c", "config/example.yaml", "--format", "eve", "Captures/example-site.pcap"])
        #expect(r.status == 0 && r.stdoutLines.count == 6)
        for line in r.stdoutLines {
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            #expect(o["event_type"] as? String == "alert")
            #expect((o["alert"] as! [String: Any])["signature_id"] is Int)
            #expect(o.zw["rule"] is String && o["host"] is String)
        }
    }

    @Test(arguments: ["rfc5424", "rfc3164"])
    func syslogFormats(format: String) throws {
        let r = try zonewarden(["analyze", "-c", "config/example.yaml", "--format", format, "Captures/example-site.pcap"])
        #expect(r.status == 0 && r.stdoutLines.count == 6 && r.stdoutLines.allSatisfy { $0.hasPrefix("<16") })
    }

    @Test func outputFileAndSummary() throws {
        let out = temporaryDirectory().appendingPathComponent("eve.json").path
        let r = try zonewarden(["analyze", "-c", "config/example.yaml", "--format", "eve", "-o", out, "--summary", "Captures/example-site.pcap"])
        #expect(r.status == 0 && r.stdout.isEmpty)
        #expect(try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").count == 6)
        #expect(r.stderr.contains("zonewarden summary: 1 capture, 76 packets"))
        #expect(r.stderr.contains("1001 guest-to-management"))
        #expect(r.stderr.contains("decode errors: 0"))
    }

    @Test func standardInput() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: repoPath("Captures/guest-to-storage.pcap")))
        let r = try zonewarden(["analyze", "-c", "config/examples/site-roles.yaml", "-"], stdin: data)
        #expect(r.status == 0 && r.stdoutLines.count == 1 && r.stdout.contains("1002 guest-to-storage"))
    }

    @Test func failOn() throws {
        let critical = try zonewarden(["analyze", "-c", "config/example.yaml", "--fail-on", "critical", "Captures/example-site.pcap"])
        #expect(critical.status == 1 && critical.stdoutLines.count == 6)
        let quiet = try zonewarden(["analyze", "-c", "config/examples/site-roles.yaml", "--fail-on", "low", "Captures/guest-to-storage-ok.pcap"])
        #expect(quiet.status == 0)
        let medium = try zonewarden(["analyze", "-c", "config/examples/site-roles.yaml", "--fail-on", "critical", "Captures/guest-to-storage.pcap"])
        #expect(medium.status == 0, "a high alert is below critical")
    }

    @Test func bpf() throws {
        let r = try zonewarden(["analyze", "-c", "config/example.yaml", "--bpf", "vlan and tcp port 443", "Captures/example-site.pcap"])
        // 443 over VLANs: the guest reaching vCenter, and the link as the filter left it (8 management, 8 guest frames).
        #expect(r.status == 0 && r.stdoutLines.count == 2 && r.stdoutLines[0].contains("1001") && r.stdoutLines[1].contains("(zone mgmt, 8 frames)"))
        let bad = try zonewarden(["analyze", "-c", "config/example.yaml", "--bpf", "tcp prot 22", "Captures/example-site.pcap"])
        #expect(bad.status == 2 && bad.stderrLines.count == 1 && bad.stderr.hasPrefix("zonewarden: --bpf \"tcp prot 22\": "))
    }

    @Test func unreadableCaptures() throws {
        let dir = temporaryDirectory()
        let empty = dir.appendingPathComponent("empty.pcap").path
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        let garbage = dir.appendingPathComponent("garbage.pcap").path
        _ = FileManager.default.createFile(atPath: garbage, contents: Data(repeating: 0x41, count: 4096))
        let fddi = dir.appendingPathComponent("fddi.pcap").path
        var header = Data([0xD4, 0xC3, 0xB2, 0xA1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 10, 0, 0, 0])
        header.append(Data([0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 1, 2, 3, 4]))
        _ = FileManager.default.createFile(atPath: fddi, contents: header)
        let cases = [
            ("/nonexistent.pcap", "/nonexistent.pcap: no such file or directory"),
            (empty, "\(empty): empty file: no pcap or pcapng header"),
            (garbage, "\(garbage): not a pcap or pcapng file (unknown file format)"),
            (fddi, "\(fddi): unsupported link type FDDI (10); supported: EN10MB, LINUX_SLL, LINUX_SLL2, RAW, IPV4, IPV6, NULL, LOOP"),
        ]
        for (path, message) in cases {
            let r = try zonewarden(["analyze", "-c", "config/example.yaml", path])
            #expect(r.status == 3 && r.stderrLines == [message])
        }
        // Nothing on standard input is said as for an empty file, not as a cut header.
        let nothing = try zonewarden(["analyze", "-c", "config/example.yaml", "-"], stdin: Data())
        #expect(nothing.status == 3 && nothing.stderrLines == ["standard input: empty input: no pcap or pcapng header"], "\(nothing.stderr)")
    }

    /// A corrupt file among good ones: the good ones are analysed, every alert
    /// before the fault is written, the fault is named with its packet, status 3.
    @Test func truncatedCaptureKeepsEarlierAlerts() throws {
        let dir = temporaryDirectory()
        let data = try Data(contentsOf: URL(fileURLWithPath: repoPath("Captures/example-site.pcap")))
        let cut = dir.appendingPathComponent("cut.pcap").path
        try data.prefix(data.count - 40).write(to: URL(fileURLWithPath: cut))
        let r = try zonewarden(["analyze", "-c", "config/example.yaml", cut, "Captures/guest-to-storage.pcap"])
        #expect(r.status == 3)
        #expect(r.stderrLines.count == 1 && r.stderrLines[0].hasPrefix("\(cut): packet 76: truncated dump file"))
        #expect(r.stdout.contains("1001 guest-to-management") && r.stdout.contains("1006 management-service-misplaced"))
        #expect(r.stdout.contains("1002 guest-to-storage"), "the next file is still analysed")
    }

    @Test func configurationErrors() throws {
        let dir = temporaryDirectory()
        func config(_ text: String) -> String {
            let path = dir.appendingPathComponent("c\(text.hashValue).yaml").path
            _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
            return path
        }
        let cases: [(String, String)] = [
            ("zones: [unclosed\n", ":2:1: invalid YAML: "),
            ("zones:\n  m: { role: management, subnets: [10.0.0.0/33] }\n", ":2:36: subnet \"10.0.0.0/33\": prefix length must be 0-32"),
            ("zones:\n  m: { role: management, vlans: [10] }\nrules:\n  unkown-address: off\n", ":4:3: unknown rule \"unkown-address\" in rules: (did you mean \"unknown-address\"?)"),
            ("zones:\n  m: { role: management, vlans: [10] }\nsensor:\n  flow_log: \"\"\n", ":4:13: flow_log is an empty path: give a file, or leave the key out"),
            ("zones:\n  m: { role: management, vlans: [10] }\nsensor:\n  flow_log: a.json\n  state_file: ./a.json\n", ":5:15: state_file names the same file as flow_log, "),
        ]
        for (text, suffix) in cases {
            let path = config(text)
            let r = try zonewarden(["analyze", "-c", path, "Captures/example-site.pcap"])
            #expect(r.status == 2 && r.stdout.isEmpty)
            #expect(r.stderrLines.count == 1 && r.stderr.hasPrefix(path) && r.stderr.contains(suffix), "\(r.stderr)")
            let check = try zonewarden(["check-config", "-c", path])
            #expect(check.status == 2 && check.stderrLines == r.stderrLines)
        }
        let missing = try zonewarden(["check-config", "-c", "/nonexistent.yaml"])
        #expect(missing.status == 2 && missing.stderrLines == ["/nonexistent.yaml: cannot read configuration: no such file"])
        // The outputs' mistakes (checked once the zones are read) come with the zones' own, at once.
        let both = config("zones:\n  m: { role: managment, vlans: [10] }\nsensor:\n  outputs:\n    - { format: eve, syslog: \"udp://u:p@10.0.0.5:514\" }\n"
                          + "    - { format: rfc5424, syslog: \"tls://10.0.0.6:6514\", tls: { ca: /nonexistent/ca.pem } }\n")
        let check = try zonewarden(["check-config", "-c", both])
        #expect(check.status == 2 && check.stderrLines.count == 3, "\(check.stderr)")
        #expect(check.stderrLines.first?.contains(":2:14: unknown role \"managment\"") == true && check.stderrLines.contains { $0.contains(":5:30: syslog \"udp://***@10.0.0.5:514\"") }
                && check.stderrLines.last?.contains("tls: CA file /nonexistent/ca.pem") == true, "\(check.stderr)")
    }

    @Test func checkConfigOK() throws {
        let r = try zonewarden(["check-config", "-c", "config/example.yaml"])
        #expect(r.status == 0)
        #expect(r.stdout == "config/example.yaml: OK: 11 zones (2 management, 1 admin, 1 storage, 2 migration, 2 guest, 1 transport, 1 service, 1 external), 48 VLANs, 2 VNIs, 12 subnets (and public addresses in zone internet), 1 gateway, 4 allow rules, policy roles\n")
        // Where the alerts, flow records and evidence will go is said too.
        let dir = temporaryDirectory()
        let config = dir.appendingPathComponent("site.yaml").path
        try (try String(contentsOfFile: repoPath("config/example.yaml"), encoding: .utf8).replacingOccurrences(of: "\nsensor:\n", with: """

            sensor:
              outputs:
                - { format: eve, path: /var/log/zonewarden/eve.json }
                - { format: rfc5424, syslog: "relp://siem-collector:2514" }
              flow_log: /var/log/zonewarden/flows.json
              evidence: { dir: /var/lib/zonewarden/evidence }

            """)).write(toFile: config, atomically: true, encoding: .utf8)
        let outputs = try zonewarden(["check-config", "-c", config])
        #expect(outputs.status == 0 && outputs.stdout.hasSuffix("policy roles; outputs (run): eve to /var/log/zonewarden/eve.json, rfc5424 to relp://siem-collector:2514; "
                                                                 + "flow log /var/log/zonewarden/flows.json; evidence in /var/lib/zonewarden/evidence\n"), "\(outputs.stdout)\(outputs.stderr)")
        // Relative paths are the configuration's folder's, as its TLS and inventory files: the same from any working directory.
        try (try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(of: "/var/log/zonewarden/", with: "logs/")
            .replacingOccurrences(of: "/var/lib/zonewarden/", with: "")).write(toFile: config, atomically: true, encoding: .utf8)
        let relative = try zonewarden(["check-config", "-c", config])
        #expect(relative.status == 0 && relative.stdout.hasSuffix("eve to \(dir.path)/logs/eve.json, rfc5424 to relp://siem-collector:2514; "
                                                                  + "flow log \(dir.path)/logs/flows.json; evidence in \(dir.path)/evidence\n"), "\(relative.stdout)\(relative.stderr)")
    }

    /// What a new user's trial found: streams read once by report and learn,
    /// outputs written into the folder being read, an empty rotated log, a
    /// password in a syslog URL, a flow log that cannot be opened emptying the alerts' file.
    @Test func trialFindings() throws {
        let dir = temporaryDirectory().path
        let zw = productsDirectory.appendingPathComponent("zonewarden").path, config = repoPath("config/example.yaml")
        let capture = repoPath("Captures/example-site.pcap")
        let shell = { (script: String) throws -> ProcessResult in
            try runProgram("/bin/bash", ["-c", "cd '\(dir)' && ZW='\(zw)' C='\(config)' P='\(capture)' && " + script])
        }
        // report and learn on a FIFO and a process substitution: read once, no hash of nothing, no false all-clear.
        let fifo = try shell("mkfifo f && (cat $P > f &) && timeout 20 $ZW report --format json -c $C f")
        #expect(fifo.status == 0 && fifo.stdout.contains("\"sha256\": null, \"packets\": 76") && !fifo.stdout.contains("e3b0c44298fc1c14"), "\(fifo.stderr)")
        let learn = try shell("timeout 20 $ZW learn <(cat $P)")
        #expect(learn.status == 0 && learn.stdout.contains("not checked: a stream"), "\(learn.stderr)")
        // An output inside the folder being read would overwrite a capture or be read as one.
        let inside = try shell("mkdir caps && cp $P caps/a.pcap && cp $P caps/b.pcap && $ZW analyze -c $C -o /dev/null --flow-log caps/b.pcap caps")
        let untouched = try shell("cmp caps/b.pcap $P").status
        #expect(inside.status == 2 && inside.stderr.contains("lies inside the folder being analysed") && untouched == 0, "\(inside.stderr)")
        let report = try shell("$ZW report -c $C -o caps/a.pcap caps/a.pcap")
        let intact = try shell("cmp caps/a.pcap $P").status
        #expect(report.status == 2 && intact == 0, "\(report.stderr)")
        // A flow log that cannot be opened leaves the alerts' file as it was.
        let kept = try shell("echo kept > keep.txt && $ZW analyze -c $C -o keep.txt --flow-log /nonexistent/f.json $P; echo $?; cat keep.txt")
        #expect(kept.stdoutLines == ["2", "kept"], "\(kept.stdout)\(kept.stderr)")
        // An empty compressed log beside the captures is no capture.
        let rotated = try shell("mkdir logs && cp $P logs/ && : | gzip > logs/empty.log.gz && $ZW analyze -c $C -o /dev/null logs")
        #expect(rotated.status == 0 && rotated.stderr.contains("1 file that is not a capture skipped"), "\(rotated.stderr)")
        // -o - is standard output; a one-character name is a file.
        let dash = try shell("$ZW analyze -c $C -o - $P | wc -l && $ZW analyze -c $C -o a $P && wc -l < a && test ! -e ./-")
        #expect(dash.status == 0 && dash.stdoutLines.map { $0.trimmingCharacters(in: .whitespaces) } == ["6", "6"], "\(dash.stdout)\(dash.stderr)")
        // A report of captures none of which could be read leaves the last report in place.
        let lost = try shell("echo '# last week' > keep.md && $ZW report -c $C -o keep.md nothere.pcap; echo $?; cat keep.md")
        #expect(lost.stdoutLines == ["3", "# last week"] && lost.stderr.contains("keep.md is left as it was"), "\(lost.stdout)\(lost.stderr)")
        // A file named and also inside a folder given is read once, and that is said.
        let twice = try shell("mkdir both && cp $P both/x.pcap && $ZW analyze -c $C -o /dev/null both/x.pcap both")
        #expect(twice.status == 0 && twice.stderrLines == ["zonewarden: both/x.pcap is given more than once: read once"], "\(twice.stderr)")
        // No password in a syslog URL, and none printed.
        let url = try zonewarden(["analyze", "-c", "config/example.yaml", "--syslog", "tcp://admin:S3cretPW@127.0.0.1:5999", "Captures/example-site.pcap"])
        #expect(url.status == 2 && !url.stderr.contains("S3cretPW") && url.stderr.contains("takes no user name or password"), "\(url.stderr)")
    }

    /// What a second trial found: runs that analysed nothing passed silently,
    /// report wrote Markdown into zones.svg, rules and check-config lost their
    /// output on a full disk, a second -c was ignored, a duplicate key was
    /// placed at its first occurrence, and help examples wrapped mid-command.
    @Test func secondTrialFindings() throws {
        let dir = temporaryDirectory().path
        let zw = productsDirectory.appendingPathComponent("zonewarden").path, config = repoPath("config/example.yaml")
        let shell = { (script: String) throws -> ProcessResult in
            try runProgram("/bin/bash", ["-c", "cd '\(dir)' && ZW='\(zw)' C='\(config)' P='\(repoPath("Captures/example-site.pcap"))' && " + script])
        }
        let filtered = try shell("$ZW analyze -c $C --bpf 'tcp port 22' --fail-on low $P")
        #expect(filtered.status == 0 && filtered.stderrLines == ["zonewarden: note: no packet of the captures passed --bpf 'tcp port 22', or they hold none: nothing was analysed (on VLAN-tagged traffic a filter matches only after `vlan and`)"],
                "\(filtered.stderr)")
        let empty = try shell("head -c 24 $P > hdr.pcap && $ZW analyze -c $C hdr.pcap && $ZW report -c $C hdr.pcap > /dev/null")
        #expect(empty.status == 0 && empty.stderrLines == ["zonewarden: note: the captures hold no packets: nothing was analysed",
                                                           "zonewarden: note: the captures hold no packets: the report covers nothing"], "\(empty.stderr)")
        let svg = try shell("$ZW report -c $C -o zones.svg $P; echo $?; test ! -e zones.svg")
        #expect(svg.status == 0 && svg.stdoutLines == ["2"] && svg.stderrLines.count == 1 && svg.stderr.contains("extension .svg"), "\(svg.stderr)")
        let live = try shell("$ZW run -c $C -i zw-no-such-interface --report zones.svg")
        #expect(live.status == 2 && live.stderr.contains("--report zones.svg: a report cannot be told from the extension .svg: give --report-format"), "\(live.stderr)")
        let txt = try shell("$ZW report -c $C -o report.txt $P && head -1 report.txt")
        #expect(txt.stdoutLines == ["# Zone communication report"], "\(txt.stdout)\(txt.stderr)")
        for command in ["$ZW rules --format json", "$ZW check-config -c $C"] {
            let full = try shell("\(command) > /dev/full")
            #expect(full.status == 4 && full.stderrLines == ["zonewarden: <stdout>: write failed: No space left on device"], "\(command): \(full.stderr)")
        }
        for repeated in ["$ZW check-config -c $C -c bad.yaml", "$ZW check-config -c $C -c=bad.yaml", "$ZW analyze -c $C -o a.txt --output=b.txt $P"] {
            let twice = try shell(repeated)
            #expect(twice.status == 2 && twice.stderr.contains("is given 2 times"), "\(repeated): \(twice.stderr)")
        }
        // A duplicate key in a file with Windows line ends (CRLF) is placed too, not a crash.
        let crlf = try shell("printf 'zones:\\r\\n  mgmt: { role: management, subnets: [10.0.0.0/24] }\\r\\n  web: { role: guest, subnets: [10.1.0.0/24] }\\r\\n  mgmt: { role: management }\\r\\n' > crlf.yaml && $ZW check-config -c crlf.yaml")
        #expect(crlf.status == 2 && crlf.stderrLines == ["crlf.yaml:4:3: duplicate key \"mgmt\" in a mapping (first at line 2)"], "\(crlf.stderr)")
        let duplicate = try shell("printf 'zones:\\n  mgmt: { role: management, subnets: [10.0.0.0/24] }\\n  web: { role: guest, subnets: [10.1.0.0/24] }\\n  mgmt: { role: management }\\n' > dup.yaml && $ZW check-config -c dup.yaml")
        #expect(duplicate.status == 2 && duplicate.stderrLines == ["dup.yaml:4:3: duplicate key \"mgmt\" in a mapping (first at line 2)"], "\(duplicate.stderr)")
        // Help at 80 columns (a pipe): an example command never continues at the left margin.
        for command in ["analyze", "run", "report", "learn", "check-config", "rules"] {
            let lines = try zonewarden(["help", command]).stdoutLines
            for (line, next) in zip(lines, lines.dropFirst()) where line.hasPrefix("  zonewarden ") && !next.isEmpty && !next.hasPrefix("USAGE:") {
                #expect(next.hasPrefix(" "), "help \(command): \(line) / \(next)")
            }
        }
        // A login to an address in no zone on a zone's segment says both.
        if let shared = sharedCaptures {
            let ldap = try zonewarden(["analyze", "-c", "config/example.yaml", shared.appendingPathComponent("ldap-simple-bind.pcap").path])
            #expect(ldap.stdout.contains("to 10.0.0.2 (no zone, on a segment of zone services): credentials sent in clear"), "\(ldap.stdout)")
        }
    }

    /// Outputs on the command line take the place of sensor.outputs: said, not silently
    /// (a service unit that gives -o would ignore outputs added to its configuration).
    @Test func commandLineOutputsOverConfiguredOnes() throws {
        let dir = temporaryDirectory()
        let config = dir.appendingPathComponent("site.yaml").path
        try (String(contentsOfFile: repoPath("config/example.yaml"), encoding: .utf8)
             + "\n# added\n").write(toFile: config, atomically: true, encoding: .utf8)
        let text = try String(contentsOfFile: config, encoding: .utf8)
        // example.yaml has a sensor: section; an outputs list is added to it.
        try text.replacingOccurrences(of: "\nsensor:\n", with: "\nsensor:\n  outputs:\n    - { format: eve, path: \(dir.path)/configured.json }\n")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let r = try zonewarden(["run", "-c", config, "-i", "zwnosuch0", "-o", dir.appendingPathComponent("cli.json").path, "--flow-log", dir.appendingPathComponent("flows.json").path])
        #expect(r.status == 3 && r.stderrLines.first == "zonewarden: note: sensor.outputs of \(config) is not used: the command line gives the outputs (-o, --syslog)",
                "\(r.stderr)")
        // No such interface: said before any output file is made.
        #expect(r.stderrLines.last == "zonewarden: zwnosuch0: No such device exists" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("cli.json").path)
                && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("flows.json").path))
    }

    /// `run`: a file to write in a folder that does not exist is a usage
    /// error before anything is opened, whichever option names it (status 2,
    /// one line), as for -o and --flow-log.
    @Test(arguments: ["-o", "--flow-log", "--metrics-file", "--report", "--state-file", "--evidence"])
    func runRefusesAMissingFolder(option: String) throws {
        let missing = temporaryDirectory().appendingPathComponent("no/such").path
        let r = try zonewarden(["run", "-c", "config/example.yaml", "-i", "zwnosuch0", option, missing + "/file"])
        #expect(r.status == 2 && r.stderrLines.count == 1 && r.stderr.contains(missing), "\(option): \(r.stderr)")
        // A directory to make, named with a trailing slash, is in a folder that exists: on to the capture (no such interface, status 3).
        if option == "--evidence" {
            let fresh = try zonewarden(["run", "-c", "config/example.yaml", "-i", "zwnosuch0", option, temporaryDirectory().path + "/evidence/"])
            #expect(fresh.status == 3, "\(fresh.stderr)")
        }
    }

    /// Two settings naming one file would truncate or interleave each other: refused before either is opened.
    @Test func outputsSharingAFile() throws {
        let dir = temporaryDirectory()
        let file = dir.appendingPathComponent("eve.json").path
        try "kept\n".write(toFile: file, atomically: true, encoding: .utf8)
        let r = try zonewarden(["analyze", "-c", "config/example.yaml", "-o", file, "--flow-log", dir.path + "/./eve.json", "Captures/example-site.pcap"])
        #expect(r.status == 2 && r.stderrLines == ["zonewarden: -o and --flow-log name the same file, \(dir.path)/./eve.json: give each its own"], "\(r.stderr)")
        #expect((try? String(contentsOfFile: file, encoding: .utf8)) == "kept\n", "the file is left as it was")
        let run = try zonewarden(["run", "-c", "config/example.yaml", "-i", "lo", "--metrics-file", file, "--report", file])
        #expect(run.status == 2 && run.stderrLines == ["zonewarden: --metrics-file and --report name the same file, \(file): give each its own"], "\(run.stderr)")        // Devices are shared by design: both to /dev/null is fine.
        let null = try zonewarden(["analyze", "-c", "config/example.yaml", "-o", "/dev/null", "--flow-log", "/dev/null", "Captures/example-site.pcap"])
        #expect(null.status == 0 && null.stderr.isEmpty, "\(null.stderr)")
        // An output over a capture being read (through a hard link too) would destroy it first.
        let capture = dir.appendingPathComponent("site.pcap").path, link = dir.appendingPathComponent("link.pcap").path
        try FileManager.default.copyItem(atPath: repoPath("Captures/example-site.pcap"), toPath: capture)
        #expect(Glibc.link(capture, link) == 0)
        let size = try FileManager.default.attributesOfItem(atPath: capture)[.size] as! Int
        let over = try zonewarden(["analyze", "-c", "config/example.yaml", "-o", link, capture])
        #expect(over.status == 2 && over.stderrLines == ["zonewarden: -o names a capture being analysed, \(capture): give it another file"], "\(over.stderr)")
        #expect(try FileManager.default.attributesOfItem(atPath: capture)[.size] as! Int == size, "the capture is left whole")
        // Evidence written among the captures would be read back, or pruned with them.
        let inside = try zonewarden(["analyze", "-c", "config/example.yaml", "--evidence", dir.appendingPathComponent("ev").path, dir.path])
        #expect(inside.status == 2 && inside.stderrLines.count == 1 && inside.stderr.contains("lie one inside the other"), "\(inside.stderr)")
        // A path left empty in the configuration (`flow_log: ~`) is no path.
        let config = dir.appendingPathComponent("tilde.yaml").path
        try (try String(contentsOfFile: repoPath("config/example.yaml"), encoding: .utf8).replacingOccurrences(of: "\nsensor:\n", with: "\nsensor:\n  flow_log: ~\n"))
            .write(toFile: config, atomically: true, encoding: .utf8)
        let tilde = try zonewarden(["check-config", "-c", config])
        #expect(tilde.status == 0 && !tilde.stdout.contains("flow log"), "\(tilde.stdout)\(tilde.stderr)")
    }

    @Test func outputFailures() throws {
        let full = try zonewarden(["analyze", "-c", "config/example.yaml", "-o", "/dev/full", "Captures/example-site.pcap"])
        #expect(full.status == 4 && full.stderrLines == ["zonewarden: alert output /dev/full: write failed: No space left on device; 6 alerts not written to /dev/full"])
        let unwritable = try zonewarden(["analyze", "-c", "config/example.yaml", "-o", "/nonexistent/dir/out.json", "Captures/example-site.pcap"])
        #expect(unwritable.status == 2 && unwritable.stderrLines.count == 1 && unwritable.stderr.contains("cannot open for writing"))
    }

    @Test(arguments: [
        ["analyze", "-c", "config/example.yaml"],
        ["analyze", "Captures/example-site.pcap"],
        ["analyze", "-c", "config/example.yaml", "--format", "xml", "Captures/example-site.pcap"],
        ["analyze", "-c", "config/example.yaml", "--fail-on", "severe", "Captures/example-site.pcap"],
        ["frobnicate"],
    ])
    func usageErrors(arguments: [String]) throws {
        let r = try zonewarden(arguments)
        #expect(r.status == 2 && r.stderrLines.count == 1 && r.stderr.hasPrefix("zonewarden: "), "\(r.stderr)")
    }

    @Test func helpAndVersion() throws {
        let help = try zonewarden(["analyze", "--help"])
        #expect(help.status == 0 && help.stdout.contains("USAGE: zonewarden analyze") && help.stdout.contains("--fail-on <SEVERITY>"))
        let version = try zonewarden(["--version"]).stdout
        let lines = version.split(separator: "\n").map(String.init)
        #expect(lines.count == 3 && version.hasPrefix("0.") && lines.last?.hasPrefix("libpcap version 1.") == true,
                "the version, the build, then the libpcap it runs with: \(version)")
        // The commit and date scripts/build-info wrote, or "unknown" in a build it did not prepare.
        #expect(lines.dropFirst().first?.range(of: #"^commit ([0-9a-f]{12}(-dirty)?|unknown), built (\d{4}-\d{2}-\d{2}|unknown)$"#, options: .regularExpression) != nil,
                "\(version)")
    }

    @Test func rulesListing() throws {
        let text = try zonewarden(["rules"])
        #expect(text.status == 0 && text.stdoutLines.count == 25 && text.stdoutLines[1].hasPrefix("1001  guest-to-management"))
        #expect(text.stdoutLines[0].hasSuffix("FIRES WHEN") && text.stdoutLines[1].hasSuffix("a flow from a guest zone reaches a management address or VLAN"), "\(text.stdout)")
        let json = try zonewarden(["rules", "--format", "json"])
        let rules = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [[String: Any]]
        #expect(rules.map { $0["sid"] as! Int } == [1001, 1002, 1003, 1004, 1005, 1006, 2001, 2002, 2003, 2004, 2005, 3001, 3002, 4001, 4002, 4003, 5001, 5002, 5003, 5004, 6001, 6002, 7001, 7002])
        #expect(rules.allSatisfy { ($0["measure_point"] as? String)?.isEmpty == false })
    }
}

@Suite("analyze --syslog", .serialized, .enabled(if: Rsyslog.isInstalled, "rsyslogd is not installed (scripts/setup installs it)"))
struct AnalyzeSyslogTests {
    /// The same alerts reach a real rsyslog over RELP, TCP and UDP as standard output shows.
    @Test func alertsReachTheCollector() throws {
        let rsyslog = try Rsyslog()
        defer { rsyslog.stop() }
        let r = try zonewarden(["analyze", "-c", "config/example.yaml", "--syslog", "relp://127.0.0.1:\(rsyslog.relpPort)",
                                "--syslog", "tcp://127.0.0.1:\(rsyslog.tcpPort)", "--syslog", "udp://127.0.0.1:\(rsyslog.udpPort)",
                                "--syslog-format", "rfc3164", "Captures/example-site.pcap"])
        #expect(r.status == 0 && r.stdoutLines.count == 6, "\(r.stderr)")
        for input in ["relp", "tcp"] {
            let lines = rsyslog.lines(input)
            #expect(lines.count == 6 && lines.allSatisfy { $0.hasPrefix("<") && $0.contains(" zonewarden[") }, "\(input): \(lines)")
        }
        #expect(waitFor(5) { rsyslog.lines("udp").count == 6 })
    }

    /// A collector nobody runs: the alerts are counted as not delivered, and the exit status is 4.
    @Test func unreachableCollector() throws {
        let port = freePort()
        let r = try zonewarden(["analyze", "-c", "config/example.yaml", "--syslog", "tcp://127.0.0.1:\(port)", "--syslog-timeout", "1",
                                "Captures/example-site.pcap"])
        #expect(r.status == 4 && r.stdoutLines.count == 6)
        #expect(r.stderrLines.last == "zonewarden: output tcp://127.0.0.1:\(port): 6 alerts not delivered (connect: Connection refused)", "\(r.stderr)")
        // Without --syslog-timeout, a collector that could never be reached is given up within a few seconds (not 30).
        let started = monotonicSeconds()
        let quick = try zonewarden(["analyze", "-c", "config/example.yaml", "--syslog", "tcp://127.0.0.1:\(port)", "Captures/example-site.pcap"])
        #expect(quick.status == 4 && quick.stderrLines.last == r.stderrLines.last)
        #expect(monotonicSeconds() - started < 10, "gave up after \(monotonicSeconds() - started) s")
        let bad = try zonewarden(["analyze", "-c", "config/example.yaml", "--syslog", "tcp://127.0.0.1", "Captures/example-site.pcap"])
        #expect(bad.status == 2 && bad.stderrLines == ["zonewarden: --syslog \"tcp://127.0.0.1\": missing :PORT"])
    }

    /// UDP to a port nobody listens on: the refusal is said once (a refused
    /// port fails every other datagram: no "delivering again" in between), the
    /// refused datagrams count as possibly lost, and the status is 4.
    @Test func udpToAClosedPort() throws {
        let port = freePort()
        let r = try zonewarden(["analyze", "-c", "config/example.yaml", "--syslog", "udp://127.0.0.1:\(port)", "--syslog-timeout", "2",
                                "Captures/example-site.pcap"])
        #expect(r.status == 4 && r.stdoutLines.count == 6, "\(r.stderr)")
        #expect(r.stderrLines.filter { $0.contains("will be retried") }.count == 1 && !r.stderr.contains("delivering again"), "\(r.stderr)")
        let last = try #require(r.stderrLines.last)
        #expect(last.hasPrefix("zonewarden: output udp://127.0.0.1:\(port): ") && last.contains("possibly lost (datagrams sent to a port the collector's host refused"),
                "\(r.stderr)")
        // One alert: no later datagram shows its refusal; the socket's pending error does, at the end.
        let one = try zonewarden(["analyze", "-c", "config/examples/site-roles.yaml", "--syslog", "udp://127.0.0.1:\(port)", "Captures/guest-to-storage.pcap"])
        #expect(one.status == 4 && one.stdoutLines.count == 1 && one.stderrLines.last == "zonewarden: output udp://127.0.0.1:\(port): 1 possibly lost (datagrams sent to a port the collector's host refused: nobody listened)",
                "\(one.stderr)")
    }

    /// Options that shape --syslog destinations are refused without one (they would silently do nothing).
    @Test func syslogOptionsWithoutADestination() throws {
        for (options, named) in [(["--syslog-ca", "ca.pem"], "--syslog-ca applies"), (["--syslog-format", "rfc3164"], "--syslog-format applies"),
                                 (["--syslog-cert", "c.pem", "--syslog-key", "k.pem"], "--syslog-cert, --syslog-key apply")] {
            let r = try zonewarden(["analyze", "-c", "config/example.yaml"] + options + ["Captures/example-site.pcap"])
            #expect(r.status == 2 && r.stderr.contains("\(named) to --syslog destinations, and none is given") && r.stdout.isEmpty, "\(options): \(r.stderr)")
        }
    }

    /// TLS settings that cannot serve are usage errors in one line, before any
    /// packet: on the command line and in sensor.outputs (relative paths from the config's folder).
    @Test func tlsSettingsErrors() throws {
        let dir = temporaryDirectory()
        let cli: [([String], String)] = [
            (["--syslog", "tcp://127.0.0.1:6514", "--syslog-ca", "/etc/hostname"],
             "zonewarden: --syslog-ca, --syslog-cert, --syslog-key and --syslog-peer-name apply to tls:// and relp+tls:// destinations, and none is given"),
            (["--syslog", "tls://127.0.0.1:6514", "--syslog-ca", dir.path + "/none.pem"], "zonewarden: tls://127.0.0.1:6514: CA file \(dir.path)/none.pem: No such file or directory"),
            (["--syslog", "relp+tls://127.0.0.1:2514", "--syslog-key", "/etc/hostname"],
             "zonewarden: relp+tls://127.0.0.1:2514: a client key needs its certificate (--syslog-cert, tls: cert)"),
            (["--syslog", "tls://127.0.0.1:6514", "--syslog-ca", "/etc/hostname"], "zonewarden: tls://127.0.0.1:6514: CA file /etc/hostname: no certificate or crl found (PEM certificates expected)"),
        ]
        for (arguments, line) in cli {
            let r = try zonewarden(["analyze", "-c", "config/example.yaml"] + arguments + ["Captures/example-site.pcap"])
            #expect(r.status == 2 && r.stdout.isEmpty && r.stderrLines == [line], "\(r.stderr)")
        }
        let config = dir.appendingPathComponent("tls.yaml").path
        try """
            zones:
              m: { role: management, subnets: [10.0.0.0/24] }
            sensor:
              outputs:
                - { format: rfc5424, syslog: "udp://127.0.0.1:514", tls: { ca: ca.pem } }
                - { format: rfc5424, syslog: "tls://127.0.0.1:6514", tls: { ca: ca.pem } }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let r = try zonewarden(["check-config", "-c", config])
        #expect(r.status == 2 && r.stderrLines == [
            "\(config):5:62: tls: applies to tls:// and relp+tls:// destinations only, not udp://127.0.0.1:514",
            "\(config):6:63: tls: CA file \(dir.path)/ca.pem: No such file or directory",
        ], "\(r.stderr)")
    }
}

@Suite("The rule catalogue has one source")
struct RuleCatalogueTests {
    /// The README's example summary is what `--summary` prints for the example capture.
    @Test func readmeSummaryIsTheRealOne() throws {
        let r = try zonewarden(["analyze", "-c", "config/example.yaml", "--summary", "-o", "/dev/null", "Captures/example-site.pcap"])
        #expect(r.status == 0)
        let readme = try String(contentsOfFile: repoPath("README.md"), encoding: .utf8)
        #expect(readme.contains("```\n" + r.stderr + "```\n"), "paste the --summary output into README.md's analyze section:\n\(r.stderr)")
    }

    /// The README's rule table is `zonewarden rules --format markdown`, verbatim.
    @Test func readmeTableIsTheRulesCommand() throws {
        let table = try zonewarden(["rules", "--format", "markdown"])
        #expect(table.status == 0)
        let readme = try String(contentsOfFile: repoPath("README.md"), encoding: .utf8)
        #expect(table.stdout.hasPrefix("| sid | rule | severity | M 5.154 point | fires when |\n"))
        #expect(readme.contains(table.stdout), "paste `zonewarden rules --format markdown` into README.md's Rules section")
    }
}
