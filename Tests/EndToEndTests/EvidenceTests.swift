import CaptureBuilder
import Foundation
import Testing
import TestSupport

/// `--evidence DIR`: a pcap file per alert, named by the alert, read by the
/// real tools, with every secret masked.
@Suite("Evidence files")
struct EvidenceTests {
    static let tcpdump = ["/usr/bin/tcpdump", "/usr/sbin/tcpdump"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let tshark = ["/usr/bin/tshark", "/usr/local/bin/tshark"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Secrets on the wire in the captures (as they cross it: HTTP Basic as its Base64 token).
    static func basic(_ credentials: String) -> String { Data(credentials.utf8).base64EncodedString() }
    static let ownSecrets = ["Esx!2026", "Backup#77", basic("administrator@vsphere.local:VMware1!VMware1!"), "Ld4p-Adm1n", "s3cr3t-c0mm",
                             "Vnc-Pass-1", "Vpx-Secret-9", basic("LAB\\hvadmin:Hyper-V-2026"), "Typed-Ahead-7",
                             basic("ghp_Zw7TokenInUserField0123456789abcd:"), "root:Ftp-Colon-3", "guest@example.com"]
    /// ../shared/captures: the captures holding a password, and it (MANIFEST.md, expected.json).
    static let sharedSecrets: [String: [String]] = [
        "ftp-anonymous-ipv4.pcap": ["PASS test"], "ftp-login-failed-admin.pcap": ["qwerty"],
        "ftp-bruteforce.pcap": (1...30).map { "PASS \($0)\r\n" },
        "http-basic-auth-colon.pcap": ["dGVzdDoxOjM0"], "http-basic-auth-extra-space.pcap": ["dGVzdDoxMjM0"],
        "ldap-simple-bind.pcap": ["passwor8d1", "/dev/rdsk/c0t0d0s0"], "ldap-simple-bind-admin-add.pcap": ["zeek"],
        "telnet-login-administrator.pcap": ["napier"], "redis-auth-loopback-null.pcap": ["notapassword", "defaultpassword"],
        "postgresql-md5-nossl.pcap": ["md5d47dfe4b3c0e9cbf539949db664f528b"], "snmpv1-get-public.pcap": ["public"],
        "snmpv2c-get-public.pcap": ["public"]]

    struct Run {
        var result: ProcessResult
        var dir: URL
        /// The pcap= of every alert (text format), in order.
        var named: [String]
        var files: [String]
    }

    static func analyze(_ capture: String, config: String, extra: [String] = [], dir: URL? = nil) throws -> Run {
        let dir = dir ?? temporaryDirectory().appendingPathComponent("evidence")
        let r = try zonewarden(["analyze", "-c", config, "--evidence", dir.path] + extra + [capture])
        let named = r.stdoutLines.compactMap { $0.firstMatch(of: /\ pcap=(\S+\.pcap)/).map { String($0.1) } }
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix(".pcap") }.sorted()
        return Run(result: r, dir: dir, named: named, files: files)
    }

    /// Every capture at hand: the alerts name files that exist, each read by tcpdump, created 0600 in a 0700 directory.
    @Test func everyCaptureGivesReadableFiles() throws {
        let tcpdump = try #require(Self.tcpdump, "tcpdump is missing (scripts/setup installs it)")
        var inputs = try CaptureExpectation.captureNames.map { (repoPath("Captures/\($0).pcap"), try CaptureExpectation.load($0).config) }
        if let shared = sharedCaptures {
            inputs += sharedCaptureFiles.map { (shared.appendingPathComponent($0).path, "Tests/Data/shared-captures.yaml") }
        }
        var total = 0, bytes = 0
        for (capture, config) in inputs {
            let run = try Self.analyze(capture, config: config)
            #expect([0, 3].contains(run.result.status), "\(capture): \(run.result.stderr)")
            #expect(Set(run.named.map { URL(fileURLWithPath: $0).lastPathComponent }) == Set(run.files), "\(capture): alerts name \(run.named), directory has \(run.files)")
            guard !run.files.isEmpty else { continue }
            var info = stat()
            #expect(stat(run.dir.path, &info) == 0 && info.st_mode & 0o777 == 0o700, "\(capture): directory mode")
            for f in run.files {
                let path = run.dir.appendingPathComponent(f).path
                #expect(stat(path, &info) == 0 && info.st_mode & 0o777 == 0o600, "\(f): file mode")
                bytes += Int(info.st_size)
                let p = try ChildProcess(tcpdump, ["-nn", "-r", path], outputPath: "/dev/null")
                #expect(p.wait(seconds: 30) == 0, "tcpdump cannot read \(f) of \(capture)")
            }
            total += run.files.count
        }
        #expect(total > 50, "\(total) evidence files, \(bytes) bytes")
    }

    /// The bytes of every TCP and UDP stream of a pcap file as tshark follows them (both sides).
    static func streams(_ path: String, tshark: String) throws -> [Data] {
        var result: [Data] = []
        for proto in ["tcp", "udp"] {
            let list = temporaryDirectory().appendingPathComponent("streams").path
            let p = try ChildProcess(tshark, ["-r", path, "-T", "fields", "-e", "\(proto).stream"], outputPath: list)
            #expect(p.wait(seconds: 60) == 0, "tshark cannot read \(path)")
            // Standard error (tshark's note on running as root) shares the file: the ids are the numeric lines.
            let ids = Set(try String(contentsOfFile: list, encoding: .utf8).split(separator: "\n").map(String.init).filter { Int($0) != nil })
            for id in ids.sorted() {
                let out = temporaryDirectory().appendingPathComponent("follow").path
                let f = try ChildProcess(tshark, ["-r", path, "-q", "-z", "follow,\(proto),raw,\(id)"], outputPath: out)
                #expect(f.wait(seconds: 60) == 0, "tshark follow \(proto) \(id) of \(path): \((try? String(contentsOfFile: out, encoding: .utf8)) ?? "")")
                var client = Data(), server = Data()
                var body = false
                for line in try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false) {
                    if line.hasPrefix("Node 1:") { body = true; continue }
                    guard body, !line.hasPrefix("===") else { continue }
                    let hex = line.trimmingCharacters(in: .whitespaces)
                    var bytes = Data()
                    var i = hex.startIndex
                    while let j = hex.index(i, offsetBy: 2, limitedBy: hex.endIndex), i < hex.endIndex, let b = UInt8(hex[i..<j], radix: 16) {
                        bytes.append(b)
                        i = j
                    }
                    if line.hasPrefix("\t") { server += bytes } else { client += bytes }
                }
                result += [client, server]
            }
        }
        return result
    }

