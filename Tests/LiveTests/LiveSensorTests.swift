import CaptureBuilder
import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `zonewarden run` on a lab in network namespaces, with real clients and
/// servers, tcpreplay and a real rsyslog receiving over UDP, TCP and RELP.
final class LiveLab {
    let lab: NetworkLab
    let rsyslog: Rsyslog
    let configPath: String
    let eve: String
    let metrics: String
    let state: String
    let sensorLog: String
    private(set) var sensor: ChildProcess?
    static let httpPassword = "S3cret!web"
    static let ftpPassword = "Ftp!Secret9"

    init() throws {
        lab = try NetworkLab(hosts: [("guest", "192.168.100.10/22"), ("mgmt", "10.10.0.5/24"), ("admin", "10.99.0.20/24")])
        rsyslog = try Rsyslog(namespace: lab.switchNamespace)
        configPath = lab.directory + "/site.yaml"
        eve = lab.directory + "/eve.json"
        metrics = lab.directory + "/zonewarden.prom"
        state = lab.directory + "/endpoints"
        sensorLog = lab.directory + "/sensor.log"
        try Self.config().write(toFile: configPath, atomically: true, encoding: .utf8)
        let site = lab.directory + "/www"
        try FileManager.default.createDirectory(atPath: site, withIntermediateDirectories: true)
        try "hello\n".write(toFile: site + "/index.html", atomically: true, encoding: .utf8)
        let mgmt = lab.host("mgmt")
        try lab.spawn(in: mgmt.namespace, ["/usr/bin/python3", "-m", "http.server", "80", "--bind", mgmt.address, "--directory", site])
        try lab.spawn(in: mgmt.namespace, ["/usr/bin/python3", "-m", "pyftpdlib", "-i", mgmt.address, "-p", "21", "-u", "ftpadmin", "-P", Self.ftpPassword, "-d", site])
        for port in [80, 21] {
            guard waitFor(15, { (try? self.lab.execute(in: mgmt.namespace, ["/usr/bin/bash", "-c", "exec 3<>/dev/tcp/\(mgmt.address)/\(port)"])) == 0 }) else {
                throw ChildProcessError("the server on port \(port) did not start")
            }
        }
    }

    /// The example site's zones, learning no baseline (rule 7002 reports at once).
    static func config() throws -> String {
        let example = try String(contentsOfFile: repositoryRoot.appendingPathComponent("config/example.yaml").path, encoding: .utf8)
        return example.components(separatedBy: "\nsensor:")[0] + "\nsensor:\n  baseline_seconds: 0\n  alert_throttle_seconds: 3600\n"
    }

    /// Starts `zonewarden run` on the management host's port and the replay
    /// interface, alerts in EVE to `alertFile` (default ``eve``) and to rsyslog.
    /// `interfaces`: the two by default (on two cores, one thread each; one interface alone is also read on a thread of its own).
    func startSensor(extra: [String] = [], alertFile: String? = nil, interfaces: [String]? = nil) throws {
        let starts = log.components(separatedBy: "capturing on").count
        let binary = productsDirectory.appendingPathComponent("zonewarden").path
        let watched = (interfaces ?? [lab.host("mgmt").port, lab.replayCaptureInterface]).flatMap { ["-i", $0] }
        sensor = try lab.spawn(in: lab.switchNamespace, [binary, "run", "-c", configPath] + watched + [
            "--format", "eve", "-o", alertFile ?? eve,
            "--syslog", "udp://127.0.0.1:\(rsyslog.udpPort)", "--syslog", "tcp://127.0.0.1:\(rsyslog.tcpPort)",
            "--syslog", "relp://127.0.0.1:\(rsyslog.relpPort)",
            "--stats-interval", "1", "--metrics-file", metrics, "--state-file", state] + extra, output: sensorLog)
        // The log is appended to across restarts: wait for this run's line.
        guard waitFor(20, { self.log.components(separatedBy: "capturing on").count > starts }) else { throw ChildProcessError("the sensor did not start: \(log)") }
    }

    var log: String { (try? String(contentsOfFile: sensorLog, encoding: .utf8)) ?? "" }

    /// The names of the sensor's threads (`/proc/PID/task/*/comm`, each with its newline).
    var sensorThreads: [String] {
        guard let pid = sensor?.pid else { return [] }
        return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? [])
            .compactMap { try? String(contentsOfFile: "/proc/\(pid)/task/\($0)/comm", encoding: .utf8) }
    }

    var eveAlerts: [[String: Any]] {
        ((try? String(contentsOfFile: eve, encoding: .utf8)) ?? "").split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    func replay(_ path: String, pps: Int? = nil) throws {
        let rate = pps.map { ["--pps", String($0)] } ?? []
        let status = try lab.execute(in: lab.switchNamespace, ["/usr/bin/tcpreplay", "-q"] + rate + ["-i", lab.replayInterface, path], timeout: 120)
        #expect(status == 0, "tcpreplay failed")
    }

    func tearDown() {
        sensor?.stop(seconds: 15)
        rsyslog.stop()
        lab.tearDown()
    }
}


/// Whether an RFC 5424 line carries `key="value"` in its structured data.
func sd(_ line: String, _ key: String, _ value: String) -> Bool { line.contains(" \(key)=\"\(value)\"") }

@Suite("Live sensor in network namespaces", .serialized,
       .enabled(if: NetworkLab.isAvailable && Rsyslog.isInstalled, "needs root, ip netns, tc and rsyslogd (scripts/setup installs them)"))
