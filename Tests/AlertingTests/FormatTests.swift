import Decode
import Detect
import Foundation
import TestSupport
import Testing
import Vocabulary
import Zones
@testable import Alerting

func sampleAlert(user: String = "root") -> Alert {
    var a = Alert(timestamp: 1_795_702_639_123_456_000, sid: 2001, rule: "cleartext-admin-login", severity: .high,
                  message: "telnet login to mgmt")
    a.flowID = 1234
    a.interface = "br0"
    a.vlans = [10]
    a.sourceIP = IPAddress("192.168.4.7")
    a.sourcePort = 50123
    a.destinationIP = IPAddress("10.10.0.5")
    a.destinationPort = 23
    a.ipProtocol = .tcp
    a.appProto = "telnet"
    a.communityID = CommunityID(proto: 6, source: a.sourceIP!, destination: a.destinationIP!, ports: (50123, 23))
    a.sourceZone = "guests"
    a.destinationZone = "mgmt"
    a.segmentZone = "mgmt"
    a.evidence = [("user", .text(user)), ("credential", .redacted(length: 8))]
    return a
}

let context = FormatContext(hostname: "sensor1", processID: 4242, sensorName: "sensor-dc1")

@Suite("Alert formats")
struct FormatTests {
    /// The shape DESIGN.md gives: Suricata's fields in Suricata's order, ZoneWarden's in alert.metadata.
    @Test func eveMatchesDesign() {
        let line = AlertFormat.eve.format(sampleAlert(), context: context)
        #expect(line == #"{"timestamp":"2026-11-26T14:17:19.123456+0000","flow_id":1234,"in_iface":"br0","event_type":"alert","vlan":[10],"src_ip":"192.168.4.7","src_port":50123,"dest_ip":"10.10.0.5","dest_port":23,"proto":"TCP","app_proto":"telnet","community_id":"1:i+dvLKtLoAfMkeBcCO9k56ucqP8=","host":"sensor-dc1","alert":{"action":"allowed","gid":1,"signature_id":2001,"rev":1,"signature":"cleartext-admin-login: telnet login to mgmt","category":"cleartext-admin-login","severity":2,"metadata":{"zw_rule":["cleartext-admin-login"],"zw_severity":["high"],"zw_src_zone":["guests"],"zw_dest_zone":["mgmt"],"zw_segment_zone":["mgmt"],"zw_user":["root"],"zw_credential":["redacted (8 chars)"]}}}"#)
    }

    @Test func eveIsValidJSONWithNonIPAlerts() throws {
        var a = Alert(timestamp: 0, sid: 5002, rule: "undeclared-vlan", severity: .medium, message: "VLAN 999")
        a.sourceMAC = MACAddress("02:00:00:00:00:01")
        a.destinationMAC = MACAddress.broadcast
        a.etherType = 0x88A2
        a.suppressed = 3
        a.encapsulation.push(Encapsulation(kind: .vxlan, outerSource: IPAddress("10.40.0.11")!, outerDestination: IPAddress("10.40.0.12")!,
                                           identifier: 7777, hasIdentifier: true))
        let object = try JSONSerialization.jsonObject(with: Data(AlertFormat.eve.format(a, context: context).utf8)) as! [String: Any]
        let ether = object["ether"] as! [String: Any]
        #expect(ether["src_mac"] as? String == "02:00:00:00:00:01" && ether["ether_type"] as? Int == 0x88A2)
        let metadata = (object["alert"] as! [String: Any])["metadata"] as! [String: [String]]
        #expect(metadata["zw_suppressed"] == ["3"] && metadata["zw_src_zone"] == nil, "an address in no zone has no zone key")
        #expect(metadata["zw_encapsulation"] == ["vxlan 7777 10.40.0.11->10.40.0.12"])
        #expect(object["src_ip"] == nil && object["timestamp"] as? String == "1970-01-01T00:00:00.000000+0000")
    }

