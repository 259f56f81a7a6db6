import Foundation
import Testing
import TestSupport

/// Names from the inventory in every alert format, escaped as untrusted text.
@Suite("Inventory names in alerts")
struct InventoryNameTests {
    static let capture = "Captures/inventory-roles.pcap"
    static let config = "config/examples/inventory.yaml"

    @Test func textLineNamesBothEnds() throws {
        let r = try zonewarden(["analyze", "-c", Self.config, Self.capture])
        #expect(r.status == 0)
        #expect(r.stdoutLines.contains { $0.contains("| 192.168.100.70:54001 (esx-03 vmk1 on esx-03, zone guests) -> 192.168.100.71:8000 (esx-04 vmk1 on esx-04, zone guests) TCP") })
        #expect(r.stdoutLines.contains { $0.contains("-> 10.20.0.20:2049 (nas-01, zone storage) TCP") })
    }

    @Test func eveCarriesNamesHostsAndKinds() throws {
        let r = try zonewarden(["analyze", "-c", Self.config, "--format", "eve", Self.capture])
        #expect(r.status == 0 && r.stdoutLines.count == 6)
        let objects = try r.stdoutLines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let bmc = try #require(objects.first { ($0["alert"] as? [String: Any])?["signature_id"] as? Int == 1004 })
        let zw = bmc.zw
        #expect(zw["src_name"] as? String == "web-01" && zw["src_host"] as? String == "esx-03" && zw["src_kind"] as? String == "vm")
        #expect(zw["dest_name"] as? String == "esx-03 idrac" && zw["dest_kind"] as? String == "bmc")
        // The same capture without the inventory: no names, and none of these findings.
        let bare = try zonewarden(["analyze", "-c", "config/examples/site-roles.yaml", "--format", "eve", Self.capture])
        #expect(bare.status == 0 && bare.stdoutLines.isEmpty)
    }

    @Test(arguments: ["rfc5424", "rfc3164"])
    func syslogCarriesNames(format: String) throws {
        let r = try zonewarden(["analyze", "-c", Self.config, "--format", format, Self.capture])
        #expect(r.status == 0 && r.stdoutLines.count == 6)
        if format == "rfc5424" {
            #expect(r.stdoutLines.contains { $0.contains(#"src_name="web-01" src_host="esx-03" dest_name="esx-03 idrac" dest_host="esx-03""#) })
        } else {
            #expect(r.stdoutLines.contains { $0.contains("(web-01 on esx-03, zone guests)") })
        }
    }