struct LiveSensorTests {
    /// Real clients log in to real servers (the sensor captures on the
    /// management host's bridge port); the alerts reach rsyslog over UDP,
    /// TCP and RELP in RFC 5424 with zones and rule ids, and the EVE file; a
    /// replayed capture is analysed on the second interface; no password is
    /// written anywhere; SIGTERM delivers everything and prints the final statistics.
    @Test func realClientsToRsyslog() throws {
        let live = try LiveLab()
        defer { live.tearDown() }
        // The sensor gives root up once its interfaces are open; its files live in the lab's folder.
        chmod(live.lab.directory, 0o777)
        let sentToReplayPort = try live.lab.counter(live.lab.replayInterface, "rx_packets")
        let reportPath = live.lab.directory + "/report.json"
        let evidence = live.lab.directory + "/evidence"
        try live.startSensor(extra: ["--user", "nobody", "--report", reportPath, "--report-interval", "1", "--evidence", evidence])
        let status = (try? String(contentsOfFile: "/proc/\(live.sensor!.pid)/status", encoding: .utf8)) ?? ""
        #expect(status.contains("Uid:\t65534\t65534\t65534\t65534") && status.contains("CapEff:\t0000000000000000"), "\(status)")
        let guest = live.lab.host("guest"), admin = live.lab.host("admin")
        #expect(try live.lab.execute(in: guest.namespace, ["/usr/bin/curl", "-s", "-o", "/dev/null", "-u", "admin:\(LiveLab.httpPassword)", "http://10.10.0.5/"]) == 0)
        #expect(try live.lab.execute(in: admin.namespace, ["/usr/bin/curl", "-s", "-o", "/dev/null", "ftp://ftpadmin:\(LiveLab.ftpPassword)@10.10.0.5/"]) == 0)
        try live.replay(repositoryRoot.appendingPathComponent("Captures/example-site.pcap").path)

        let logins = { (input: String) in live.rsyslog.lines(input).filter { sd($0, "sid", "2001") } }
        // Everything has arrived once the replay's 7001 (its last alert) has, on every input.
        let replayDone = { (input: String) in live.rsyslog.lines(input).contains { sd($0, "sid", "7001") && sd($0, "in_iface", "rp1") } }
        #expect(waitFor(30) { ["udp", "tcp", "relp"].allSatisfy { logins($0).count >= 2 && replayDone($0) } }, "\(live.log)")
        for input in ["udp", "tcp", "relp"] {
            let lines = live.rsyslog.lines(input)
            #expect(lines.allSatisfy { $0.hasPrefix("<") && $0.contains(">1 ") && $0.contains(" zonewarden ") && $0.contains("[zw@32473 sid=\"") }, "\(input): \(lines.prefix(2))")
            let http = lines.first { sd($0, "sid", "2001") && sd($0, "user", "admin") }
            #expect(http.map { sd($0, "src_zone", "web") && sd($0, "dest_zone", "mgmt") && sd($0, "in_iface", live.lab.host("mgmt").port) && sd($0, "app_proto", "http") } == true, "\(input): \(lines)")
            let ftp = lines.first { sd($0, "sid", "2001") && sd($0, "user", "ftpadmin") }
            #expect(ftp.map { sd($0, "src_zone", "admin") && sd($0, "dest_zone", "mgmt") && sd($0, "login", "succeeded") } == true, "\(input): \(lines)")
            #expect(lines.contains { sd($0, "sid", "1001") && sd($0, "src_ip", "192.168.100.10") && sd($0, "dest_zone", "mgmt") })
            // The replayed example site, seen on the second interface.
            #expect(lines.contains { sd($0, "sid", "1006") && sd($0, "in_iface", "rp1") && sd($0, "dest_ip", "192.168.100.50") })
            #expect(lines.contains { sd($0, "sid", "7002") && sd($0, "address", "10.10.0.5") })
        }
        #expect(live.stopSensorCleanly() == 0)
        // The sensor never transmits: nothing left its capture interface rp1 (rp0 received nothing).
        #expect(try live.lab.counter(live.lab.replayInterface, "rx_packets") == sentToReplayPort)
        #expect(try live.lab.counter(live.lab.replayCaptureInterface, "tx_packets") == 0)
        let log = live.log
        #expect(log.contains("SIGTERM: stopping") && log.contains("final: \(live.lab.host("mgmt").port): ") && log.contains("final: rp1: "), "\(log)")
        #expect(log.contains("final: output relp://127.0.0.1:\(live.rsyslog.relpPort): ") && !log.contains("undelivered"), "\(log)")
        // Everything the sensor wrote, anywhere: no password.
        let everything = [live.log, (try? String(contentsOfFile: live.eve, encoding: .utf8)) ?? ""] + ["udp", "tcp", "relp"].map { live.rsyslog.lines($0).joined(separator: "\n") }
        for text in everything {
            #expect(!text.contains(LiveLab.httpPassword) && !text.contains(LiveLab.ftpPassword))
        }
        // Evidence: a file per alert, made by the unprivileged sensor, named by the alert; the logins' passwords masked.
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: evidence)) ?? []).filter { $0.hasSuffix(".pcap") }
        let named = Set(live.eveAlerts.compactMap { $0.metadata["zw_pcap"]?.first })
        #expect(!files.isEmpty && named == Set(files.map { evidence + "/" + $0 }), "\(named) \(files)")
        var info = stat()
        #expect(stat(evidence, &info) == 0 && info.st_uid == 65534 && info.st_mode & 0o777 == 0o700)
        let basic = Data("admin:\(LiveLab.httpPassword)".utf8).base64EncodedString()
        var maskedPass = false
        for f in files {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: evidence + "/" + f))
            for secret in [LiveLab.httpPassword, LiveLab.ftpPassword, basic] { #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(secret) in \(f)") }
            if bytes.range(of: Data(("PASS " + String(repeating: "*", count: LiveLab.ftpPassword.utf8.count)).utf8)) != nil { maskedPass = true }
        }
        #expect(maskedPass, "the FTP login's evidence shows PASS and stars")
        let evidenceMetrics = ((try? String(contentsOfFile: live.metrics, encoding: .utf8)) ?? "").split(separator: "\n").filter { $0.hasPrefix("zonewarden_evidence") }
        #expect(evidenceMetrics.contains("zonewarden_evidence_files_total \(files.count)") && evidenceMetrics.contains("zonewarden_evidence_failures_total 0"), "\(evidenceMetrics)")
        let metricsText = (try? String(contentsOfFile: live.metrics, encoding: .utf8)) ?? ""
        for file in ["metrics file", "state file", "report"] {
            #expect(metricsText.contains("zonewarden_file_write_failures_total{file=\"\(file)\"} 0"), "a sample before any failure: \(file)")
        }
        // The EVE file has what the collectors have; the metrics file counts it.
        let eve = live.eveAlerts
        #expect(eve.count == live.rsyslog.lines("tcp").count && Set(eve.map(\.sid)).isSuperset(of: [1001, 2001, 2003, 1006, 7002]))
        let metrics = (try? String(contentsOfFile: live.metrics, encoding: .utf8)) ?? ""
        #expect(metrics.contains("zonewarden_output_messages_total{output=\"relp://127.0.0.1:\(live.rsyslog.relpPort)\",state=\"delivered\"} \(eve.count)"), "\(metrics)")
        #expect(metrics.contains("zonewarden_packets_dropped_total{interface=\"\(live.lab.host("mgmt").port)\",by=\"kernel\"} 0"))
        // The communication report, rewritten while running and at the end, merges both interfaces.
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: reportPath))) as! [String: Any]
        let cells = report["matrix"] as! [[String: Any]]
        #expect(cells.contains { $0["from"] as? String == "web" && $0["to"] as? String == "mgmt" && $0["violation"] as? Bool == true && ($0["flows"] as! Int) >= 2 },
                "the curl login and the replayed guest: \(cells)")
        #expect(report["captures"] as? [String] == [live.lab.host("mgmt").port, live.lab.replayCaptureInterface])
        // The endpoint state survives: the management host is remembered.
        #expect(((try? String(contentsOfFile: live.state, encoding: .utf8)) ?? "").contains("10.10.0.5 mgmt"))
    }
}

extension LiveLab {
    /// SIGTERM; the exit status.
    func stopSensorCleanly() -> Int32? { sensor?.stop(seconds: 30) }
}

extension LiveLab {
    /// A capture of `count` guests, each opening a connection to the management host.
    func guestsToManagement(_ count: Int, first: Int = 0) throws -> String {
        let s = CaptureScript()
        let mgmt = CaptureBuilder.Host("10.10.0.5")
        for i in first..<(first + count) {
            let guest = CaptureBuilder.Host("192.168.\(100 + i / 250).\(1 + i % 250)")
            s.tcp(client: guest, clientPort: UInt16(20_000 + i % 40_000), server: mgmt, serverPort: 443, messages: [(true, [0x16, 0x03, 0x01, 0x00, 0x01, 0x01])])
        }
        let path = lab.directory + "/guests-\(first)-\(count).pcap"
        try s.write(to: path)
        return path
    }

    func stopSensor() -> Int32? { sensor?.stop(seconds: 30) }
}