    /// No password of any capture is in its evidence: not in a file's bytes,
    /// nor in any stream tshark reassembles from it (a password typed a
    /// character per segment). The login's file is there, and tshark decodes it.
    @Test func noSecretInAnyEvidenceFile() throws {
        let tshark = try #require(Self.tshark, "tshark is missing (scripts/setup installs it)")
        var cases: [(capture: String, config: String, secrets: [String])] = [
            (repoPath("Captures/cleartext-admin-login.pcap"), "config/examples/site-roles.yaml", Self.ownSecrets),
            (repoPath("Captures/anonymous-admin-access.pcap"), try CaptureExpectation.load("anonymous-admin-access").config, Self.ownSecrets),
            (repoPath("Captures/example-site.pcap"), "config/example.yaml", Self.ownSecrets)]
        if let shared = sharedCaptures {
            cases += Self.sharedSecrets.sorted { $0.key < $1.key }.map { (shared.appendingPathComponent($0.key).path, "Tests/Data/shared-captures.yaml", $0.value) }
        }
        var checked = 0
        for c in cases {
            let run = try Self.analyze(c.capture, config: c.config)
            #expect(!run.files.isEmpty, "\(c.capture) gave no evidence")
            for f in run.files {
                let path = run.dir.appendingPathComponent(f).path
                let raw = try Data(contentsOf: URL(fileURLWithPath: path))
                let streams = try Self.streams(path, tshark: tshark)
                for secret in c.secrets {
                    let needle = Data(secret.utf8)
                    #expect(raw.range(of: needle) == nil, "\(secret) in the bytes of \(f) (\(c.capture))")
                    #expect(!streams.contains { $0.range(of: needle) != nil }, "\(secret) in a stream of \(f) (\(c.capture))")
                }
                checked += 1
            }
        }
        #expect(checked > 30)
    }