    @Test func rfc5424() {
        let line = AlertFormat.rfc5424.format(sampleAlert(), context: context)
        #expect(line.hasPrefix(#"<163>1 2026-11-26T14:17:19.123456Z sensor1 zonewarden 4242 2001 [zw@32473 sid="2001" severity="high" src_zone="guests" dest_zone="mgmt" segment_zone="mgmt" in_iface="br0" src_ip="192.168.4.7" src_port="50123" dest_ip="10.10.0.5" dest_port="23" proto="TCP" vlan="10" app_proto="telnet" flow_id="1234" community_id="1:i+dvLKtLoAfMkeBcCO9k56ucqP8=" user="root" credential="redacted (8 chars)"] cleartext-admin-login: telnet login to mgmt 192.168.4.7:50123 (guests) -> 10.10.0.5:23 (mgmt) TCP"#))
    }

    /// A secret's length: singular for one character, `empty` for none.
    @Test func redactedLengths() {
        for (length, text) in [(0, "empty"), (1, "redacted (1 char)"), (8, "redacted (8 chars)")] {
            var a = sampleAlert()
            a.evidence = [("credential", .redacted(length: length))]
            #expect(AlertFormat.text.format(a, context: context).hasSuffix("credential=\"\(text)\""), "\(length)")
            #expect(EvidenceValue.redacted(length: length).stringValue == text)
        }
    }

    /// A finding's evidence named like a parameter every alert carries (5002's
    /// new `vlan` beside the tag stack) is prefixed: one value per name.
    @Test func rfc5424EvidenceNeverRepeatsAName() {
        var a = Alert(timestamp: 0, sid: 5002, rule: "undeclared-vlan", severity: .medium, message: "VLAN 2474")
        a.vlans = [3704, 2474]
        a.evidence = [("vlan", .number(2474))]
        let line = AlertFormat.rfc5424.format(a, context: context)
        #expect(line.contains(#" vlan="3704,2474" zw_vlan="2474""#), "\(line)")
        #expect(line.components(separatedBy: " vlan=").count == 2)
    }

    /// RFC 5424 §6.4: a message in UTF-8 that is not ASCII starts with the BOM; the MSGID is the sid
    /// (never cut); the SD-ID carries the configured enterprise number.
    @Test func rfc5424BOMAndEnterpriseNumber() {
        var pen = context
        pen.enterpriseNumber = 52_110
        var a = sampleAlert()
        a.message = "telnet login to mgmt für Jürgen"
        let line = AlertFormat.rfc5424.format(a, context: pen)
        #expect(line.contains(" zonewarden 4242 2001 [zw@52110 sid=\"2001\""), "\(line)")
        let bytes = Array(line.utf8)
        let close = bytes.firstIndex(of: 0x5D)!  // the structured data ends; no value here holds a ]
        #expect(Array(bytes[(close + 1)...(close + 4)]) == [0x20, 0xEF, 0xBB, 0xBF], "\(line)")
        #expect(line.hasSuffix("\u{FEFF}cleartext-admin-login: telnet login to mgmt für Jürgen 192.168.4.7:50123 (guests) -> 10.10.0.5:23 (mgmt) TCP"))
        let ascii = AlertFormat.rfc5424.format(sampleAlert(), context: pen)
        #expect(!ascii.utf8.contains(0xEF), "no BOM for ASCII")
    }

    @Test(arguments: [(Severity.critical, 162), (.high, 163), (.medium, 164), (.low, 165)])
    func syslogPriorities(severity: Severity, pri: Int) {
        var a = sampleAlert()
        a.severity = severity
        #expect(AlertFormat.rfc5424.format(a, context: context).hasPrefix("<\(pri)>1 "))
        #expect(AlertFormat.rfc3164.format(a, context: context).hasPrefix("<\(pri)>Nov 26 14:17:19 sensor1 zonewarden[4242]: "))
        // The local socket's form: no host name (the local daemon adds its own).
        #expect(AlertFormat.local.format(a, context: context).hasPrefix("<\(pri)>Nov 26 14:17:19 zonewarden[4242]: cleartext-admin-login sid=2001 "))
    }

    @Test func text() {
        let line = AlertFormat.text.format(sampleAlert(), context: context)
        #expect(line == #"2026-11-26T14:17:19.123456+0000 [high] 2001 cleartext-admin-login: telnet login to mgmt | 192.168.4.7:50123 (guests) -> 10.10.0.5:23 (mgmt) TCP vlan 10 segment mgmt | user="root" credential="redacted (8 chars)""#)
    }