extension LiveSensorTests {
    /// A collector that is not there: said at the start (before any alert),
    /// tried again with backoff however often alerts come (a new alert cut the
    /// wait short: about 19 connection attempts a second), and at the stop the
    /// sensor says what it waits for and a second SIGTERM ends the wait.
    @Test func anAbsentCollectorIsSaidAtStartAndRetriedWithBackoff() throws {
        let live = try LiveLab()
        defer { live.tearDown() }
        let port = freePort()
        // TCP connections opened in the sensor's namespace so far (/proc/net/snmp is the namespace's).
        func activeOpens() throws -> Int {
            let out = live.lab.directory + "/snmp-\(UUID().uuidString).txt"
            _ = try live.lab.spawn(in: live.lab.switchNamespace, ["/bin/cat", "/proc/net/snmp"], output: out).wait(seconds: 5)
            let tcp = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").filter { $0.hasPrefix("Tcp:") }.map { $0.split(separator: " ") }
            guard tcp.count == 2, let i = tcp[0].firstIndex(of: "ActiveOpens"), let n = Int(tcp[1][i]) else { throw ChildProcessError("no ActiveOpens in /proc/net/snmp") }
            return n
        }
        // A small queue for the collectors; the file output keeps at least 10,000 (a burst to a healthy file lost alerts).
        try live.startSensor(extra: ["--syslog", "tcp://127.0.0.1:\(port)", "--queue-size", "3"], interfaces: [live.lab.replayCaptureInterface])
        #expect(waitFor(10) { live.log.contains("output tcp://127.0.0.1:\(port): connect: ") && live.log.contains("alerts will be queued and retried") }, "\(live.log)")
        // About 4 s of alerts, one every few milliseconds.
        let capture = try live.guestsToManagement(300)
        let before = try activeOpens()
        let started = Date()
        try live.replay(capture, pps: 600)
        Thread.sleep(forTimeInterval: max(0, 4 - Date().timeIntervalSince(started)))
        let attempts = try activeOpens() - before
        // Backoff from 0.1 s doubling to 5 s: 6 or 7 attempts in 4 s (and the other outputs' reconnections, none here).
        #expect(attempts <= 12, "\(attempts) connection attempts in \(Date().timeIntervalSince(started)) s")
        // The stop: one deadline for all outputs, said; a second SIGTERM ends the wait at once.
        let sensor = try #require(live.sensor)
        sensor.signal(SIGTERM)
        #expect(waitFor(10) { live.log.contains("waiting up to 10 s for tcp://127.0.0.1:\(port) to take the alerts queued") }, "\(live.log)")
        let second = Date()
        sensor.signal(SIGTERM)
        #expect(sensor.wait(seconds: 5) == 4, "\(live.log)")
        #expect(Date().timeIntervalSince(second) < 4 && live.log.contains("SIGTERM again: stopping now"), "\(live.log)")
        #expect(live.log.contains("output tcp://127.0.0.1:\(port): 0 delivered"), "\(live.log)")
        // The file output took every alert all the same, the absent collector's small queue dropped and counted the rest.
        #expect(live.eveAlerts.filter { $0.sid == 1001 }.count == 300)
        let fileLine = live.log.split(separator: "\n").last { $0.contains("final: output \(live.eve): ") }.map(String.init) ?? ""
        #expect(fileLine.hasSuffix(" delivered, 0 queued"), "the file output dropped nothing: \(fileLine)")
        #expect(live.log.contains("final: output tcp://127.0.0.1:\(port): 0 delivered") && live.log.contains("dropped (queue full)"), "\(live.log)")
    }

    /// A link that goes down captures nothing and libpcap says nothing: the
    /// sensor says so, its metrics show the interface not captured, and it says
    /// when the link is up again (the capture goes on).
    @Test func aLinkThatGoesDownIsSaid() throws {
        let live = try LiveLab()
        defer { live.tearDown() }
        let port = live.lab.replayCaptureInterface
        try live.startSensor(interfaces: [port])
        func running() -> String? {
            ((try? String(contentsOfFile: live.metrics, encoding: .utf8)) ?? "").split(separator: "\n")
                .first { $0.hasPrefix("zonewarden_capture_running{interface=\"\(port)\"}") }.map { String($0.split(separator: " ").last ?? "") }
        }
        #expect(waitFor(10) { running() == "1" }, "\(live.log)")
        #expect(try live.lab.execute(in: live.lab.switchNamespace, ["/usr/sbin/ip", "link", "set", port, "down"]) == 0)
        #expect(waitFor(10) { live.log.contains("\(port): the link is down: nothing is captured on it until it is up again") }, "\(live.log)")
        #expect(waitFor(10) { running() == "0" && live.log.contains("; the link is down") }, "\(live.log)")
        #expect(try live.lab.execute(in: live.lab.switchNamespace, ["/usr/sbin/ip", "link", "set", port, "up"]) == 0)
        #expect(waitFor(10) { live.log.contains("\(port): the link is up again") && running() == "1" }, "\(live.log)")
        // The capture goes on after it.
        try live.replay(try live.guestsToManagement(20))
        #expect(live.stopSensor() == 0, "\(live.log)")
        #expect(live.eveAlerts.filter { $0.sid == 1001 }.count == 20, "\(live.log)")
    }

