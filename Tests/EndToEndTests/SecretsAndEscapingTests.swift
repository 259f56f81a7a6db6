import CaptureBuilder
import Foundation
import Testing
import Vocabulary

/// Passwords and communities in the project's captures, and the shared captures' own.
let projectSecrets = ["Esx!2026", "Backup#77", "VMware1!VMware1!", "Ld4p-Adm1n", "s3cr3t-c0mm", "Vnc-Pass-1", "calvin",
                      "Vpx-Secret-9", "Hyper-V-2026", "guest@example.com", "x@y", "hunter2", "inside-tls",
                      // Typed ahead of the telnet prompts; an API token as the HTTP Basic user; FTP's USER root:secret.
                      "Typed-Ahead-7", "ghp_Zw7TokenInUserField0123456789abcd", "Ftp-Colon-3"]
let sharedSecrets: [(file: String, secret: String)] = [
    ("ftp-login-failed-admin.pcap", "qwerty"), ("http-basic-auth-colon.pcap", "1:34"), ("http-basic-auth-extra-space.pcap", "1234"),
    ("ldap-simple-bind.pcap", "passwor8d1"), ("ldap-simple-bind.pcap", "/dev/rdsk/c0t0d0s0"), ("ldap-simple-bind-admin-add.pcap", "zeek"),
    ("telnet-login-administrator.pcap", "napier"),
]

/// Passwords found in the shared captures themselves: every FTP `PASS`, HTTP
/// Basic credential and Redis `AUTH` in their bytes, plus the listed ones.
let discoveredSharedSecrets: [(file: String, secret: String)] = {
    guard let dir = sharedCaptures else { return [] }
    var found = sharedSecrets
    for file in sharedCaptureFiles {
        guard let data = try? Data(contentsOf: dir.appendingPathComponent(file)) else { continue }
        let text = String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
        for m in text.matches(of: /PASS ([^\r\n ]{4,64})\r\n/) { found.append((file, String(m.1))) }
        for m in text.matches(of: /Authorization: Basic ([A-Za-z0-9+\/=]{4,200})/) {
            if let decoded = Data(base64Encoded: String(m.1)).map({ String(decoding: $0, as: UTF8.self) }), let colon = decoded.firstIndex(of: ":") {
                let password = String(decoded[decoded.index(after: colon)...])
                if password.count >= 4 { found.append((file, password)) }
            }
        }
        for m in text.matches(of: /AUTH\r\n\$\d+\r\n([^\r\n]{4,64})\r\n/) { found.append((file, String(m.1))) }
    }
    return found
}()

@Suite("Secrets and escaping")
struct SecretsAndEscapingTests {
    /// Every capture with a password, in every format, with the summary: none is printed.
    @Test(.enabled(if: sharedCaptures != nil, "../shared/captures is absent"), arguments: ["text", "eve", "rfc5424", "rfc3164"])
    func noDiscoveredSecretAnywhere(format: String) throws {
        let config = temporaryDirectory().appendingPathComponent("all.yaml").path
        try "zones:\n  all: { role: management, subnets: [0.0.0.0/0, \"::/0\"] }\n".write(toFile: config, atomically: true, encoding: .utf8)
        let byFile = Dictionary(grouping: discoveredSharedSecrets, by: \.file)
        #expect(byFile.count >= 9 && discoveredSharedSecrets.count >= 12, "\(byFile.keys.sorted())")
        for (file, secrets) in byFile.sorted(by: { $0.key < $1.key }) {
            let r = try zonewarden(["analyze", "-c", config, "--format", format, "--summary", sharedCaptures!.appendingPathComponent(file).path])
            let everything = r.stdout + r.stderr
            for (_, secret) in secrets {
                #expect(!everything.contains(secret), "\(file): \(secret) printed in \(format)")
            }
        }
    }

    @Test(arguments: ["text", "eve", "rfc5424", "rfc3164"])
    func noSecretInAnyFormat(format: String) throws {
        let captures = ["cleartext-admin-login", "cleartext-admin-login-ok", "anonymous-admin-access", "anonymous-admin-access-ok"].map { "Captures/\($0).pcap" }
        let r = try zonewarden(["analyze", "-c", "config/examples/site-roles.yaml", "--format", format, "--summary"] + captures)
        #expect(r.status == 0 && r.stdoutLines.count > 20)
        let everything = r.stdout + r.stderr
        for secret in projectSecrets {
            #expect(!everything.contains(secret), "\(secret) printed in \(format)")
            #expect(!everything.contains(ProtocolMessages.base64(Array(secret.utf8))), "\(secret) printed base64-encoded")
        }
        #expect(!everything.contains(ProtocolMessages.base64(Array("administrator@vsphere.local:VMware1!VMware1!".utf8))))
    }

