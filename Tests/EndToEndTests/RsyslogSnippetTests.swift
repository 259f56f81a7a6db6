import Foundation
import Testing
import TestSupport

/// The shipped collector snippet (`config/rsyslog-zonewarden.conf`) in a real
/// rsyslogd, its paths and ports pointed at the test's: the sensors'
/// messages land in the alert file, every other host's message goes on to
/// the default rules, untouched.
@Suite("rsyslog collector snippet", .enabled(if: Rsyslog.isInstalled && FileManager.default.isExecutableFile(atPath: "/usr/bin/logger"),
                                              "needs rsyslogd and logger (scripts/setup installs rsyslog)"))
struct RsyslogSnippetTests {
    @Test func sensorsMessagesToTheirFileOthersUntouched() throws {
        let shipped = try String(contentsOfFile: repoPath("config/rsyslog-zonewarden.conf"), encoding: .utf8)
        #expect(shipped.contains("port=\"514\"") && shipped.contains("port=\"2514\"") && shipped.contains("/var/log/zonewarden/alerts.log"))
        let rsyslog = try Rsyslog { dir, _, tcp, relp in
            shipped.replacingOccurrences(of: "/var/log/zonewarden/alerts.log", with: dir + "/alerts.log")
                .replacingOccurrences(of: "port=\"2514\"", with: "port=\"\(relp)\"").replacingOccurrences(of: "port=\"514\"", with: "port=\"\(tcp)\"")
                // The collector's own rules for everything else.
                + "\nglobal(workDirectory=\"\(dir)\")\n*.* action(type=\"omfile\" file=\"\(dir)/other.log\")\n"
        }
        defer { rsyslog.stop() }
        let port = String(rsyslog.tcpPort)
        for (tag, text) in [("zonewarden", "1001 guest-to-management sid=1001 from the sensor"), ("sshd", "Accepted publickey for ops from 10.0.0.9")] {
            let p = try ChildProcess("/usr/bin/logger", ["--tcp", "-n", "127.0.0.1", "-P", port, "--rfc5424", "-t", tag, text])
            #expect(p.wait(seconds: 10) == 0)
        }
        let d = rsyslog.directory
        func file(_ name: String) -> String { (try? String(contentsOfFile: "\(d)/\(name)", encoding: .utf8)) ?? "" }
        #expect(waitFor(10) { file("alerts.log").contains("from the sensor") && file("other.log").contains("Accepted publickey") },
                "alerts: \(file("alerts.log")) other: \(file("other.log")) rsyslogd: \(file("rsyslogd.out"))")
        #expect(!file("alerts.log").contains("Accepted publickey"), "another host's message is no alert")
        #expect(!file("other.log").contains("from the sensor"), "the sensor's alerts stay out of the general log")
    }

    /// On the sensor host: alerts sent to the local socket (`--syslog unix://...`, in the local
    /// form) reach a real rsyslogd's imuxsock, are parsed as program zonewarden and land in the
    /// snippet's alert file; another program's message on the same socket goes on as before.
    @Test func localSocketAlertsToTheirFile() throws {
        let shipped = try String(contentsOfFile: repoPath("config/rsyslog-zonewarden.conf"), encoding: .utf8)
        let rsyslog = try Rsyslog { dir, _, tcp, relp in
            "module(load=\"imuxsock\" SysSock.Use=\"off\")\ninput(type=\"imuxsock\" Socket=\"\(dir)/log\")\n"
                + shipped.replacingOccurrences(of: "/var/log/zonewarden/alerts.log", with: dir + "/alerts.log")
                .replacingOccurrences(of: "port=\"2514\"", with: "port=\"\(relp)\"").replacingOccurrences(of: "port=\"514\"", with: "port=\"\(tcp)\"")
                + "\nglobal(workDirectory=\"\(dir)\")\n*.* action(type=\"omfile\" file=\"\(dir)/other.log\" template=\"RSYSLOG_TraditionalFileFormat\")\n"
        }
        defer { rsyslog.stop() }
        let d = rsyslog.directory
        let r = try zonewarden(["analyze", "-c", "config/example.yaml", "--syslog", "unix://\(d)/log", "-o", "/dev/null", "Captures/example-site.pcap"])
        #expect(r.status == 0, "\(r.stderr)")
        let other = try ChildProcess("/usr/bin/logger", ["-u", "\(d)/log", "-t", "sshd", "Accepted publickey for ops from 10.0.0.9"])
        #expect(other.wait(seconds: 10) == 0)
        func file(_ name: String) -> String { (try? String(contentsOfFile: "\(d)/\(name)", encoding: .utf8)) ?? "" }
        #expect(waitFor(10) { file("alerts.log").split(separator: "\n").count == 6 && file("other.log").contains("Accepted publickey") },
                "alerts: \(file("alerts.log")) other: \(file("other.log")) rsyslogd: \(file("rsyslogd.out"))")
        let lines = file("alerts.log").split(separator: "\n")
        #expect(lines.allSatisfy { $0.hasPrefix("<") && $0.contains(" zonewarden[") }, "\(lines)")
        #expect(lines.first?.contains("guest-to-management sid=1001") == true)
        #expect(!file("other.log").contains("zonewarden"), "the alerts stay out of the general log")
        #expect(file("other.log").contains("sshd: Accepted publickey"), "another program's message is parsed and kept as before")
    }
}