    /// A name is data from a file the sensor does not control: quotes, brackets
    /// and line breaks in it never break a line, a JSON string or a parameter.
    @Test func hostileNamesAreEscapedInEveryFormat() throws {
        let folder = NSTemporaryDirectory() + "zw-names-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let hostile = "web\"]\u{1b}[31m\\ \u{7f}"
        let assets = try String(contentsOfFile: repoPath("config/examples/inventory/assets.csv"), encoding: .utf8)
        let quoted = "\"\(hostile.replacingOccurrences(of: "\"", with: "\"\""))\""
        try assets.replacingOccurrences(of: "web-01,vm,esx-03", with: "\(quoted),vm,\"esx\u{0a}03\"").write(toFile: "\(folder)/a.csv", atomically: true, encoding: .utf8)
        let yaml = try String(contentsOfFile: repoPath(Self.config), encoding: .utf8)
            .replacingOccurrences(of: "inventory/assets.csv", with: "\(folder)/a.csv")
            .replacingOccurrences(of: "inventory/vmknics", with: repoPath("config/examples/inventory/vmknics"))
        try yaml.write(toFile: "\(folder)/site.yaml", atomically: true, encoding: .utf8)
        // RFC 4180: a line break inside quotes belongs to the field (the host name here), and the rows after it are read.
        let spanning = try zonewarden(["check-config", "-c", "\(folder)/site.yaml"])
        #expect(spanning.status == 0, "\(spanning.stderr)")
        // A quote never closed is a mistake with its line.
        try assets.replacingOccurrences(of: "web-01,vm,esx-03", with: "\(quoted),vm,\"esx-03").write(toFile: "\(folder)/a.csv", atomically: true, encoding: .utf8)
        let broken = try zonewarden(["check-config", "-c", "\(folder)/site.yaml"])
        #expect(broken.status == 2 && broken.stderr.contains("a.csv:3:1: a quoted field is not closed"), "\(broken.stderr)")
        try assets.replacingOccurrences(of: "web-01,vm,esx-03", with: "\(quoted),vm,esx-03").write(toFile: "\(folder)/a.csv", atomically: true, encoding: .utf8)
        for format in ["text", "eve", "rfc5424", "rfc3164"] {
            let r = try zonewarden(["analyze", "-c", "\(folder)/site.yaml", "--format", format, Self.capture])
            #expect(r.status == 0 && r.stdoutLines.count == 6, "\(format)")
            let line = try #require(r.stdoutLines.first { $0.contains("1004") })
            #expect(!line.contains("\u{1b}") && !line.contains("\u{7f}"), "\(format): \(line)")
            if format == "eve" {
                let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
                #expect(o.zw["src_name"] as? String == hostile)
            }
            if format == "rfc5424" { #expect(line.contains(#"src_name="web\"\]\x1b[31m\\ \x7f""#), "\(line)") }
        }
        // And in the report's findings, in every format: markup is text, control characters gone.
        try assets.replacingOccurrences(of: "web-01,vm,esx-03", with: "\"<img src=x onerror=alert(1)>|\u{1b}[31m\",vm,esx-03")
            .write(toFile: "\(folder)/a.csv", atomically: true, encoding: .utf8)
        for format in ["html", "markdown", "json"] {
            let r = try zonewarden(["report", "--format", format, "-c", "\(folder)/site.yaml", Self.capture])
            #expect(r.status == 0 && !r.stdout.contains("\u{1b}"), "\(format)")
            // JSON carries the name as it is (escaped as JSON); the page and the Markdown show it as text.
            #expect(format == "json" ? r.stdout.contains("<img src=x onerror=alert(1)>|") : !r.stdout.contains("<img"), "\(format)")
        }
    }

    /// An exception's ends may be names the inventory gives; a name it does not give is a mistake with a suggestion.
    @Test func exceptionsByInventoryName() throws {
        let dir = temporaryDirectory()
        let yaml = try String(contentsOfFile: repoPath(Self.config), encoding: .utf8)
            .replacingOccurrences(of: "path: inventory/", with: "path: \(repoPath("config/examples/inventory"))/")
        func write(_ exceptions: String) throws -> String {
            let path = dir.appendingPathComponent("site.yaml").path
            try (yaml + exceptions).write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let good = try write("""
            exceptions:
              - { rules: [management-exposed], from: web-01, to: esx-03 idrac, reason: "CHG-1: monitoring until the OOB network is up" }
              - { rules: [3001], from: esx-03 vmk1, reason: "CHG-2: vMotion VLAN move planned" }

            """)
        let r = try zonewarden(["analyze", "--summary", "-c", good, Self.capture])
        #expect(r.status == 0 && r.stdoutLines.count == 2, "\(r.stdout)")
        #expect(!r.stdout.contains(" 1004 ") && r.stderr.contains("(management-exposed from web-01 to esx-03 idrac): 1 finding"), "\(r.stderr)")
        #expect(r.stderr.contains("(3001 from esx-03 vmk1): 3 findings"), "\(r.stderr)")
        let typo = try write("exceptions:\n  - { rules: [3001], from: esx-03 vmk9, reason: x }\n")
        let bad = try zonewarden(["check-config", "-c", typo])
        #expect(bad.status == 2 && bad.stderr.contains("exception from: \"esx-03 vmk9\" is no zone, IP address, prefix, MAC or name in the inventory (did you mean \"esx-03 vmk0\"?)"), "\(bad.stderr)")
        // With another mistake in the file both are said, not the first alone.
        let two = try write("exceptions:\n  - { rules: [3001], from: esx-03 vmk9, reason: x, expires: 2026-13-45 }\n")
        let both = try zonewarden(["check-config", "-c", two])
        #expect(both.status == 2 && both.stderrLines.count == 2 && both.stderr.contains("esx-03 vmk9") && both.stderr.contains("2026-13-45"), "\(both.stderr)")
    }

    /// A VM the inventory knows by its MAC alone (libvirt, govc without VMware Tools) is named on
    /// its IP traffic too; a declared gateway's MAC names no one (it carries every routed host's packets).
    @Test func vmsKnownByMACAreNamed() throws {
        let dir = temporaryDirectory()
        try "\u{FEFF}02:00:c0:a8:64:0b,web-02,vm,kvm-07\n00:1b:21:aa:bb:cc,fw-core,vm\n".write(toFile: dir.appendingPathComponent("macs.csv").path, atomically: true, encoding: .utf8)
        let yaml = try String(contentsOfFile: repoPath("config/example.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "\nzones:", with: "\ninventory:\n  - { format: csv, path: \(dir.path)/macs.csv }\nzones:")
        let config = dir.appendingPathComponent("site.yaml").path
        try yaml.write(toFile: config, atomically: true, encoding: .utf8)
        let r = try zonewarden(["analyze", "-c", config, "Captures/example-site.pcap"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdoutLines.contains { $0.contains("| 192.168.100.11:50010 (web-02 on kvm-07, zone web) -> 10.10.0.5:443 (mgmt) TCP") }, "\(r.stdout)")
        #expect(!r.stdout.contains("fw-core"), "the gateway's MAC names no routed host")
    }
}
