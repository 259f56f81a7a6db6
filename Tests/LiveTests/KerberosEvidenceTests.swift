import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A real MIT Kerberos KDC in the management zone and a real `kinit` from a
/// guest (pre-authentication required): the exchange is captured on the
/// bridge, `analyze --evidence` writes the flow's packets behind its 1001
/// alert, and in that file every Kerberos cipher reads as `*` bytes (the
/// AS-REQ's encrypted timestamp and the AS-REP's part encrypted with the
/// user's key let the password be guessed offline), while tshark still
/// decodes the messages, the user's name and the realm. The capture itself
/// holds the ciphers as sent.
@Suite("Kerberos in evidence files", .serialized,
       .enabled(if: NetworkLab.isAvailable && FileManager.default.isExecutableFile(atPath: "/usr/sbin/krb5kdc")
                    && FileManager.default.isExecutableFile(atPath: "/usr/sbin/kadmin.local") && FileManager.default.isExecutableFile(atPath: "/usr/bin/kinit")
                    && FileManager.default.isExecutableFile(atPath: "/usr/bin/tshark"),
                "needs root, ip netns, MIT Kerberos (krb5-kdc, krb5-admin-server, krb5-user) and tshark (scripts/setup installs them)"))
struct KerberosEvidenceTests {
    static let password = "Kdc!Secret7"

    @Test func kerberosCiphersAreMasked() throws {
        let lab = try NetworkLab(hosts: [("guest", "192.168.100.10/22"), ("mgmt", "10.10.0.5/24")])
        defer { lab.tearDown() }
        let dir = lab.directory
        let mgmt = lab.host("mgmt"), guest = lab.host("guest")
        try """
            [libdefaults]
                default_realm = LAB.TEST
                dns_lookup_kdc = false
                dns_lookup_realm = false
                udp_preference_limit = 1
            [realms]
                LAB.TEST = {
                    kdc = \(mgmt.address):88
                }
            """.write(toFile: dir + "/krb5.conf", atomically: true, encoding: .utf8)
        try """
            [kdcdefaults]
                kdc_ports = 88
                kdc_tcp_ports = 88
            [realms]
                LAB.TEST = {
                    database_name = \(dir)/principal
                    key_stash_file = \(dir)/stash
                    acl_file = \(dir)/kadm5.acl
                }
            """.write(toFile: dir + "/kdc.conf", atomically: true, encoding: .utf8)
        let env = ["/usr/bin/env", "KRB5_CONFIG=\(dir)/krb5.conf", "KRB5_KDC_PROFILE=\(dir)/kdc.conf", "KRB5CCNAME=\(dir)/ccache"]
        #expect(try lab.execute(in: mgmt.namespace, env + ["/usr/sbin/kdb5_util", "create", "-s", "-r", "LAB.TEST", "-P", "master-Key-1"]) == 0)
        #expect(try lab.execute(in: mgmt.namespace, env + ["/usr/sbin/kadmin.local", "-r", "LAB.TEST", "-q",
                                                             "addprinc +requires_preauth -pw \(Self.password) admin@LAB.TEST"]) == 0)
        _ = try lab.spawn(in: mgmt.namespace, env + ["/usr/sbin/krb5kdc", "-n"], output: dir + "/kdc.log")
        guard waitFor(15, { (try? lab.execute(in: mgmt.namespace, ["/usr/bin/bash", "-c", "exec 3<>/dev/tcp/\(mgmt.address)/88"])) == 0 }) else {
            throw ChildProcessError("the KDC did not start: \((try? String(contentsOfFile: dir + "/kdc.log", encoding: .utf8)) ?? "")")
        }
        let capture = dir + "/kerberos.pcap"
        let tcpdump = try lab.spawn(in: lab.switchNamespace, ["/usr/bin/tcpdump", "-i", mgmt.port, "-U", "-w", capture, "tcp port 88"], output: dir + "/tcpdump.log")
        #expect(waitFor(10) { FileManager.default.fileExists(atPath: capture) })
        Thread.sleep(forTimeInterval: 0.5)
        #expect(try lab.execute(in: guest.namespace, ["/usr/bin/bash", "-c", "echo '\(Self.password)' | " + env.joined(separator: " ") + " /usr/bin/kinit admin@LAB.TEST"]) == 0,
                "kinit failed")
        Thread.sleep(forTimeInterval: 0.5)
        tcpdump.stop(seconds: 5)

        // What was sent: an AS-REQ with an encrypted timestamp (pre-authentication), an AS-REP.
        let sent = try ciphers(capture)
        #expect(sent.count >= 3, "\(sent)")
        #expect(sent.allSatisfy { !$0.isEmpty && $0 != String(repeating: "2a", count: $0.count / 2) })

        // kinit's two requests are two connections: without throttling each has its alert, and its file.
        let example = try String(contentsOf: repositoryRoot.appendingPathComponent("config/example.yaml"), encoding: .utf8)
        let config = dir + "/site.yaml"
        try (example.components(separatedBy: "\nsensor:")[0] + "\nsensor:\n  alert_throttle_seconds: 0\n").write(toFile: config, atomically: true, encoding: .utf8)
        let evidence = dir + "/evidence"
        let binary = productsDirectory.appendingPathComponent("zonewarden").path
        let alerts = dir + "/alerts.json"
        #expect(try lab.execute(in: lab.switchNamespace, [binary, "analyze", "-c", config,
                                                         "--format", "eve", "-o", alerts, "--evidence", evidence, capture]) == 0)
        let written = ((try? String(contentsOfFile: alerts, encoding: .utf8)) ?? "")
        #expect(written.contains("\"signature_id\":1001") && written.contains("\"dest_port\":88"), "\(written)")
        let files = (FileManager.default.enumerator(atPath: evidence)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".pcap") }
        #expect(!files.isEmpty)
        var masked: [String] = []
        for file in files {
            let found = try ciphers(evidence + "/" + file)
            masked += found
            #expect(found.allSatisfy { $0 == String(repeating: "2a", count: $0.count / 2) }, "\(file): \(found)")
            // The rest still decodes: the user's name and the realm.
            let names = try tshark(evidence + "/" + file, ["-T", "fields", "-e", "kerberos.CNameString", "-e", "kerberos.realm"])
            #expect(names.contains("admin") && names.contains("LAB.TEST"), "\(names)")
        }
        // Every cipher sent is in a file (of the connection's 1001 or 6002 alert), masked.
        #expect(Set(masked.map(\.count)) == Set(sent.map(\.count)), "\(masked.count) ciphers in the files, \(sent.count) sent")
    }

    /// Every Kerberos cipher in a capture, hex, as tshark decodes them.
    private func ciphers(_ path: String) throws -> [String] {
        try tshark(path, ["-Y", "kerberos", "-T", "fields", "-e", "kerberos.cipher"])
            .split(whereSeparator: { $0 == "\n" || $0 == "," }).map(String.init).filter { !$0.isEmpty }
    }

    private func tshark(_ path: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tshark")
        process.arguments = ["-r", path] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