    /// rsyslog restarts while alerts flow over RELP: every alert arrives at
    /// least once, and the sensor's delivered count is what arrived.
    @Test func relpSurvivesACollectorRestart() throws {
        let live = try LiveLab()
        defer { live.tearDown() }
        try live.startSensor()
        let capture = try live.guestsToManagement(400)
        // About 8 s of traffic; the collector is away for a second in the middle of it.
        let replay = try live.lab.spawn(in: live.lab.switchNamespace, ["/usr/bin/tcpreplay", "-q", "--pps", "250", "-i", live.lab.replayInterface, capture])
        #expect(waitFor(20) { live.rsyslog.lines("relp").count >= 100 })
        live.rsyslog.stop()
        Thread.sleep(forTimeInterval: 1)
        try live.rsyslog.start()
        #expect(replay.wait(seconds: 60) == 0)
        let eveCount = { live.eveAlerts.count }
        #expect(waitFor(30) { eveCount() > 0 && Set(live.rsyslog.lines("relp")).count >= eveCount() })
        #expect(live.stopSensor() == 0, "\(live.log)")
        let eve = live.eveAlerts
        let key = { (line: String) -> String? in
            guard let sid = line.firstMatch(of: /sid="(\d+)"/), let flow = line.firstMatch(of: /flow_id="(\d+)"/), let iface = line.firstMatch(of: /in_iface="([^"]+)"/) else { return nil }
            return "\(sid.1) \(iface.1) \(flow.1)"
        }
        let eveKeys = Set(eve.map { "\($0.sid) \($0["in_iface"] as! String) \($0["flow_id"] as! Int)" })
        let relpKeys = Set(live.rsyslog.lines("relp").compactMap(key))
        #expect(eve.count >= 400 && eveKeys.count == eve.count)
        #expect(relpKeys == eveKeys, "\(eveKeys.subtracting(relpKeys).count) alerts missing over RELP")
        let relp = "relp://127.0.0.1:\(live.rsyslog.relpPort)"
        let final = live.log.split(separator: "\n").first { $0.contains("final: output \(relp): ") } ?? ""
        #expect(final.contains(": \(eve.count) delivered, 0 queued") && !final.contains("undelivered") && !final.contains("dropped"), "\(final)")
    }

    /// One interface, on a machine with a core to spare, is read on a thread
    /// of its own (`zw-read`) while its capture thread analyses: its findings
    /// are found, its capture counters are published from the reading thread,
    /// a new configuration that starts the flows afresh (another `max_flows`:
    /// a new flow table, the same flow hash the reader keys packets with)
    /// keeps finding, and a stop ends both threads with what was captured processed.
    @Test(.enabled(if: sysconf(Int32(_SC_NPROCESSORS_ONLN)) >= 2, "one core: no reading thread"))
    func oneInterfaceIsReadOnAThreadOfItsOwn() throws {
        let live = try LiveLab()
        defer { live.tearDown() }
        let flowLog = live.lab.directory + "/flows.json"
        let interface = live.lab.replayCaptureInterface
        try live.startSensor(extra: ["--flow-log", flowLog], interfaces: [interface])
        let threads = { live.sensorThreads }
        // The log's "capturing on" comes as the capture threads start: their readers follow at once.
        #expect(waitFor(5) { threads().contains("zw-read\n") && threads().contains { $0.hasPrefix("capture ") } }, "\(threads())")
        let guests = { (live.eveAlerts.filter { $0.sid == 1001 }.compactMap { $0["src_ip"] as? String }).sorted() }
        try live.replay(try live.guestsToManagement(2, first: 0))
        #expect(waitFor(15) { guests() == ["192.168.100.1", "192.168.100.2"] }, "\(live.log)")
        // The reading thread's counters reach the metrics.
        let received = { ((try? String(contentsOfFile: live.metrics, encoding: .utf8)) ?? "")
            .firstMatch(of: /zonewarden_packets_received_total\{interface="[^"]+"\} (\d+)/).flatMap { Int($0.1) } ?? 0 }
        #expect(waitFor(10) { received() >= 10 }, "\(received())")

        let config = try String(contentsOfFile: live.configPath, encoding: .utf8)
        try config.replacingOccurrences(of: "\nsensor:\n", with: "\nsensor:\n  max_flows: 8192\n").write(toFile: live.configPath, atomically: true, encoding: .utf8)
        live.sensor!.signal(SIGUSR2)
        #expect(waitFor(10) { live.log.contains("start afresh") }, "\(live.log)")
        try live.replay(try live.guestsToManagement(2, first: 2))
        #expect(waitFor(15) { guests() == ["192.168.100.1", "192.168.100.2", "192.168.100.3", "192.168.100.4"] }, "\(live.log)")

        // Sent while the stop is asked: processed before the sensor ends.
        let late = try live.guestsToManagement(1, first: 4)
        try live.replay(late)
        #expect(live.stopSensor() == 0)
        #expect(guests().count == 5, "\(guests())")
        let final = live.log.split(separator: "\n").last { $0.contains("final: \(interface):") }.map(String.init) ?? ""
        #expect(final.contains(" received, 0 dropped by the kernel"), "\(final)")
        // Every guest's flow has its record: the first two ended by the reload, the others at the stop.
        let records = ((try? String(contentsOfFile: flowLog, encoding: .utf8)) ?? "").split(separator: "\n").filter { $0.contains("\"dest_port\":443,") }
        #expect(records.filter { $0.contains("\"reason\":\"forced\"") }.count == 2 && records.filter { $0.contains("\"reason\":\"shutdown\"") }.count == 3,
                "\(records)")
    }

    /// SIGUSR2 with a broken configuration keeps the sensor on the old one;
    /// with a good one it switches (here: 1001 becomes high); SIGHUP reopens
    /// the EVE file after rotation. The endpoints are remembered across a restart.
    @Test func sigusr2ReloadsAndKeepsTheOldConfigOnErrors() throws {
        let live = try LiveLab()
        defer { live.tearDown() }
        try live.startSensor()
        let good = try String(contentsOfFile: live.configPath, encoding: .utf8)
        try "zones:\n  mgmt: { role: managment, vlans: [10] }\n".write(toFile: live.configPath, atomically: true, encoding: .utf8)
        live.sensor!.signal(SIGUSR2)
        #expect(waitFor(10) { live.log.contains("keeping the running configuration") }, "\(live.log)")
        #expect(live.log.contains("SIGUSR2: \(live.configPath):2:17: unknown role \"managment\" (did you mean \"management\"?)"))
        #expect(live.sensor!.isRunning)
        try live.replay(try live.guestsToManagement(1, first: 0))
        #expect(waitFor(15) { live.eveAlerts.contains { $0.sid == 1001 && ($0["alert"] as! [String: Any])["severity"] as? Int == 1 } }, "still critical under the old configuration")
        // The replay's other findings (its flow's later packets) are written before the rotation: wait until the file stops growing.
        var written = -1
        _ = waitFor(10) {
            let now = live.eveAlerts.count
            defer { written = now }
            if now == written { return true }
            Thread.sleep(forTimeInterval: 1)
            return false
        }

        // Rotate the EVE file, then a valid configuration that makes 1001 high.
        try FileManager.default.moveItem(atPath: live.eve, toPath: live.eve + ".1")
        live.sensor!.signal(SIGHUP)
        #expect(waitFor(10) { FileManager.default.fileExists(atPath: live.eve) }, "SIGHUP creates the rotated file afresh")
        #expect(good.contains("\nrules:\n"))
        try good.replacingOccurrences(of: "\nrules:\n", with: "\nrules:\n  guest-to-management: { severity: high }\n")
            .replacingOccurrences(of: "\nsensor:\n", with: "\nsensor:\n  snaplen: 1500\n")
            .write(toFile: live.configPath, atomically: true, encoding: .utf8)
        live.sensor!.signal(SIGUSR2)
        #expect(waitFor(10) { live.log.contains("\(live.configPath) reloaded") }, "\(live.log)")
        #expect(live.log.contains("flows go on") && !live.log.contains("start afresh"))
        // What a reload cannot change (a capture option) is said.
        #expect(waitFor(5) { live.log.contains("SIGUSR2: note: sensor.snaplen changed: in force from the next start, not now") }, "\(live.log)")
        Thread.sleep(forTimeInterval: 0.5)
        try live.replay(try live.guestsToManagement(1, first: 1))
        #expect(waitFor(15) { live.eveAlerts.contains { $0.sid == 1001 && $0.zw["severity"] as? String == "high" } }, "\(live.log)")
        #expect(live.eveAlerts.allSatisfy { ($0["src_ip"] as? String) != "192.168.100.1" }, "the rotated file keeps the alerts from before")
        #expect(live.stopSensor() == 0)

        // A restart with the same state file: the management host is known, no second 7002 for it.
        #expect(((try? String(contentsOfFile: live.state, encoding: .utf8)) ?? "").contains("10.10.0.5 mgmt"))
        try live.startSensor()
        try live.replay(try live.guestsToManagement(1, first: 2))
        #expect(waitFor(15) { live.eveAlerts.contains { ($0["src_ip"] as? String) == "192.168.100.3" } })
        #expect(live.stopSensor() == 0)
        let rotated = ((try? String(contentsOfFile: live.eve + ".1", encoding: .utf8)) ?? "").split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let reports = (rotated + live.eveAlerts).filter { $0.sid == 7002 && $0.evidence["address"] as? String == "10.10.0.5" }
        #expect(reports.count == 1, "reported by the first run only")
    }
}