    /// A user name crafted to forge a second log line, break out of a quoted
    /// field or JSON string, and send terminal escapes stays inside its field.
    @Test(arguments: AlertFormat.all)
    func hostileStringsAreEscaped(format: AlertFormat) throws {
        let hostile = "admin\"]\n<13>1 2026-01-01T00:00:00Z evil zonewarden - forged [x] \\ \u{1B}[31mred\r\t\u{0}\u{7F}\u{85}\u{2028}é"
            + " \u{202E}txt.exe\u{202C} \u{200B}\u{FEFF}\u{E0041} 😀"
        let line = format.format(sampleAlert(user: hostile), context: context)
        #expect(!line.contains("\n") && !line.contains("\r") && !line.contains("\u{1B}") && !line.contains("\u{0}"))
        #expect(!line.contains("\u{85}") && !line.contains("\u{2028}") && !line.contains("\u{7F}"))
        // Bidi overrides and other format controls are escaped too: text reads as it is stored.
        for control in ["\u{202E}", "\u{202C}", "\u{200B}", "\u{FEFF}", "\u{E0041}"] { #expect(!line.unicodeScalars.contains(control.unicodeScalars.first!), "\(format)") }
        #expect(line.contains("é") && line.contains("😀"), "printable non-ASCII text is kept")
        switch format {
        case AlertFormat.eve:
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let metadata = (object["alert"] as! [String: Any])["metadata"] as! [String: [String]]
            #expect(metadata["zw_user"] == [hostile], "JSON escaping is lossless")
        case AlertFormat.rfc5424:
            #expect(line.contains(#"user="admin\"\]\x0a<13>1"#) && line.contains(#"\u202etxt.exe\u202c"#) && line.contains(#"\U000e0041"#))
            #expect(line.components(separatedBy: "[zw@32473").count == 2, "one structured-data element")
        case AlertFormat.rfc3164, AlertFormat.text, AlertFormat.local:
            #expect(line.contains(#"user="admin\"]\n<13>1"#) && line.contains(#"\u202etxt.exe\u202c"#))
        default:
            Issue.record("a format without an escaping case: \(format)")
        }
    }
}

@Suite("Timestamps")
struct TimestampTests {
    @Test(arguments: [
        (UInt64(0), "1970-01-01T00:00:00.000000+0000"),
        (951_782_400_000_000_000, "2000-02-29T00:00:00.000000+0000"),
        (4_107_542_399_999_999_999, "2100-02-28T23:59:59.999999+0000"),
        (1_795_702_639_123_456_789, "2026-11-26T14:17:19.123456+0000"),
        (1_795_702_639_000_009_999, "2026-11-26T14:17:19.000009+0000"),
        (1_795_702_639_010_203_000, "2026-11-26T14:17:19.010203+0000"),
        (UInt64.max, "2554-07-21T23:34:33.709551+0000"),
    ])
    func eve(ns: UInt64, text: String) {
        #expect(Timestamp.eve(ns) == text)
    }

    /// RFC 3164 allows 1,024 bytes: a longer alert is cut at a space and
    /// marked, never inside a character; a short one is untouched.
    @Test(arguments: [String(repeating: "ü", count: 900), String(repeating: "admin ", count: 300), String(repeating: "x", count: 2000)])
    func rfc3164IsAtMost1024Bytes(user: String) {
        let line = AlertFormat.rfc3164.format(sampleAlert(user: user), context: context)
        #expect(line.utf8.count <= 1024 && line.utf8.count > 900, "\(line.utf8.count)")
        #expect(line.hasSuffix(" [truncated]"))
        #expect(String(validating: Array(line.utf8), as: UTF8.self) != nil)
        #expect(line.hasPrefix("<163>Nov 26 14:17:19 sensor1 zonewarden[4242]: cleartext-admin-login sid=2001 "))
        let short = AlertFormat.rfc3164.format(sampleAlert(), context: context)
        #expect(!short.hasSuffix(" [truncated]") && short.utf8.count < 400)
    }