    /// An alert at a flow's first packet: its file holds the packets that
    /// follow, those after an inspector recognised the flow on one of them
    /// too (here every packet of an LDAP bind's flow, as the capture has them).
    @Test func theFileHoldsThePacketsThatFollow() throws {
        let tcpdump = try #require(Self.tcpdump, "tcpdump is missing (scripts/setup installs it)")
        let capture = repoPath("Captures/cleartext-admin-login-ok.pcap")
        let run = try Self.analyze(capture, config: "config/example.yaml")
        let line = try #require(run.result.stdoutLines.first { $0.contains(" 6002 ") && $0.contains("10.99.0.20:42003 ") }, "\(run.result.stdout)")
        let file = try #require(line.firstMatch(of: /\ pcap=(\S+\.pcap)/).map { String($0.1) })
        let kept = try runProgram(tcpdump, ["-nn", "-r", file]), flow = try runProgram(tcpdump, ["-nn", "-r", capture, "vlan and tcp port 42003"])
        #expect(kept.status == 0 && flow.status == 0 && flow.stdoutLines.count == 14)
        #expect(kept.stdoutLines == flow.stdoutLines, "\(kept.stdout)")
    }

    /// A masked LDAP bind still decodes: tshark shows both binds of a real
    /// capture with their DNs, each password as stars of its length.
    @Test func maskedBindStillDecodes() throws {
        let tshark = try #require(Self.tshark, "tshark is missing (scripts/setup installs it)")
        let shared = try #require(sharedCaptures, "../shared/captures is missing")
        let run = try Self.analyze(shared.appendingPathComponent("ldap-simple-bind.pcap").path, config: "Tests/Data/shared-captures.yaml")
        var binds = Set<String>()
        for f in run.files {
            let out = temporaryDirectory().appendingPathComponent("ldap").path
            let p = try ChildProcess(tshark, ["-r", run.dir.appendingPathComponent(f).path, "-Y", "ldap.protocolOp == 0", "-T", "fields",
                                              "-e", "ldap.name", "-e", "ldap.simple"], outputPath: out)
            #expect(p.wait(seconds: 60) == 0)
            for line in try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n") where line.contains("\t") {
                binds.insert(String(line))
            }
        }
        #expect(binds == ["xxxxxxxxxxx@xx.xxx.xxxxx.net\t" + String(repeating: "*", count: "passwor8d1".count),
                          "CN=xxxxxxxx,OU=Users,OU=Accounts,DC=xx,DC=xxx,DC=xxxxx,DC=net\t" + String(repeating: "*", count: "/dev/rdsk/c0t0d0s0".count)],
                "\(binds)")
    }

    /// The same captures analysed twice write the same files, byte for byte; every format names the file.
    @Test func deterministicAndNamedInEveryFormat() throws {
        let capture = repoPath("Captures/cleartext-admin-login.pcap")
        let a = try Self.analyze(capture, config: "config/examples/site-roles.yaml")
        let b = try Self.analyze(capture, config: "config/examples/site-roles.yaml")
        #expect(a.files == b.files && a.files.count == a.named.count && !a.files.isEmpty)
        for f in a.files {
            #expect(try Data(contentsOf: a.dir.appendingPathComponent(f)) == Data(contentsOf: b.dir.appendingPathComponent(f)), "\(f) differs")
        }
        // Analysed again into the same directory: the same files, replaced.
        let again = try Self.analyze(capture, config: "config/examples/site-roles.yaml", dir: a.dir)
        #expect(again.files == a.files)
        for format in ["eve", "rfc5424", "rfc3164"] {
            let r = try zonewarden(["analyze", "-c", "config/examples/site-roles.yaml", "--evidence", a.dir.path, "--format", format, capture])
            let lines = r.stdoutLines.filter { $0.contains("pcap") }
            #expect(lines.count == a.named.count, "\(format)")
            for (line, name) in zip(lines, a.named) {
                if format == "eve" {
                    let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                    let metadata = (object?["alert"] as? [String: Any])?["metadata"] as? [String: [String]]
                    #expect(metadata?["zw_pcap"] == [name], "\(line)")
                } else {
                    #expect(line.contains("pcap=\"\(name)\"") || line.contains("pcap=\(name)"), "\(format): \(line)")
                }
            }
        }
    }

    /// The directory stays within sensor.evidence.max_megabytes: the oldest file goes first.
    @Test func boundedOldestFirst() throws {
        let dir = temporaryDirectory().appendingPathComponent("evidence")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let old = dir.appendingPathComponent("00000000T000000.000000Z-1001-0000000000000000.pcap")
        try Data(count: (1 << 20) - 4096).write(to: old)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_000_000)], ofItemAtPath: old.path)
        let config = temporaryDirectory().appendingPathComponent("site.yaml").path
        let text = try String(contentsOfFile: repoPath("config/examples/site-roles.yaml"), encoding: .utf8)
        try (text + "\nsensor:\n  evidence:\n    max_megabytes: 1\n").write(toFile: config, atomically: true, encoding: .utf8)
        let run = try Self.analyze(repoPath("Captures/cleartext-admin-login.pcap"), config: config, extra: ["--summary"], dir: dir)
        #expect(run.result.status == 0, "\(run.result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: old.path), "the oldest file stays")
        #expect(run.files.count == run.named.count)
        let held = try run.files.map { try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent($0).path)[.size] as! Int }.reduce(0, +)
        #expect(held <= 1 << 20)
        #expect(run.result.stderr.contains("1 older removed"), "\(run.result.stderr)")
    }

    /// Only files named as the sensor names them are ever removed: a capture
    /// someone left in the evidence folder stays, however old and large.
    @Test func aCaptureInTheEvidenceFolderIsNeverRemoved() throws {
        let dir = temporaryDirectory().appendingPathComponent("evidence")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let kept = dir.appendingPathComponent("site-capture.pcap")
        try Data(count: (1 << 20) - 4096).write(to: kept)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_000_000)], ofItemAtPath: kept.path)
        let config = temporaryDirectory().appendingPathComponent("site.yaml").path
        let text = try String(contentsOfFile: repoPath("config/examples/site-roles.yaml"), encoding: .utf8)
        try (text + "\nsensor:\n  evidence:\n    max_megabytes: 1\n").write(toFile: config, atomically: true, encoding: .utf8)
        let run = try Self.analyze(repoPath("Captures/cleartext-admin-login.pcap"), config: config, extra: ["--summary"], dir: dir)
        #expect(run.result.status == 0, "\(run.result.stderr)")
        #expect(FileManager.default.fileExists(atPath: kept.path) && run.files.contains("site-capture.pcap"))
        #expect(run.result.stderr.contains(" 0 older removed"), "\(run.result.stderr)")
    }

    /// A full disk: every alert is still written, the message comes once,
    /// no half-written or temporary file is left, and the status says an output failed.
    @Test(.enabled(if: geteuid() == 0, "mounts a small tmpfs (root)"))
    func fullDisk() throws {
        let capture = repoPath("Captures/cleartext-admin-login.pcap")
        let plain = try zonewarden(["analyze", "-c", "config/examples/site-roles.yaml", capture])
        let mount = temporaryDirectory()
        let m = try ChildProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=12k", "tmpfs", mount.path])
        #expect(m.wait(seconds: 10) == 0)
        defer { _ = try? ChildProcess("/bin/umount", [mount.path]).wait(seconds: 10) }
        let run = try Self.analyze(capture, config: "config/examples/site-roles.yaml", dir: mount.appendingPathComponent("evidence"))
        #expect(run.result.status == 4, "\(run.result.stderr)")
        #expect(run.result.stdoutLines.count == plain.stdoutLines.count, "alerts lost")
        #expect(run.result.stderrLines.filter { $0.contains("No space left on device") }.count == 2, "\(run.result.stderr)")  // once as it happens, once at the end
        #expect(run.files.count < run.named.count && !run.files.isEmpty)
        let all = try FileManager.default.contentsOfDirectory(atPath: run.dir.path)
        #expect(all.allSatisfy { $0.hasSuffix(".pcap") }, "\(all)")
        if let tcpdump = Self.tcpdump {
            for f in run.files { #expect(try ChildProcess(tcpdump, ["-nn", "-r", run.dir.appendingPathComponent(f).path], outputPath: "/dev/null").wait(seconds: 30) == 0) }
        }
    }

    /// A directory no file can be created in (here a read-only file system)
    /// is said at the start and at the end; every alert is written, naming
    /// no file, and the status says an output failed.
    @Test(.enabled(if: geteuid() == 0, "mounts a read-only tmpfs (root)"))
    func unwritableDirectory() throws {
        let capture = repoPath("Captures/cleartext-admin-login.pcap")
        let plain = try zonewarden(["analyze", "-c", "config/examples/site-roles.yaml", capture])
        let mount = temporaryDirectory()
        #expect(try ChildProcess("/bin/mount", ["-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", mount.path]).wait(seconds: 10) == 0)
        defer { _ = try? ChildProcess("/bin/umount", [mount.path]).wait(seconds: 10) }
        let run = try Self.analyze(capture, config: "config/examples/site-roles.yaml", dir: mount)
        #expect(run.result.status == 4, "\(run.result.stderr)")
        #expect(run.result.stdoutLines == plain.stdoutLines, "every alert, as without --evidence")
        #expect(run.result.stderrLines.count == 2, "\(run.result.stderr)")
        #expect(run.result.stderrLines.first?.hasSuffix("cannot create files in it: Read-only file system; the alerts are written without evidence files") == true, "\(run.result.stderr)")
        #expect(run.result.stderrLines.last == "zonewarden: evidence \(mount.path): no file written for the \(plain.stdoutLines.count) alerts (cannot create files in it: Read-only file system)")
    }

    /// `report --evidence` on a full disk links only the files written, and says how many are not.
    @Test(.enabled(if: geteuid() == 0, "mounts a small tmpfs (root)"))
    func reportOnAFullDiskLinksOnlyWhatWasWritten() throws {
        let mount = temporaryDirectory()
        #expect(try ChildProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=12k", "tmpfs", mount.path]).wait(seconds: 10) == 0)
        defer { _ = try? ChildProcess("/bin/umount", [mount.path]).wait(seconds: 10) }
        let report = temporaryDirectory().appendingPathComponent("audit.json").path
        let r = try zonewarden(["report", "-c", "config/examples/site-roles.yaml", "--format", "json", "--evidence", mount.appendingPathComponent("pcaps").path,
                                "-o", report, repoPath("Captures/cleartext-admin-login.pcap")])
        #expect(r.status == 4 && r.stderrLines.last?.contains(" files not written (first: ") == true, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        let links = ((json["evidence"] as? [[String: Any]]) ?? []).compactMap { $0["pcap"] as? String }
            + ((json["findings"] as? [[String: Any]]) ?? []).compactMap { $0["pcap"] as? String }
        let written = try FileManager.default.contentsOfDirectory(atPath: mount.appendingPathComponent("pcaps").path)
        #expect(!links.isEmpty && !written.isEmpty)
        #expect(links.allSatisfy { written.contains(URL(fileURLWithPath: $0).lastPathComponent) }, "\(links) \(written)")
    }

    /// The answer a login gives to a challenge lets its password be guessed
    /// offline: VNC authentication's DES response and MySQL's scramble are
    /// masked as passwords are (tshark shows them as `*` bytes).
    @Test func challengeResponsesAreMasked() throws {
        let tshark = try #require(Self.tshark, "tshark is missing (scripts/setup installs it)")
        var cases = [(repoPath("Captures/weak-admin-authentication.pcap"), "config/examples/site-roles.yaml", "vnc.auth_response", 16)]
        if let shared = sharedCaptures {
            cases.append((shared.appendingPathComponent("mysql-plain-login-rds.pcap").path, "Tests/Data/shared-captures.yaml", "mysql.passwd", 20))
        }
        for (capture, config, field, length) in cases {
            let run = try Self.analyze(capture, config: config)
            var answers: [String] = []
            for f in run.files {
                let out = temporaryDirectory().appendingPathComponent("fields").path
                #expect(try ChildProcess(tshark, ["-r", run.dir.appendingPathComponent(f).path, "-T", "fields", "-e", field], outputPath: out).wait(seconds: 60) == 0)
                answers += try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map { $0.replacingOccurrences(of: ":", with: "") }.filter { !$0.isEmpty && $0.allSatisfy(\.isHexDigit) }
            }
            #expect(!answers.isEmpty && answers.allSatisfy { $0 == String(repeating: "2a", count: length) }, "\(field) in \(capture): \(answers)")
        }
    }

    /// NTLM's AUTHENTICATE message (its LM and NT responses let the password
    /// be guessed offline) is masked wherever it crosses: raw in a telnet
    /// login (a real capture), base64 in a WinRM request's header.
    @Test func ntlmResponsesAreMasked() throws {
        let marker = Data("NTLMSSP\u{0}\u{3}\u{0}\u{0}\u{0}".utf8)
        func responses(_ data: Data) -> [Data] {
            guard let r = data.range(of: marker) else { return [] }
            let at = r.lowerBound
            func u16(_ o: Int) -> Int { Int(data[at + o]) | Int(data[at + o + 1]) << 8 }
            func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
            return [12, 20].map { data[(at + u32($0 + 4))..<(at + u32($0 + 4) + u16($0))] }
        }
        if let shared = sharedCaptures {
            let capture = shared.appendingPathComponent("telnet-login-administrator.pcap").path
            let original = responses(try Data(contentsOf: URL(fileURLWithPath: capture)))
            #expect(original.count == 2 && original.allSatisfy { !$0.isEmpty && $0.contains { $0 != 0x2A } })
            let run = try Self.analyze(capture, config: "Tests/Data/shared-captures.yaml")
            let masked = try run.files.flatMap { responses(try Data(contentsOf: run.dir.appendingPathComponent($0))) }
            #expect(masked.count == 2 && masked.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0 == 0x2A } }, "\(masked)")
        }
        // WinRM with NTLM: the token after "Authorization: NTLM" in base64.
        let token = Data("NTLMSSP".utf8 + [0, 3, 0, 0, 0] + [UInt8](repeating: 0x41, count: 80)).base64EncodedString()
        let s = CaptureScript()
        s.tcp(client: CaptureBuilder.Host("192.168.100.10"), clientPort: 40_985, server: CaptureBuilder.Host("10.10.0.5"), serverPort: 5985,
              messages: [(true, Array("POST /wsman HTTP/1.1\r\nHost: 10.10.0.5:5985\r\nAuthorization: Negotiate \(token)\r\nContent-Length: 0\r\n\r\n".utf8)),
                         (false, Array("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".utf8))])
        // The same split over segments of 7 bytes, and a raw message (header, then LM and NT responses
        // where its offsets say) split over segments of 5: found across them.
        s.tcp(client: CaptureBuilder.Host("192.168.100.10"), clientPort: 40_986, server: CaptureBuilder.Host("10.10.0.8"), serverPort: 5985,
              messages: [(true, Array("POST /wsman HTTP/1.1\r\nAuthorization: NTLM \(token)\r\n\r\n".utf8))], segmentation: .split(7))
        // SPNEGO: the message inside ASN.1 (a NegTokenResp's responseToken), then base64.
        // (13 bytes before it: its base64 does not line up with the bare message's, only decoding finds it.)
        let spnego = Data([0xA1, 0x81, 0x91, 0x30, 0x81, 0x8E, 0xA2, 0x81, 0x8B, 0x04, 0x81, 0x88, 0x00] + Array("NTLMSSP".utf8) + [0, 3, 0, 0, 0]
                          + [UInt8](repeating: 0x42, count: 80)).base64EncodedString()
        // (Another server: the throttle would hold back a second alert of the same pair and service, and its file.)
        s.tcp(client: CaptureBuilder.Host("192.168.100.10"), clientPort: 40_987, server: CaptureBuilder.Host("10.10.0.7"), serverPort: 5985,
              messages: [(true, Array("POST /wsman HTTP/1.1\r\nAuthorization: Negotiate \(spnego)\r\n\r\n".utf8))])
        func le(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        let lm = [UInt8](repeating: 0x6C, count: 24), nt = [UInt8](repeating: 0x6E, count: 24)
        var message = Array("NTLMSSP".utf8) + [0] + le(3, 4) + le(24, 2) + le(24, 2) + le(64, 4) + le(24, 2) + le(24, 2) + le(88, 4)
        message += [UInt8](repeating: 0, count: 64 - message.count)
        message += lm + nt
        s.tcp(client: CaptureBuilder.Host("192.168.100.10"), clientPort: 40_023, server: CaptureBuilder.Host("10.10.0.5"), serverPort: 23,
              messages: [(true, message)], segmentation: .split(5))
        // The same with every segment sent twice (a retransmission, a mirror port's duplicate): each copy masked.
        s.tcp(client: CaptureBuilder.Host("192.168.100.10"), clientPort: 40_024, server: CaptureBuilder.Host("10.10.0.6"), serverPort: 23,
              messages: [(true, message)], segmentation: .retransmitted(5))
        let capture = temporaryDirectory().appendingPathComponent("winrm-ntlm.pcap").path
        try s.write(to: capture)
        let run = try Self.analyze(capture, config: "config/example.yaml")
        #expect(run.files.count >= 5, "\(run.result.stdout)")
        for f in run.files {
            let bytes = [UInt8](try Data(contentsOf: run.dir.appendingPathComponent(f)))
            for response in [lm, nt] {
                #expect(!(0...(max(bytes.count - 5, 0))).contains { Array(bytes[$0..<min($0 + 5, bytes.count)]) == Array(response.prefix(5)) }, "\(f): a response's bytes in the file")
            }
        }
        let tshark = try #require(Self.tshark, "tshark is missing (scripts/setup installs it)")
        var spnegoSeen = false, splitSeen = false, rawSeen = false
        for f in run.files {
            // The client's stream as tshark reassembles it: nothing of a token or a response is left.
            let out = temporaryDirectory().appendingPathComponent("stream").path
            #expect(try ChildProcess(tshark, ["-r", run.dir.appendingPathComponent(f).path, "-qz", "follow,tcp,raw,0"], outputPath: out).wait(seconds: 60) == 0)
            let hex = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").filter { $0.allSatisfy(\.isHexDigit) }.joined()
            var stream = [UInt8]()
            var i = hex.startIndex
            while i < hex.endIndex, let next = hex.index(i, offsetBy: 2, limitedBy: hex.endIndex) {
                if let b = UInt8(hex[i..<next], radix: 16) { stream.append(b) }
                i = next
            }
            let text = String(decoding: stream, as: UTF8.self)
            #expect(!stream.isEmpty && !text.contains(token.prefix(16)) && !text.contains(token.suffix(12)), "\(f): \(text)")
            #expect(!text.contains(spnego.prefix(12)) && !text.contains(spnego.suffix(12)), "\(f): \(text)")
            if text.contains("Authorization: Negotiate ***") { spnegoSeen = true }
            if text.contains("Authorization: NTLM ***") { splitSeen = true }
            if text.contains("NTLMSSP") { rawSeen = true }
            #expect(!text.contains("lll") && !text.contains("nnn"), "\(f): \(text)")
        }
        #expect(spnegoSeen && splitSeen && rawSeen, "a file for each of the SPNEGO request, the split token and the raw message")
    }

    /// A FIFO or a link planted where a file will go is removed, never
    /// written through (nor waited on): the file is written in its place,
    /// and what the link named is untouched.
    @Test func plantedNamesAreReplaced() throws {
        let capture = repoPath("Captures/cleartext-admin-login.pcap")
        let first = try Self.analyze(capture, config: "config/examples/site-roles.yaml")
        let dir = temporaryDirectory().appendingPathComponent("evidence")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let victim = temporaryDirectory().appendingPathComponent("victim")
        try Data("keep me".utf8).write(to: victim)
        #expect(mkfifo(dir.appendingPathComponent(first.files[0]).path, 0o600) == 0)
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent(first.files[1]).path, withDestinationPath: victim.path)
        let run = try Self.analyze(capture, config: "config/examples/site-roles.yaml", dir: dir)
        #expect(run.result.status == 0 && run.files == first.files, "\(run.result.stderr)")
        var info = stat()
        for f in run.files.prefix(2) { #expect(lstat(dir.appendingPathComponent(f).path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG && info.st_mode & 0o777 == 0o600) }
        #expect(try String(contentsOf: victim, encoding: .utf8) == "keep me")
    }

    /// Files are 0600 whatever the umask: one that takes bits of it away
    /// (0277 makes files 0400) and one that leaves it whole (077).
    @Test(arguments: ["277", "077"])
    func fileModeWhateverTheUmask(umask: String) throws {
        let dir = temporaryDirectory().appendingPathComponent("evidence")
        let r = try runProgram("/bin/bash", ["-c", "umask \(umask) && exec '\(productsDirectory.appendingPathComponent("zonewarden").path)' analyze -c config/examples/site-roles.yaml --evidence '\(dir.path)' Captures/cleartext-admin-login.pcap"])
        #expect(r.status == 0, "\(r.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(!files.isEmpty)
        var info = stat()
        for f in files { #expect(stat(dir.appendingPathComponent(f).path, &info) == 0 && info.st_mode & 0o777 == 0o600, "umask \(umask): \(f)") }
    }

    /// The report links each finding's file, relative to the report.
    @Test func reportLinksEvidence() throws {
        let dir = temporaryDirectory()
        let report = dir.appendingPathComponent("audit.html").path
        let r = try zonewarden(["report", "-c", "config/examples/site-roles.yaml", "--evidence", dir.appendingPathComponent("pcaps").path, "-o", report,
                                repoPath("Captures/cleartext-admin-login.pcap")])
        #expect(r.status == 0, "\(r.stderr)")
        let html = try String(contentsOfFile: report, encoding: .utf8)
        let links = html.matches(of: /href="(pcaps\/[^"]+\.pcap)"/).map { String($0.1) }
        #expect(links.count >= 10)
        #expect(links.allSatisfy { FileManager.default.fileExists(atPath: dir.appendingPathComponent($0).path) }, "\(links)")
    }

    /// A path that names no usable directory (a file, none, a missing parent) is a usage error before any work; evidence needs one worker.
    @Test func refusals() throws {
        let file = temporaryDirectory().appendingPathComponent("file")
        try Data().write(to: file)
        let notDir = try zonewarden(["analyze", "-c", "config/example.yaml", "--evidence", file.path, "Captures/example-site.pcap"])
        #expect(notDir.status == 2 && notDir.stderr.contains("is not a directory") && notDir.stdout.isEmpty, "\(notDir.stderr)")
        let empty = try zonewarden(["analyze", "-c", "config/example.yaml", "--evidence", "", "Captures/example-site.pcap"])
        #expect(empty.status == 2 && empty.stderr == "zonewarden: --evidence: an empty path; give the directory for the evidence files\n" && empty.stdout.isEmpty, "\(empty.stderr)")
        let workers = try zonewarden(["analyze", "-c", "config/example.yaml", "--evidence", temporaryDirectory().path, "--workers", "2", "Captures/example-site.pcap"])
        #expect(workers.status == 2 && workers.stderr.contains("--workers 1"), "\(workers.stderr)")
        // A directory that cannot be made is refused before -o is opened: the earlier alerts there stay.
        let kept = temporaryDirectory().appendingPathComponent("alerts.txt")
        try Data("previous alerts\n".utf8).write(to: kept)
        let missing = temporaryDirectory().appendingPathComponent("no/such/folder").path
        let clobber = try zonewarden(["analyze", "-c", "config/example.yaml", "--evidence", missing, "-o", kept.path, "Captures/example-site.pcap"])
        #expect(clobber.status == 2 && clobber.stderr.contains("cannot create the evidence directory"), "\(clobber.stderr)")
        #expect(try String(contentsOf: kept, encoding: .utf8) == "previous alerts\n")
    }
}