extension LiveSensorTests {
    /// A real FTP session open across log rotation (SIGHUP) and a new
    /// configuration (SIGUSR2): the password sent after both is still seen
    /// (the flow and its inspection went on), the alert goes to the file
    /// SIGHUP created and carries the new configuration's zones, and the
    /// password is written nowhere.
    @Test func signalsKeepFlowsAndTheirInspections() throws {
        let live = try LiveLab()
        defer { live.tearDown() }
        let flowLog = live.lab.directory + "/flows.json"
        try live.startSensor(extra: ["--flow-log", flowLog])
        let ready = live.lab.directory + "/ftp-ready", go = live.lab.directory + "/ftp-go"
        let script = """
            import ftplib, os, time
            f = ftplib.FTP()
            f.connect("10.10.0.5", 21, timeout=60)
            f.sendcmd("USER ftpadmin")
            open("\(ready)", "w").close()
            while not os.path.exists("\(go)"): time.sleep(0.05)
            f.sendcmd("PASS \(LiveLab.ftpPassword)")
            f.quit()
            """
        let guest = live.lab.host("guest")
        let client = try live.lab.spawn(in: guest.namespace, ["/usr/bin/python3", "-c", script], output: live.lab.directory + "/ftp-client.log")
        #expect(waitFor(20) { FileManager.default.fileExists(atPath: ready) }, "the FTP client did not get as far as USER")
        #expect(waitFor(15) { live.eveAlerts.contains { $0.sid == 1001 && $0["dest_port"] as? Int == 21 } }, "\(live.log)")

        // Rotation: the EVE file and the flow log are renamed, SIGHUP makes them anew.
        try FileManager.default.moveItem(atPath: live.eve, toPath: live.eve + ".1")
        try FileManager.default.moveItem(atPath: flowLog, toPath: flowLog + ".1")
        live.sensor!.signal(SIGHUP)
        #expect(waitFor(10) { FileManager.default.fileExists(atPath: live.eve) && FileManager.default.fileExists(atPath: flowLog) }, "\(live.log)")
        #expect(live.log.contains("zonewarden: flow log \(flowLog): reopened"), "\(live.log)")
        // A new configuration: the guest zone is renamed.
        let renamed = try String(contentsOfFile: live.configPath, encoding: .utf8)
            .replacingOccurrences(of: "\n  web:", with: "\n  tenants:").replacingOccurrences(of: "from: [web, db]", with: "from: [tenants, db]")
            .replacingOccurrences(of: "from: web,", with: "from: tenants,")
        try renamed.write(toFile: live.configPath, atomically: true, encoding: .utf8)
        live.sensor!.signal(SIGUSR2)
        #expect(waitFor(10) { live.log.contains("\(live.configPath) reloaded") }, "\(live.log)")

        try "".write(toFile: go, atomically: true, encoding: .utf8)
        #expect(client.wait(seconds: 30) == 0, "the FTP client failed")
        #expect(waitFor(15) { live.eveAlerts.contains { $0.sid == 2001 && $0.evidence["user"] as? String == "ftpadmin" } }, "\(live.log)")
        let login = live.eveAlerts.first { $0.sid == 2001 }
        #expect(login?.zw["src_zone"] as? String == "tenants", "judged by the new zones: \(String(describing: login))")
        #expect(!live.eveAlerts.contains { $0.sid == 1001 && $0["dest_port"] as? Int == 21 }, "the session's 1001 is not written again")
        #expect(live.stopSensor() == 0)
        for file in [live.eve, live.eve + ".1", flowLog, flowLog + ".1", live.sensorLog] {
            #expect(!(((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").contains(LiveLab.ftpPassword)), "\(file)")
        }
        // The session's flow has one record, in the new flow log: it went on.
        let records = ((try? String(contentsOfFile: flowLog, encoding: .utf8)) ?? "").split(separator: "\n").filter { $0.contains("\"dest_port\":21,") }
        #expect(records.count == 1, "\(records)")
    }