    /// What rfc3339 writes reads back (the merged report reads its inputs' times); anything else is refused.
    @Test(arguments: [UInt64(0), 951_782_400_000_000_000, 4_107_542_399_999_999_000, 1_795_702_639_123_456_000])
    func rfc3339ReadsBack(ns: UInt64) {
        #expect(Timestamp.parseRFC3339(Timestamp.rfc3339(ns)) == ns)
    }

    @Test func rfc3339Parsing() {
        #expect(Timestamp.parseRFC3339("2026-11-26T14:17:19.5+00:00") == 1_795_702_639_500_000_000)
        #expect(Timestamp.parseRFC3339("2026-11-26T14:17:19Z") == 1_795_702_639_000_000_000)
        // Offsets count towards UTC: 15:17:19+01:00 and 09:47:19-0430 are 14:17:19Z.
        #expect(Timestamp.parseRFC3339("2026-11-26T15:17:19+01:00") == 1_795_702_639_000_000_000)
        #expect(Timestamp.parseRFC3339("2026-11-26T09:47:19-0430") == 1_795_702_639_000_000_000)
        #expect(Timestamp.parseRFC3339("2026-11-26t14:17:19z") == 1_795_702_639_000_000_000)
        #expect(Timestamp.parseRFC3339("2024-02-29T00:00:00Z") != nil)
        for bad in ["", "2026-11-26 14:17:19Z", "2026-13-26T14:17:19Z", "2026-11-26T14:17:19+25:00", "2026-11-26T14:17:19+01", "2026-11-26T14:17:19.Z",
                    "1970-01-01T00:00:00+01:00", "2026-02-30T00:00:00Z", "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "yesterday"] {
            #expect(Timestamp.parseRFC3339(bad) == nil, "\(bad)")
        }
    }

    @Test func rfc3164PadsTheDay() {
        #expect(Timestamp.rfc3164(1_767_312_000_000_000_000) == "Jan  2 00:00:00")
    }
}

@Suite("Throttling and sinks")
struct ThrottleTests {
    @Test func repeatsWithinTheWindowAreCounted() {
        let t = AlertThrottle(windowSeconds: 60)
        let key = FindingKey(sid: 1001, first: IPAddress("1.2.3.4")!, second: IPAddress("5.6.7.8")!, detail: 443)
        let s: UInt64 = 1_000_000_000
        #expect(t.admit(key, now: 0) == 0)
        #expect(t.admit(key, now: 10 * s) == nil)
        #expect(t.admit(key, now: 59 * s) == nil)
        #expect(t.admit(FindingKey(sid: 1001, first: IPAddress("1.2.3.4")!, second: IPAddress("5.6.7.8")!, detail: 22), now: 59 * s) == 0)
        #expect(t.admit(key, now: 61 * s) == 2, "the next alert carries the count")
        #expect(t.admit(key, now: 62 * s) == nil)
        #expect(t.suppressedBySID[1001] == 3)
    }