    @Test(.enabled(if: sharedCaptures != nil, "../shared/captures is absent"), arguments: ["text", "eve", "rfc5424"])
    func noSharedSecretInAnyFormat(format: String) throws {
        let config = temporaryDirectory().appendingPathComponent("all.yaml").path
        try "zones:\n  all: { role: management, subnets: [0.0.0.0/0, \"::/0\"] }\n".write(toFile: config, atomically: true, encoding: .utf8)
        for (file, secret) in sharedSecrets {
            let r = try zonewarden(["analyze", "-c", config, "--format", format, sharedCaptures!.appendingPathComponent(file).path])
            #expect(r.stdout.contains("cleartext-admin-login"), "\(file): the login is reported")
            #expect(!(r.stdout + r.stderr).contains(secret), "\(file): \(secret) printed in \(format)")
        }
    }

    /// A user name crafted to forge a second log line, close a JSON string or a
    /// structured-data value, and send a terminal escape, arrives in HTTP Basic.
    @Test(arguments: ["text", "eve", "rfc5424", "rfc3164"])
    func hostileUserName(format: String) throws {
        let hostile = "root\"]\n<13>1 2026-11-26T000000Z evil zonewarden - forged [x] \\ \u{1B}[31mred\r\u{7}"
        let s = CaptureScript()
        s.tcp(client: Lab.web1, clientPort: 45100, server: Lab.vcenter, serverPort: 80, wire: Lab.guestVLAN,
              messages: ProtocolMessages.httpBasic(user: hostile, password: "irrelevant-pw"))
        let path = temporaryDirectory().appendingPathComponent("hostile.pcap").path
        try s.write(to: path)
        let r = try zonewarden(["analyze", "-c", "config/examples/site-roles.yaml", "--format", format, path])
        #expect(r.status == 0)
        // 1001, 2003 and 2001: one line each, whatever the user name holds.
        #expect(r.stdoutLines.count == 3, "\(r.stdout)")
        #expect(!r.stdout.contains("\u{1B}") && !r.stdout.contains("\r") && !r.stdout.contains("\u{7}"))
        #expect(!r.stdout.contains("irrelevant-pw"))
        let login = try #require(r.stdoutLines.first { $0.contains("cleartext-admin-login") })
        switch format {
        case "eve":
            let o = try JSONSerialization.jsonObject(with: Data(login.utf8)) as! [String: Any]
            #expect(o.evidence["user"] as? String == hostile, "JSON keeps the name exactly")
        case "rfc5424":
            #expect(login.contains(#"user="root\"\]\x0a<13>1"#))
            #expect(login.components(separatedBy: "[zw@32473 ").count == 2)
        default:
            #expect(login.contains(#"user="root\"]\n<13>1"#))
        }
    }
}

@Suite("Severity inside the management network")
struct ManagementSeverityTests {
    /// NET.1.1.A7 / SYS.1.5.A5 tolerate insecure protocols only inside a
    /// dedicated management segment: there, cleartext findings drop one level.
    @Test func cleartextFindingsDropOneLevelBetweenManagementHosts() throws {
        let s = CaptureScript()
        s.tcp(client: Lab.vcenter, clientPort: 45200, server: Lab.esxi1, serverPort: 23, wire: Lab.mgmtVLAN,
              messages: ProtocolMessages.telnetLogin(user: "root", password: "pw-inside", accepted: true))
        s.tcp(client: Lab.adminWorkstation, clientPort: 45201, server: Lab.esxi1, serverPort: 23, wire: Lab.mgmtVLAN,
              messages: ProtocolMessages.telnetLogin(user: "root", password: "pw-admin", accepted: true))
        let path = temporaryDirectory().appendingPathComponent("inside.pcap").path
        try s.write(to: path)
        let result = try analyze(configPath: "config/examples/site-roles.yaml", [path])
        func severity(_ sid: Int, from client: String) -> String? {
            result.alerts.first { $0.sid == sid && $0.sourceIP?.description == client }?.severity.name
        }
        #expect(severity(2001, from: "10.10.0.5") == "medium" && severity(2003, from: "10.10.0.5") == "low")
        #expect(severity(2001, from: "10.99.0.20") == "high", "from an admin workstation: the full severity")
        #expect(severity(2003, from: "10.99.0.20") == nil, "2003 is throttled per server and service")
    }
}