    /// The shipped logrotate file, run by the real logrotate (its paths
    /// pointed at the lab, its postrotate at this sensor): the EVE file and
    /// the flow log (when not empty) are renamed and made anew, later alerts go to the new file.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/logrotate"), "logrotate is not installed (scripts/setup installs it)"))
    func logrotateRotatesTheFiles() throws {
        let live = try LiveLab()
        defer { live.tearDown() }
        let flowLog = live.lab.directory + "/flows.json"
        try live.startSensor(extra: ["--flow-log", flowLog])
        try live.replay(try live.guestsToManagement(3))
        #expect(waitFor(15) { live.eveAlerts.filter { $0.sid == 1001 }.count == 3 }, "\(live.log)")
        let shipped = try String(contentsOfFile: repositoryRoot.appendingPathComponent("config/zonewarden.logrotate").path, encoding: .utf8)
        #expect(shipped.contains("/var/log/zonewarden/") && shipped.contains("systemctl kill --signal=HUP"))
        let lines = shipped.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.contains("systemctl kill --signal=HUP") ? "        kill -HUP \(live.sensor!.pid)" : String(line)
        }
        let conf = live.lab.directory + "/logrotate.conf"
        try lines.joined(separator: "\n").replacingOccurrences(of: "/var/log/zonewarden/", with: live.lab.directory + "/")
            .write(toFile: conf, atomically: true, encoding: .utf8)
        chmod(conf, 0o644)
        let status = try live.lab.execute(in: live.lab.switchNamespace, ["/usr/sbin/logrotate", "-f", "-s", live.lab.directory + "/logrotate.state", conf])
        #expect(status == 0)
        // The flow log is still empty (the flows are open): notifempty leaves it.
        #expect(FileManager.default.fileExists(atPath: live.eve + ".1") && !FileManager.default.fileExists(atPath: flowLog + ".1"))
        #expect(waitFor(10) { FileManager.default.fileExists(atPath: live.eve) }, "\(live.log)")
        try live.replay(try live.guestsToManagement(2, first: 3))
        #expect(waitFor(15) { live.eveAlerts.filter { $0.sid == 1001 }.count == 2 }, "\(live.log)")
        let rotated = ((try? String(contentsOfFile: live.eve + ".1", encoding: .utf8)) ?? "").split(separator: "\n").filter { $0.contains("\"signature_id\":1001") }
        #expect(rotated.count == 3)
        #expect(live.stopSensor() == 0)
        #expect(!live.log.contains("cannot reopen"))
    }

    /// A running sensor writes each evidence file when its flow ends (here
    /// by its timeout), not at the stop: every file the alerts name is there
    /// while the sensor still runs, the flows after an inspector recognised
    /// them on a packet included, with every packet of the flow.
    @Test func evidenceIsWrittenWhenTheFlowEnds() throws {
        let live = try LiveLab()
        defer { live.tearDown() }
        let config = try String(contentsOfFile: live.configPath, encoding: .utf8)
        try config.replacingOccurrences(of: "\nsensor:\n", with: "\nsensor:\n  flow_timeouts: { tcp_new: 2, tcp: 3, tcp_closed: 1, udp: 2, icmp: 2, other: 2 }\n")
            .write(toFile: live.configPath, atomically: true, encoding: .utf8)
        let evidence = live.lab.directory + "/evidence", flowLog = live.lab.directory + "/flows.json"
        try live.startSensor(extra: ["--evidence", evidence, "--flow-log", flowLog], interfaces: [live.lab.replayCaptureInterface])
        try live.replay(repositoryRoot.appendingPathComponent("Captures/example-site.pcap").path)
        #expect(waitFor(15) { live.eveAlerts.contains { $0.sid == 7001 } }, "\(live.log)")
        let named = { Set(live.eveAlerts.compactMap { $0.metadata["zw_pcap"]?.first }) }
        let written = { Set(((try? FileManager.default.contentsOfDirectory(atPath: evidence)) ?? []).filter { $0.hasSuffix(".pcap") }.map { evidence + "/" + $0 }) }
        #expect(waitFor(15) { !named().isEmpty && named() == written() }, "named \(named().subtracting(written())) not written: \(live.log)")
        // The HTTP flow of 7001 (alerted at its first packet, its request recognised later): all its packets.
        let records = ((try? String(contentsOfFile: flowLog, encoding: .utf8)) ?? "").split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let http = try #require(records.first { $0["dest_ip"] as? String == "10.77.0.5" }, "\(records.count) flow records")
        #expect((http["flow"] as? [String: Any])?["reason"] as? String == "timeout")
        let file = try #require(live.eveAlerts.first { $0.sid == 7001 }?.metadata["zw_pcap"]?.first)
        let packets = ((http["flow"] as? [String: Any]).map { ($0["pkts_toserver"] as? Int ?? 0) + ($0["pkts_toclient"] as? Int ?? 0) }) ?? 0
        #expect(try pcapPacketCount(file) == packets, "\(file)")
        #expect(live.stopSensor() == 0)
    }

    /// SIGTERM right after a burst: what the kernel had captured is still
    /// decoded (received == decoded on the replay interface), and every
    /// guest's alert is written.
    @Test func stopProcessesWhatWasCaptured() throws {
        let live = try LiveLab()
        defer { live.tearDown() }
        let flowLog = live.lab.directory + "/flows.json"
        try live.startSensor(extra: ["--flow-log", flowLog])
        let capture = try live.guestsToManagement(600)
        let sent = try live.lab.counter(live.lab.replayInterface, "tx_packets")
        try live.replay(capture)
        let burst = try live.lab.counter(live.lab.replayInterface, "tx_packets") - sent
        #expect(live.stopSensor() == 0, "\(live.log)")
        let final = live.log.split(separator: "\n").first { $0.contains("final: \(live.lab.replayCaptureInterface): ") }.map(String.init) ?? ""
        let counts = final.firstMatch(of: /: (\d+) received, 0 dropped by the kernel, 0 by the interface; (\d+) decoded/)
        #expect(counts.map { Int($0.1) == burst && Int($0.2) == burst } == true, "sent \(burst): \(final)")
        let guests = Set(live.eveAlerts.filter { $0.sid == 1001 }.compactMap { $0["src_ip"] as? String })
        #expect(guests.count == 600, "\(guests.count) of 600 guests reported")
        // Every guest's flow, still open at the stop, has its record; the packets add up.
        let records = ((try? String(contentsOfFile: flowLog, encoding: .utf8)) ?? "").split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let guestRecords = records.filter { ($0["src_ip"] as? String).map(guests.contains) == true }
        #expect(Set(guestRecords.compactMap { $0["src_ip"] as? String }).count == 600, "\(records.count) flow records")
        #expect(guestRecords.allSatisfy { ($0["flow"] as? [String: Any])?["reason"] as? String == "shutdown" })
        // Both interfaces' flows in one file: no id names two of them.
        let ids = records.compactMap { $0["flow_id"] as? Int }
        #expect(ids.count == records.count && Set(ids).count == ids.count)
        #expect(guestRecords.allSatisfy { $0["in_iface"] as? String == live.lab.replayCaptureInterface })
        let packets = guestRecords.map { r in ((r["flow"] as? [String: Any]).map { ($0["pkts_toserver"] as? Int ?? 0) + ($0["pkts_toclient"] as? Int ?? 0) }) ?? 0 }
        #expect(packets.reduce(0, +) == burst, "packets in the guests' flow records, of \(burst) replayed")
    }

    /// After --user the sensor cannot create the rotated alert file in a
    /// folder only root may write: it says so, keeps writing to the file it
    /// has, counts it in the metrics and exits with status 4.
    @Test func aFailedReopenIsSaidCountedAndEndsInStatus4() throws {
        let live = try LiveLab()
        defer { live.tearDown() }
        chmod(live.lab.directory, 0o777)
        let rootOnly = live.lab.directory + "/alerts"
        // Writable at the start (the sensor checks), only root's by the time of the rotation.
        try FileManager.default.createDirectory(atPath: rootOnly, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        let alertFile = rootOnly + "/eve.json"
        try live.startSensor(extra: ["--user", "nobody"], alertFile: alertFile)
        chmod(rootOnly, 0o755)
        // A SIGHUP with nothing rotated (logrotate's notifempty) keeps the open file: no reopen to fail as nobody.
        live.sensor!.signal(SIGHUP)
        Thread.sleep(forTimeInterval: 2)
        #expect(!live.log.contains("cannot reopen"), "\(live.log)")
        try FileManager.default.moveItem(atPath: alertFile, toPath: alertFile + ".1")
        live.sensor!.signal(SIGHUP)
        #expect(waitFor(10) { live.log.contains("output \(alertFile): cannot reopen after rotation: ") }, "\(live.log)")
        #expect(live.log.contains("alerts still go to the file opened before"))
        try live.replay(try live.guestsToManagement(3))
        let rotated = { ((try? String(contentsOfFile: alertFile + ".1", encoding: .utf8)) ?? "").split(separator: "\n").count }
        #expect(waitFor(15) { rotated() >= 3 }, "the alerts go on to the file opened before")
        #expect(waitFor(5) { ((try? String(contentsOfFile: live.metrics, encoding: .utf8)) ?? "").contains("zonewarden_output_reopen_failures_total{output=\"\(alertFile)\"} 1") })
        #expect(live.stopSensor() == 4)
        #expect(live.log.contains("final: output \(alertFile): ") && live.log.contains("1 failed reopen"), "\(live.log)")
        #expect(!FileManager.default.fileExists(atPath: alertFile))
    }

    /// After giving up root, every file the sensor will write is checked
    /// before anything is captured: one line naming the file, status 4.
    @Test func unwritableFilesStopTheStartWithStatus4() throws {
        let live = try LiveLab()
        defer { live.tearDown() }
        chmod(live.lab.directory, 0o777)
        let rootOnly = live.lab.directory + "/private"
        try FileManager.default.createDirectory(atPath: rootOnly, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let binary = productsDirectory.appendingPathComponent("zonewarden").path
        for (option, path) in [("--metrics-file", rootOnly + "/metrics.prom"), ("--state-file", rootOnly + "/state"), ("-o", rootOnly + "/eve.json")] {
            let log = live.lab.directory + "/refused.log"
            unlink(log)
            var arguments = [binary, "run", "-c", live.configPath, "-i", live.lab.replayCaptureInterface, "--user", "nobody", "--format", "eve"]
            if option != "-o" { arguments += ["-o", live.lab.directory + "/eve.json"] }
            let p = try live.lab.spawn(in: live.lab.switchNamespace, arguments + [option, path], output: log)
            #expect(p.wait(seconds: 20) == 4)
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            let lines = text.split(separator: "\n").filter { !$0.contains("does not exist yet: learning") }
            #expect(lines.count == 1 && lines[0].contains(path) && lines[0].contains("as user nobody") && lines[0].hasSuffix("nothing captured"), "\(option): \(text)")
            #expect(!text.contains("capturing on"))
        }
    }

    /// A configuration only root may read: the sensor started as root runs
    /// as `--user` and could not read it at a reload; the start says so, and
    /// a reload keeps the running configuration.
    @Test func aConfigurationTheUserCannotReadIsSaidAtTheStart() throws {
        let live = try LiveLab()
        defer { live.tearDown() }
        chmod(live.lab.directory, 0o777)
        chmod(live.configPath, 0o600)
        try live.startSensor(extra: ["--user", "nobody", "--state-file", live.lab.directory + "/state-nobody"], interfaces: [live.lab.replayCaptureInterface])
        #expect(live.log.contains("note: \(live.configPath) cannot be read as user nobody (Permission denied): a reload (SIGUSR2) will keep the running configuration"), "\(live.log)")
        live.sensor!.signal(SIGUSR2)
        #expect(waitFor(10) { live.log.contains("keeping the running configuration") }, "\(live.log)")
        #expect(live.sensor!.isRunning)
        #expect(live.stopSensor() == 0)
    }

    /// The shipped unit's privileges: an unprivileged user with CAP_NET_RAW alone captures,
    /// and puts the interface into promiscuous mode (libpcap's packet-socket membership).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "setpriv is missing (util-linux)"))
    func capNetRawAloneCapturesPromiscuously() throws {
        let live = try LiveLab()
        defer { live.tearDown() }
        chmod(live.lab.directory, 0o777)
        let config = live.lab.directory + "/unprivileged.yaml", log = live.lab.directory + "/unprivileged.log"
        try String(contentsOfFile: live.configPath, encoding: .utf8).write(toFile: config, atomically: true, encoding: .utf8)
        chmod(config, 0o644)
        let binary = productsDirectory.appendingPathComponent("zonewarden").path
        let setpriv = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all,+net_raw",
                       "--ambient-caps=-all,+net_raw", "--bounding-set=-all,+net_raw"]
        let p = try live.lab.spawn(in: live.lab.switchNamespace, setpriv + [binary, "run", "-c", config, "-i", live.lab.replayCaptureInterface,
                                                                           "-o", "/dev/null", "--stats-interval", "1"], output: log)
        defer { _ = p.stop() }
        func text() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        #expect(waitFor(15) { text().contains("capturing on \(live.lab.replayCaptureInterface)") }, "\(text())")
        let link = live.lab.directory + "/link.txt"
        let show = try live.lab.spawn(in: live.lab.switchNamespace, ["/usr/sbin/ip", "-d", "link", "show", live.lab.replayCaptureInterface], output: link)
        #expect(show.wait(seconds: 10) == 0)
        let promiscuity = ((try? String(contentsOfFile: link, encoding: .utf8)) ?? "").firstMatch(of: /promiscuity (\d+)/).flatMap { Int($0.1) } ?? 0
        #expect(promiscuity >= 1, "the capture interface is promiscuous with CAP_NET_RAW alone")
        #expect(p.isRunning && !text().contains("Operation not permitted"), "\(text())")
    }

    /// A file that stops being writable while the sensor runs: counted in the
    /// metrics every interval, said once.
    @Test func aFileThatFailsLaterIsSaidOnceAndCounted() throws {
        let live = try LiveLab()
        defer { live.tearDown() }
        chmod(live.lab.directory, 0o777)
        let stateDirectory = live.lab.directory + "/state"
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        let metrics = live.lab.directory + "/later.prom", log = live.lab.directory + "/later.log"
        let binary = productsDirectory.appendingPathComponent("zonewarden").path
        let p = try live.lab.spawn(in: live.lab.switchNamespace, [binary, "run", "-c", live.configPath, "-i", live.lab.replayCaptureInterface,
            "--user", "nobody", "--format", "eve", "-o", live.lab.directory + "/later.json", "--stats-interval", "1",
            "--metrics-file", metrics, "--state-file", stateDirectory + "/endpoints"], output: log)
        let text = { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        #expect(waitFor(20) { text().contains("capturing on") }, "\(text())")
        chmod(stateDirectory, 0o755)  // root's folder: nobody can no longer replace the state file
        try live.replay(try live.guestsToManagement(3))  // a management host to remember: the state must be saved
        let failures = { ((try? String(contentsOfFile: metrics, encoding: .utf8)) ?? "").firstMatch(of: /zonewarden_file_write_failures_total\{file="state file"\} (\d+)/).flatMap { Int($0.1) } ?? 0 }
        #expect(waitFor(15) { failures() >= 3 }, "\(text())")
        p.signal(SIGTERM)
        #expect(p.wait(seconds: 30) == 0)
        let said = text().split(separator: "\n").filter { $0.contains("said once, counted in zonewarden_file_write_failures_total") }
        #expect(said.count == 1 && said[0].contains(stateDirectory), "\(text())")
    }

    /// A bridge and one of its ports see the same frames: a real client's
    /// request from a guest to the management host is one finding, written
    /// once and naming both interfaces (`seen_on`); the copies are counted.
    @Test func aBridgeAndItsPortWriteEachFindingOnce() throws {
        let live = try LiveLab()
        defer { live.tearDown() }
        let eve = live.lab.directory + "/twice.json", metrics = live.lab.directory + "/twice.prom", log = live.lab.directory + "/twice.log"
        let port = live.lab.host("mgmt").port
        let binary = productsDirectory.appendingPathComponent("zonewarden").path
        let p = try live.lab.spawn(in: live.lab.switchNamespace, [binary, "run", "-c", live.configPath, "-i", "br0", "-i", port,
            "--format", "eve", "-o", eve, "--stats-interval", "1", "--metrics-file", metrics], output: log)
        let text = { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        #expect(waitFor(20) { text().contains("capturing on") }, "\(text())")
        let guest = live.lab.host("guest"), mgmt = live.lab.host("mgmt")
        for _ in 0..<2 {
            #expect(try live.lab.execute(in: guest.namespace, ["/usr/bin/curl", "-s", "-o", "/dev/null", "http://\(mgmt.address)/"]) == 0)
        }
        let duplicates = { ((try? String(contentsOfFile: metrics, encoding: .utf8)) ?? "").firstMatch(of: /zonewarden_interface_duplicates_total (\d+)/).flatMap { Int($0.1) } ?? 0 }
        #expect(waitFor(15) { duplicates() >= 1 }, "\(text())")
        p.signal(SIGTERM)
        #expect(p.wait(seconds: 30) == 0)
        let alerts = ((try? String(contentsOfFile: eve, encoding: .utf8)) ?? "").split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let sid = { (a: [String: Any]) in (a["alert"] as? [String: Any])?["signature_id"] as? Int }
        let guestToManagement = alerts.filter { sid($0) == 1001 }
        #expect(guestToManagement.count == 1, "\(alerts)")
        let first = try #require(guestToManagement.first)
        let evidence: [String: Any]? = first.zw
        let seenOn = Set(((evidence?["seen_on"] as? String) ?? "").split(separator: ",").map(String.init))
        #expect(seenOn == ["br0", port], "\(first)")
        #expect(seenOn.contains(first["in_iface"] as? String ?? ""), "\(first)")
        // No finding is written twice, whichever interface found it first.
        let findings = alerts.map { "\(sid($0) ?? 0) \($0["src_ip"] ?? "") \($0["dest_ip"] ?? "") \($0["dest_port"] ?? "")" }
        #expect(Set(findings).count == findings.count, "\(findings)")
        #expect(text().contains("findings seen on several interfaces: "), "\(text())")
    }

    /// A mirror port recorded the ways operators do: `tcpdump -G 1 -z gzip`
    /// (hourly files in real life, seconds here) and `dumpcap -b duration:1`
    /// (a pcapng ring), beside one plain `tcpdump -w` of the same interface.
    /// Each rotated set, read as a folder, gives the alerts of the plain file.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/dumpcap") && FileManager.default.isExecutableFile(atPath: "/usr/bin/tcpdump")))
    func rotatedCapturesFromTcpdumpAndDumpcap() throws {
        let lab = try NetworkLab(hosts: [("guest", "192.168.100.10/22")])
        defer { lab.tearDown() }
        let d = lab.directory
        for folder in ["tcpdump", "dumpcap"] { try FileManager.default.createDirectory(atPath: "\(d)/\(folder)", withIntermediateDirectories: true) }
        let port = lab.replayCaptureInterface
        let captures = [
            try lab.spawn(in: lab.switchNamespace, ["/usr/bin/tcpdump", "-Z", "root", "-i", port, "-w", "\(d)/single.pcap"]),
            try lab.spawn(in: lab.switchNamespace, ["/usr/bin/tcpdump", "-Z", "root", "-i", port, "-G", "1", "-z", "gzip", "-w", "\(d)/tcpdump/trace-%s.pcap"]),
            try lab.spawn(in: lab.switchNamespace, ["/usr/bin/dumpcap", "-q", "-i", port, "-b", "duration:1", "-w", "\(d)/dumpcap/ring.pcapng"]),
        ]
        Thread.sleep(forTimeInterval: 2)  // the three are listening
        let capture = repositoryRoot.appendingPathComponent("Captures/cleartext-admin-login.pcap").path
        let status = try lab.execute(in: lab.switchNamespace, ["/usr/bin/tcpreplay", "-q", "--pps", "80", "-i", lab.replayInterface, capture], timeout: 60)
        #expect(status == 0, "tcpreplay failed")
        Thread.sleep(forTimeInterval: 1.5)
        for c in captures { c.stop(seconds: 10) }
        // tcpdump -z runs gzip on each finished file in the background.
        _ = waitFor(10) { ((try? FileManager.default.contentsOfDirectory(atPath: "\(d)/tcpdump")) ?? []).filter { !$0.hasSuffix(".gz") }.count <= 1 }

        func alerts(_ inputs: [String]) throws -> (keys: [String], stderr: String) {
            let out = "\(d)/alerts.json", err = "\(d)/alerts.err"
            let binary = productsDirectory.appendingPathComponent("zonewarden").path
            let p = try ChildProcess("/usr/bin/bash", ["-c", "'\(binary)' analyze --workers 1 -c '\(repositoryRoot.path)/config/example.yaml' --format eve --summary "
                + inputs.map { "'\($0)'" }.joined(separator: " ") + " > '\(out)' 2> '\(err)'"])
            #expect(p.wait(seconds: 60) == 0, "\((try? String(contentsOfFile: err, encoding: .utf8)) ?? "")")
            let keys = ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { line -> String? in
                guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let a = o["alert"] as? [String: Any] else { return nil }
                return "\(a["signature_id"] ?? "") \(o["timestamp"] ?? "") \(o["src_ip"] ?? "") \(o["src_port"] ?? "") \(o["dest_ip"] ?? "") \(o["dest_port"] ?? "")"
            }.sorted()
            return (keys, (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
        }
        let single = try alerts(["\(d)/single.pcap"])
        #expect(single.keys.count >= 5, "the replay gives alerts: \(single.keys.count) \(single.stderr)")
        for folder in ["tcpdump", "dumpcap"] {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: "\(d)/\(folder)")) ?? []
            #expect(files.count >= 3, "\(folder) rotated into \(files)")
            let rotated = try alerts(["\(d)/\(folder)"])
            #expect(rotated.keys == single.keys, "\(folder): \(rotated.keys.count) alerts, the plain file \(single.keys.count); \(rotated.stderr)")
        }
    }
}

/// The packets in a pcap file as the evidence directory writes it (little-endian; micro- or nanosecond).
func pcapPacketCount(_ path: String) throws -> Int {
    let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    func u32(_ o: Int) -> Int { Int(data[o]) | Int(data[o + 1]) << 8 | Int(data[o + 2]) << 16 | Int(data[o + 3]) << 24 }
    guard data.count >= 24, [0xA1B2_C3D4, 0xA1B2_3C4D].contains(u32(0)) else { throw ChildProcessError("\(path) is no little-endian pcap file") }
    var offset = 24, count = 0
    while offset + 16 <= data.count {
        offset += 16 + u32(offset + 8)
        count += 1
    }
    guard offset == data.count else { throw ChildProcessError("\(path): the last record is cut short") }
    return count
}

extension LiveSensorTests {
    /// `run --workers 2` on one interface: a reading thread feeds two
    /// workers. A replayed capture with findings over hundreds of flows gives
    /// the alerts `analyze` gives for the file (7002 aside: only the sensor
    /// has a state file); a reload that keeps the flows is in force for the
    /// next ones, one that changes `max_flows` starts them afresh; the counters
    /// are summed over the workers, and the stop processes what was captured.
    @Test(.enabled(if: sysconf(Int32(_SC_NPROCESSORS_ONLN)) >= 2, "one core: the reader and the workers would share it"))
    func workersShareOneInterface() throws {
        let live = try LiveLab()
        defer { live.tearDown() }
        let flowLog = live.lab.directory + "/flows.json"
        let interface = live.lab.replayCaptureInterface
        // A large kernel buffer and a moderate rate: the debug (or sanitized) build must drop nothing for the comparison.
        try live.startSensor(extra: ["--flow-log", flowLog, "--workers", "2", "--buffer-size", "67108864"], interfaces: [interface])
        #expect(live.log.contains("(2 workers)"), "\(live.log)")
        #expect(waitFor(5) { Set(live.sensorThreads).isSuperset(of: ["zw-read\n", "zw-worker-0\n", "zw-worker-1\n"]) }, "\(live.sensorThreads)")

        // Findings spread over many hosts and flows, both workers' shares.
        let mix = live.lab.directory + "/alerts-mix.pcap"
        _ = try BenchmarkCapture.write(path: mix, packets: 10_000, flows: 600, seed: 5, mix: .alerts)
        let analyzed = live.lab.directory + "/analyzed.json"
        let binary = productsDirectory.appendingPathComponent("zonewarden").path
        #expect(try live.lab.execute(in: live.lab.switchNamespace, [binary, "analyze", "-c", live.configPath, "--format", "eve", "-o", analyzed, mix], timeout: 60) == 0)
        func keys(_ alerts: [[String: Any]]) -> Set<String> {
            Set(alerts.filter { $0.sid != 7002 }.map { "\($0.sid) \($0["src_ip"] ?? "") \($0["dest_ip"] ?? "") \($0["dest_port"] ?? "")" })
        }
        let expected = keys(((try? String(contentsOfFile: analyzed, encoding: .utf8)) ?? "").split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
        #expect(expected.count > 50, "\(expected.count)")
        try live.replay(mix, pps: 5_000)
        // The workers' counters are summed: every packet replayed is counted once.
        let packets = { ((try? String(contentsOfFile: live.metrics, encoding: .utf8)) ?? "")
            .firstMatch(of: /zonewarden_packets_decoded_total\{interface="[^"]+"\} (\d+)/).flatMap { Int($0.1) } ?? 0 }
        #expect(waitFor(10) { packets() >= 10_000 }, "\(packets())")

        // A reload that keeps the flows: 1001 becomes high for the next guests.
        let config = try String(contentsOfFile: live.configPath, encoding: .utf8)
        try config.replacingOccurrences(of: "\nrules:\n", with: "\nrules:\n  guest-to-management: { severity: high }\n")
            .write(toFile: live.configPath, atomically: true, encoding: .utf8)
        live.sensor!.signal(SIGUSR2)
        #expect(waitFor(10) { live.log.contains("\(live.configPath) reloaded") }, "\(live.log)")
        Thread.sleep(forTimeInterval: 0.5)
        // Guests 192.168.120.51-54 (the db zone), not among the mix's hosts.
        let newGuests: Set<String> = ["192.168.120.51", "192.168.120.52", "192.168.120.53", "192.168.120.54"]
        let guests = { live.eveAlerts.filter { $0.sid == 1001 && newGuests.contains($0["src_ip"] as? String ?? "") } }
        try live.replay(try live.guestsToManagement(2, first: 5050))
        #expect(waitFor(15) { guests().count == 2 }, "\(live.log)")
        #expect(guests().allSatisfy { $0.zw["severity"] as? String == "high" }, "\(guests())")

        // Another max_flows: new tables for both workers, the open flows ended with records.
        try config.replacingOccurrences(of: "\nsensor:\n", with: "\nsensor:\n  max_flows: 8192\n").write(toFile: live.configPath, atomically: true, encoding: .utf8)
        live.sensor!.signal(SIGUSR2)
        #expect(waitFor(10) { live.log.contains("\(interface): sensor.max_flows or sensor.stream_window changed: the flows start afresh") }, "\(live.log)")
        try live.replay(try live.guestsToManagement(2, first: 5052))
        #expect(waitFor(15) { guests().count == 4 }, "\(live.log)")
        #expect(live.stopSensor() == 0)
        // What the inspectors still waited for at the stop is reported then, as at the end of a file.
        let found = keys(live.eveAlerts.filter { !newGuests.contains($0["src_ip"] as? String ?? "") })
        let liveOnly = found.subtracting(expected).sorted(), analyzeOnly = expected.subtracting(found).sorted()
        #expect(liveOnly.isEmpty && analyzeOnly.isEmpty,
                "\(found.count) alerts live, \(expected.count) analysed; live only: \(liveOnly.prefix(5)); analyze only: \(analyzeOnly.prefix(5))")
        let final = live.log.split(separator: "\n").last { $0.contains("final: \(interface):") }.map(String.init) ?? ""
        let counts = final.firstMatch(of: /(\d+) received, 0 dropped by the kernel, 0 by the interface; (\d+) decoded/)
        #expect(counts != nil && counts!.1 == counts!.2, "every packet received is analysed: \(final)")
        let records = ((try? String(contentsOfFile: flowLog, encoding: .utf8)) ?? "").split(separator: "\n").filter { $0.contains(/"src_ip":"192\.168\.120\.5[1-4]"/) }
        #expect(records.filter { $0.contains("\"reason\":\"forced\"") }.count == 2 && records.filter { $0.contains("\"reason\":\"shutdown\"") }.count == 2,
                "\(records)")
        // The workers' records name the interface, as one pipeline's do (before and after new tables).
        #expect(records.allSatisfy { $0.contains("\"in_iface\":\"\(interface)\"") }, "\(records)")
    }
}