    @Test func disabledThrottleAdmitsEverything() {
        let t = AlertThrottle(windowSeconds: 0)
        for _ in 0..<3 { #expect(t.admit(FindingKey(sid: 1), now: 5) == 0) }
    }

    @Test func memoryIsBounded() {
        let t = AlertThrottle(windowSeconds: 3600, maxEntries: 100)
        for i in 0..<1000 { _ = t.admit(FindingKey(sid: 7001, first: IPAddress(ipv4: UInt32(i))), now: UInt64(i)) }
        #expect(t.admit(FindingKey(sid: 7001, first: IPAddress(ipv4: 999)), now: 1000) == nil, "recent entries are kept")
    }

    /// The attack on the old pruning: distinct keys arriving just inside the
    /// window keep the table full, and each new one made it scan every entry
    /// (140,000 alerts took 282 s). Now each costs a queue step.
    @Test(.timeLimit(.minutes(1))) func distinctKeysAtTheWorstSpacingCostConstantTime() {
        let t = AlertThrottle(windowSeconds: 3600)
        let spacing: UInt64 = 3600 * 1_000_000_000 / 100_000  // 36 ms: the table is full just as the first key's window ends
        var written = 0
        for i in 0..<150_000 {
            if t.admit(FindingKey(sid: 7001, first: IPAddress(ipv4: UInt32(i))), now: UInt64(i) * spacing) != nil { written += 1 }
        }
        #expect(written == 150_000 && t.count <= t.maxEntries)
        // The newest keys are still remembered: their repeats are counted, not written.
        #expect(t.admit(FindingKey(sid: 7001, first: IPAddress(ipv4: 149_999)), now: 150_000 * spacing) == nil)
        // A key whose window has passed is written again.
        #expect(t.admit(FindingKey(sid: 7001, first: IPAddress(ipv4: 0)), now: 150_001 * spacing) == 0)
    }

    @Test func aFullDiskIsReportedNotLost() throws {
        let out = try FileOutput(path: "/dev/full", append: true)
        let stage = AlertStage(sinks: [LineSink(output: out, format: .eve, context: context)], throttle: AlertThrottle(windowSeconds: 0))
        stage.take(sampleDetection(), zones: sampleZones)
        stage.flush()
        #expect(stage.failure?.description.contains("/dev/full: write failed: No space left on device") == true)
        #expect(stage.detectedBySID[2001] == 1 && stage.writtenBySID[2001] == 1)
    }

    /// The writer thread: every alert in the order given, the same lines as
    /// writing at once, and all of them in the file when `flush` returns
    /// (more than its queue holds, so the caller may also wait for room).
    @Test func aBackgroundSinkWritesWhatALineSinkWritesInOrder() throws {
        let folder = TemporaryFolder.make("zw-background-sink")
        let count = BackgroundLineSink.capacity * 2 + 77
        var detections: [Detection] = []
        for i in 0..<count { detections.append(sampleDetection(timestamp: 1_795_702_639_000_000_000 + UInt64(i) * 1000, user: "u\(i)")) }
        var files: [String] = []
        for background in [false, true] {
            let path = folder.path + (background ? "/background.json" : "/direct.json")
            let out = try FileOutput(path: path, append: false)
            let sink: any AlertSink = background ? BackgroundLineSink(output: out, format: .eve, context: context) : LineSink(output: out, format: .eve, context: context)
            let stage = AlertStage(sinks: [sink], throttle: AlertThrottle(windowSeconds: 0))
            for d in detections { stage.take(d, zones: sampleZones) }
            stage.flush()
            #expect(stage.failure == nil)
            // Read while the sink is still alive: flush, not the end of the sink, put them in the file.
            files.append(try String(contentsOfFile: path, encoding: .utf8))
            withExtendedLifetime(sink) {}
        }
        #expect(files[0].split(separator: "\n").count == count)
        #expect(files[0] == files[1])
    }

    @Test func aBackgroundSinkReportsAFullDisk() throws {
        let out = try FileOutput(path: "/dev/full", append: true)
        let sink = BackgroundLineSink(output: out, format: .eve, context: context)
        let stage = AlertStage(sinks: [sink], throttle: AlertThrottle(windowSeconds: 0))
        for i in 0..<200 { stage.take(sampleDetection(user: "u\(i)"), zones: sampleZones) }
        stage.flush()
        #expect(stage.failure?.description.contains("/dev/full: write failed: No space left on device") == true)
        #expect(stage.writtenBySID[2001] == 200)
        #expect(stage.unwritten.first?.count == 200, "every line that did not reach the disk is counted")
    }

    @Test func unwritablePath() {
        #expect(throws: SinkError.self) { try FileOutput(path: "/nonexistent/dir/eve.json", append: false) }
    }
}

let sampleZones = ZoneMap(try! ZoneConfig.parse(yaml: """
    zones:
      guests: { role: guest, vlans: [100], subnets: [192.168.0.0/16] }
      mgmt: { role: management, vlans: [10], subnets: [10.10.0.0/16] }
    """, file: "sample.yaml"))

/// What the detect stage would hand on for the sample alert's flow.
func sampleDetection(timestamp: UInt64 = 1_795_702_639_123_456_000, user: String = "root") -> Detection {
    var subject = DetectionSubject()
    subject.timestamp = timestamp
    subject.flowID = 1234
    subject.sourceIP = IPAddress("192.168.4.7")
    subject.destinationIP = IPAddress("10.10.0.5")
    subject.sourcePort = 50123
    subject.destinationPort = 23
    subject.ipProtocol = .tcp
    subject.appProtocol = "telnet"
    subject.vlans = [10]
    subject.sourceZone = sampleZones.id(named: "guests")!
    subject.destinationZone = sampleZones.id(named: "mgmt")!
    subject.segmentZone = sampleZones.id(named: "mgmt")!
    let rule = RuleRegistry.find("2001")!.metadata
    let finding = Finding(message: "telnet login to mgmt", evidence: [("user", .text(user)), ("credential", .redacted(length: 8))],
                          key: FindingKey(sid: 2001, first: subject.sourceIP!, second: subject.destinationIP!, detail: 23))
    return Detection(rule: rule, severity: .high, finding: finding, subject: subject)
}

@Suite("Alert stage")
struct AlertStageTests {
    final class Collecting: AlertSink {
        let name = "<memory>"
        var alerts: [Alert] = []
        func write(_ alert: Alert) throws(SinkError) { alerts.append(alert) }
        func flush() throws(SinkError) {}
    }

    /// A detection becomes the alert the formats were designed on: zone names,
    /// interface and Community ID added in one place.
    @Test func aDetectionBecomesTheSampleAlert() {
        let sink = Collecting()
        let stage = AlertStage(sinks: [sink], throttle: AlertThrottle(windowSeconds: 60))
        stage.interfaceName = "br0"
        stage.take(sampleDetection(), zones: sampleZones)
        #expect(sink.alerts.count == 1)
        for format in AlertFormat.all {
            #expect(format.format(sink.alerts[0], context: context) == format.format(sampleAlert(), context: context))
        }
    }

    /// Repeats are counted, not written; the next alert written carries the count.
    @Test func repeatsAreThrottledAndCounted() {
        let sink = Collecting()
        let stage = AlertStage(sinks: [sink], throttle: AlertThrottle(windowSeconds: 60))
        let s: UInt64 = 1_000_000_000
        for t in [0, 10, 20, 70] { stage.take(sampleDetection(timestamp: UInt64(t) * s), zones: sampleZones) }
        #expect(sink.alerts.map(\.suppressed) == [0, 2])
        #expect(stage.detectedBySID[2001] == 4 && stage.writtenBySID[2001] == 2 && stage.highestSeverity == .high)
    }
}

@Suite("Output buffer")
struct OutputBufferTests {
    /// Addresses written in place read exactly as their description.
    @Test(arguments: ["0.0.0.0", "10.10.0.5", "255.255.255.255", "::", "::1", "fe80::1", "2001:db8::", "2001:db8:0:1:0:0:0:1",
                      "2001:470:4867:99::21", "1:0:0:2:0:0:0:3", "1:2:3:4:5:6:7:8", "ff02::1:ff00:70", "::ffff:0:1", "fd00:100::70"])
    func addresses(text: String) {
        let a = IPAddress(text)!
        var b = OutputBuffer()
        b.append(a)
        #expect(b.text == a.description)
    }

    @Test func numbersMACsServicesAndTimestamps() {
        var b = OutputBuffer()
        for n in [0, 7, 10, 65535, -42, Int.max] { b.append(decimal: n); b.append(byte: 0x20) }
        b.append(MACAddress("02:00:c0:a8:64:0a")!)
        b.append(byte: 0x20)
        for s in [FlowService.port(.tcp, 443), .ipProtocol(.icmpv6), .etherType(0x88A2), .port(IPProtocol(rawValue: 99), 1)] {
            b.append(s)
            b.append(byte: 0x20)
        }
        b.append(eveTimestamp: 1_795_702_639_123_456_789)
        #expect(b.text == "0 7 10 65535 -42 \(Int.max) 02:00:c0:a8:64:0a tcp/443 icmp6 ethertype 0x88a2 ip99/1 2026-11-26T14:17:19.123456+0000")
    }

    /// Numbers written two digits at a time read as their description: every
    /// length, both sides of every power of ten, and pseudo-random values.
    @Test func decimalsOfEveryLength() {
        var values: [UInt64] = [0, 1, 9, UInt64.max, UInt64.max - 1]
        var power: UInt64 = 10
        for _ in 1...19 {
            values += [power - 1, power, power + 1, power / 10 * 9 + 3]
            if power > UInt64.max / 10 { break }
            power *= 10
        }
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<2000 {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
            values += [x, x >> (x & 63), x & 0xFFFF]
        }
        for v in values {
            var b = OutputBuffer(capacity: 4)
            b.append(byte: 0x3C)
            b.append(decimal: v)
            b.append(byte: 0x3E)
            #expect(b.text == "<\(v)>")
        }
        var b = OutputBuffer()
        b.append(decimal: Int64.min)
        #expect(b.text == "\(Int64.min)")
    }

    /// A message reads as its plain text does, and a format escapes all of it.
    @Test func messagesAreEscapedAsAWhole() {
        let address = IPAddress("192.168.4.7")!
        let user = "a\"b"
        let m: Message = "guest \(address) by \(user) on \(FlowService.port(.tcp, 22)) (\(3) times) from \(MACAddress("02:00:c0:a8:64:0a")!)"
        #expect(m.description == "guest 192.168.4.7 by a\"b on tcp/22 (3 times) from 02:00:c0:a8:64:0a")
        var b = OutputBuffer()
        b.append(m, .json)
        #expect(b.text == #"guest 192.168.4.7 by a\"b on tcp/22 (3 times) from 02:00:c0:a8:64:0a"#)
        var long = Message()
        for i in 0..<40 { long.append(.number(i)) }
        #expect(long.description == (0..<40).map(String.init).joined())
        let v6: Message = "\(IPAddress("2001:db8:0:1:0:0:0:1")!) and \(Endpoint.ip(IPAddress("10.0.0.1")!))"
        #expect(v6.description == "2001:db8:0:1::1 and 10.0.0.1")
    }
}

@Suite("Escaping's fast path")
struct PlainTextScanTests {
    /// The eight-bytes-at-a-time scan says "plain" exactly when no byte needs
    /// escaping, for every length, alignment and mode, on strings made of
    /// the bytes at every boundary (controls, space, quote, backslash, `]`,
    /// `~`, DEL, bytes of multi-byte UTF-8).
    @Test func agreesWithTheByteByByteRule() {
        let alphabet: [UInt8] = [0x00, 0x09, 0x1F, 0x20, 0x21, 0x22, 0x41, 0x5B, 0x5C, 0x5D, 0x5E, 0x61, 0x7E, 0x7F, 0x80, 0x9F, 0xC3, 0xE2, 0xFF]
        let plain: [UInt8] = [0x20, 0x21, 0x41, 0x5B, 0x5D, 0x5E, 0x61, 0x7E]
        var rng = SystemRandomNumberGenerator()
        for mode in [Escaping.Mode.json, .text, .structuredDataValue] {
            let extra: UInt8 = mode == .structuredDataValue ? 0x5D : 0x22
            for length in 0...40 {
                for _ in 0..<200 {
                    // Mostly plain, with at most one byte from the whole alphabet, at any place.
                    var bytes = (0..<length + 3).map { _ in plain.randomElement(using: &rng)! }
                    if length > 0 && Bool.random(using: &rng) { bytes[3 + Int.random(in: 0..<length, using: &rng)] = alphabet.randomElement(using: &rng)! }
                    let expected = !bytes[3...].contains { ($0 &- 0x20) >= 0x5F || $0 == 0x22 || $0 == 0x5C || $0 == extra }
                    for offset in 0...3 where offset + length <= bytes.count {
                        let got = bytes.withUnsafeBytes { Escaping.isPlain(UnsafeRawBufferPointer(rebasing: $0[offset..<offset + length]), mode) }
                        let want = !bytes[offset..<offset + length].contains { ($0 &- 0x20) >= 0x5F || $0 == 0x22 || $0 == 0x5C || $0 == extra }
                        #expect(got == want, "\(bytes[offset..<offset + length]) in \(mode)")
                        if offset == 3 { #expect(got == expected) }
                    }
                }
            }
        }
    }
}
