import CaptureBuilder
import Testing
import Vocabulary
@testable import Inspect

typealias M = ProtocolMessages

/// Feeds a dialogue to whatever inspector recognises its first message, as the
/// reassembled streams would, and returns the events (including those at flow end).
func inspect(_ dialogue: M.Dialogue, transport: IPProtocol = .tcp, serverPort: UInt16 = 0, management: Bool = true, chunk: Int = .max) -> (String?, [AppEvent]) {
    let hints = FlowHints(transport: transport, serverPort: serverPort, clientPort: 40000, managementService: management)
    var inspector: (any StreamInspector)?
    var out = InspectionOutput()
    var finished = false
    var heads: [Bool: [UInt8]] = [true: [], false: []]
    var firstSide: Bool?
    for (fromClient, bytes) in dialogue where !finished {
        for start in stride(from: 0, to: bytes.count, by: max(1, min(chunk, bytes.count))) {
            let piece = Array(bytes[start..<min(start + chunk, bytes.count)])
            if inspector == nil {
                // As ApplicationInspection does: recognise on a side's first bytes so far,
                // then replay both sides' held bytes in the order they came.
                if firstSide == nil { firstSide = fromClient }
                heads[fromClient]! += piece
                inspector = heads[fromClient]!.withUnsafeBytes { InspectorRegistry.recognize($0, fromClient: fromClient, hints) }
                if let found = inspector {
                    for side in firstSide == fromClient ? [fromClient, !fromClient] : [!fromClient, fromClient] where !heads[side]!.isEmpty && !out.finished {
                        heads[side]!.withUnsafeBytes { raw in found.consume(raw, fromClient: side, &out) }
                    }
                }
            } else {
                piece.withUnsafeBytes { raw in inspector?.consume(raw, fromClient: fromClient, &out) }
            }
            if out.finished { finished = true; break }
        }
    }
    if !finished { inspector?.finish(&out) }
    return (out.appProtocol, out.events)
}

func logins(_ events: [AppEvent]) -> [LoginEvent] {
    events.compactMap { if case .login(let l) = $0 { l } else { nil } }
}

func anonymous(_ events: [AppEvent]) -> [LoginEvent] {
    events.compactMap { if case .anonymousAccess(let l) = $0 { l } else { nil } }
}

func weak(_ events: [AppEvent]) -> [LoginEvent] {
    events.compactMap { if case .weakAuthentication(let l) = $0 { l } else { nil } }
}

func cleartextServices(_ events: [AppEvent]) -> [String] {
    events.compactMap { if case .cleartextService(let p, _) = $0 { p } else { nil } }
}

func consoles(_ events: [AppEvent]) -> [String] {
    events.compactMap { if case .console(let p, _) = $0 { p } else { nil } }
}

@Suite("Inspectors")
struct InspectorTests {
    @Test(arguments: [1, 3, Int.max])
    func telnet(chunk: Int) {
        let (proto, events) = inspect(M.telnetLogin(user: "root", password: "s3cret!", accepted: true), serverPort: 23, chunk: chunk)
        #expect(proto == "telnet")
        #expect(logins(events).map { "\($0.user ?? "") \($0.credential) \($0.success.map(String.init) ?? "-")" } == ["root cleartext(length: 7) true"])
        #expect(cleartextServices(events) == ["telnet"])
        let (_, failed) = inspect(M.telnetLogin(user: "admin", password: "guess", accepted: false), serverPort: 23, chunk: chunk)
        #expect(logins(failed).first?.success == false && logins(failed).first?.user == "admin")
    }

    /// Lines typed ahead of the prompts (scripts, `nc`, a slow link) answer the
    /// prompts in order: the user is the line that answered the login prompt,
    /// the password the one that answered the password prompt.
    @Test(arguments: [1, 3, 1000])
    func telnetTypeAhead(chunk: Int) {
        func line(_ d: M.Dialogue) -> [String] {
            logins(inspect(d, serverPort: 23, chunk: chunk).1).map { "\($0.user ?? "-") \($0.credential) \($0.success.map(String.init) ?? "-")" }
        }
        // Both lines before the login prompt, then an answer.
        #expect(line(M.telnetTypeAhead(user: "root", password: "Typed-Ahead-7", accepted: true)) == ["root cleartext(length: 13) true"])
        #expect(line(M.telnetTypeAhead(user: "root", password: "Typed-Ahead-7", accepted: false)) == ["root cleartext(length: 13) false"])
        // No answer and no command afterwards: still reported, outcome unseen.
        #expect(line(M.telnetTypeAhead(user: "root", password: "Typed-Ahead-7", accepted: nil)) == ["root cleartext(length: 13) -"])
        // The user answers the login prompt, then types the password before its prompt arrives, then a command.
        let early: M.Dialogue = [(false, Array("kvm login: ".utf8)), (true, Array("root\r\n".utf8)), (true, Array("p4ss\r\n".utf8)),
                                 (false, Array("root\r\nPassword: ".utf8)), (true, Array("ls\r\n".utf8)), (false, Array("\r\n# ".utf8))]
        #expect(line(early) == ["root cleartext(length: 4) true"])
        // Too many lines typed ahead to tell which answered which: neither is reported.
        let flood: M.Dialogue = [(true, Array((1...12).map { "line\($0)\n" }.joined().utf8)),
                                 (false, Array("login: line1\r\nPassword: ".utf8)), (false, Array("\r\n$ ".utf8))]
        #expect(line(flood) == ["- cleartextUnattributed true"])
        // A lone password prompt with two lines typed ahead: which is the password?
        let lone: M.Dialogue = [(true, Array("admin\nsecret\n".utf8)), (false, Array("Password: ".utf8)), (false, Array("\r\n$ ".utf8))]
        #expect(line(lone) == ["- cleartextUnattributed true"])
    }

    /// Secrets where a user name belongs are taken out, only their length kept.
    @Test func secretsInUserFields() {
        let token = logins(inspect(M.httpBasic(user: "ghp_Zw7TokenInUserField0123456789abcd", password: ""), serverPort: 80).1).first
        #expect(token?.user == nil && token?.secretInUser == 37)
        let colon = logins(inspect(M.ftpLogin(user: "root:Ftp-Colon-3", password: "x", accepted: false), serverPort: 21).1).first
        #expect(colon?.user == "root" && colon?.secretInUser == 11)
        // Names stay names: e-mail addresses, DOMAIN\user, LDAP DNs, short names with an empty password.
        for name in ["administrator@vsphere.local", "LAB\\hvadmin", "cn=admin,dc=lab,dc=example", "admin", "backup-operator-2026"] {
            #expect(UserField.separate(name, credential: .cleartext(length: 5)) == (name, nil), "\(name)")
        }
        #expect(UserField.separate("admin", credential: .cleartext(length: 0)) == ("admin", nil))
        #expect(UserField.separate("8f14e45fceea467a9575a6b5", credential: .cleartext(length: 0)).user == nil, "a token with an empty password")
        #expect(UserField.separate("eyJhbGciOiJIUzI1NiJ9", credential: .cleartext(length: 8)).user == nil, "a JWT")
    }

    @Test func telnetBackspaceAndIAC() {
        // The user types "rooot", deletes one character; IAC IAC is a literal 0xFF.
        let d: M.Dialogue = [(false, [0xFF, 0xFB, 0x01] + Array("login: ".utf8)), (true, Array("roott".utf8) + [0x7F, 0x0D, 0x0A]),
                             (false, Array("Password: ".utf8)), (true, [0x61, 0xFF, 0xFF, 0x62, 0x0D, 0x0A]), (false, Array("\r\n$ ".utf8))]
        let l = logins(inspect(d, serverPort: 23).1)
        #expect(l.first?.user == "root" && l.first?.credential == .cleartext(length: 3) && l.first?.success == true)
    }

    @Test func ftp() {
        let (proto, events) = inspect(M.ftpLogin(user: "Admin", password: "qwerty", accepted: false), serverPort: 21, chunk: 4)
        #expect(proto == "ftp")
        #expect(logins(events).first.map { ($0.user, $0.success, $0.credential) } ?? (nil, nil, .none("")) == ("Admin", false, .cleartext(length: 6)))
        let anon = inspect(M.ftpLogin(user: "anonymous", password: "me@example.com", accepted: true), serverPort: 21).1
        #expect(anonymous(anon).first?.user == "anonymous" && logins(anon).isEmpty)
        let refused = inspect(M.ftpLogin(user: "ftp", password: "x", accepted: false), serverPort: 21).1
        #expect(anonymous(refused).isEmpty && logins(refused).isEmpty)
        let tls = inspect(M.ftpAuthTLS(), serverPort: 21).1
        #expect(tls.isEmpty, "AUTH TLS: nothing in clear")
    }

    @Test func authd() {
        let (proto, events) = inspect(M.ftpLogin(user: "vpxuser", password: "pw", accepted: true, banner: M.authdBanner), serverPort: 902)
        #expect(proto == "vmauthd" && logins(events).first?.success == true)
        let ssl = inspect([(false, Array("220 VMware Authentication Daemon Version 1.10: SSL Required, ServerDaemonProtocol:SOAP\r\n".utf8)),
                           (true, [0x16, 0x03, 0x01, 0, 5, 1, 0, 0, 1, 3])], serverPort: 902).1
        #expect(ssl.isEmpty)
    }

    @Test func httpBasic() {
        let (_, events) = inspect(M.httpBasic(user: "test", password: "1:34"), serverPort: 8000, chunk: 5)
        let l = logins(events)
        #expect(l.count == 1 && l[0].user == "test" && l[0].credential == .cleartext(length: 4) && l[0].success == true)
        let refused = logins(inspect(M.httpBasic(user: "u", password: "p", status: 401)).1)
        #expect(refused.first?.success == false)
        #expect(logins(inspect(M.winrmBasic(user: "hv", password: "pw")).1).first?.method == "WinRM Basic over HTTP")
        // Two pipelined requests, the second one with credentials.
        let pipelined: M.Dialogue = [(true, Array("GET /a HTTP/1.1\r\nHost: x\r\n\r\n".utf8) + M.httpBasic(user: "second", password: "pw")[0].bytes),
                                     (false, Array("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n".utf8))]
        let p = logins(inspect(pipelined).1)
        #expect(p.count == 1 && p[0].user == "second" && p[0].success == false)
        // A redirect to HTTPS is not serving in clear.
        #expect(cleartextServices(inspect(M.httpPage(status: 301, location: "https://x/")).1).isEmpty)
        #expect(cleartextServices(inspect(M.httpPage()).1) == ["http"])
    }

    /// HTTP is followed while it is framed as HTTP: keep-alive requests split
    /// anywhere (a method cut in two, the empty line a client may send between
    /// requests) are read; bytes that cannot begin a request or a response end
    /// the following of that side, and with both sides the inspection, a login
    /// still waiting for its response reported.
    @Test func httpFraming() {
        let second = M.httpBasic(user: "later", password: "pw")[0].bytes
        let keepAlive: M.Dialogue = [(true, Array("GET /a HTTP/1.1\r\nHost: x\r\n\r\n".utf8)),
                                     (false, Array("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc".utf8)),
                                     (true, Array("\r\n".utf8) + second),
                                     (false, Array("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".utf8))]
        for chunk in [1, 2, 3, 7, Int.max] {
            let l = logins(inspect(keepAlive, chunk: chunk).1)
            #expect(l.count == 1 && l.first?.user == "later" && l.first?.success == true, "chunk \(chunk)")
        }
        // After the first exchange, bytes that are no HTTP message: the client's
        // later Basic request is not taken from the middle of an unframed body.
        let unframed: M.Dialogue = [(true, Array("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n".utf8)),
                                    (true, [UInt8](repeating: 0x5A, count: 3000) + Array("\r\n".utf8) + second),
                                    (false, Array("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".utf8))]
        #expect(logins(inspect(unframed).1).isEmpty)
        // Both sides unframed: the inspector says it is done, and the Basic
        // login that never got a response is reported then, not lost.
        let abandoned: M.Dialogue = [(true, second), (true, [UInt8](repeating: 0x5A, count: 100)),
                                     (false, [UInt8](repeating: 0x5A, count: 100))]
        let inspector = HTTPInspector()
        var out = InspectionOutput()
        for (fromClient, bytes) in abandoned { bytes.withUnsafeBytes { inspector.consume($0, fromClient: fromClient, &out) } }
        #expect(out.finished)
        #expect(logins(out.events).map(\.user) == ["later"] && logins(out.events).first?.success == nil)
    }

    /// PostgreSQL's startup: the SSLRequest refused or taken, the user and
    /// database, and the authentication the server asked for and its verdict.
    @Test func postgresql() {
        func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        func message(_ type: Character, _ body: [UInt8]) -> [UInt8] { [UInt8(ascii: type.unicodeScalars.first!)] + be32(4 + body.count) + body }
        let pairs = Array("user\0vcdb\0database\0VCDB\0\0".utf8)
        let startup = be32(8 + pairs.count) + be32(196_608) + pairs
        let sslRequest = be32(8) + be32(80_877_103)
        let ok = message("R", be32(0)), refused = message("E", Array("SFATAL\0C28P01\0Mpassword authentication failed\0\0".utf8))
        let password = message("p", Array("VMware1!\0".utf8))
        // SSL refused, then a cleartext password, accepted.
        let clear: M.Dialogue = [(true, sslRequest), (false, [0x4E]), (true, startup), (false, message("R", be32(3))), (true, password), (false, ok)]
        for chunk in [1, 3, Int.max] {
            let (proto, events) = inspect(clear, serverPort: 5432, chunk: chunk)
            let l = logins(events)
            #expect(proto == "postgresql" && cleartextServices(events) == ["postgresql"], "chunk \(chunk)")
            #expect(l.count == 1 && l[0].user == "vcdb" && l[0].credential == .cleartext(length: 8) && l[0].success == true, "chunk \(chunk): \(l)")
        }
        let wrong: M.Dialogue = [(true, startup), (false, message("R", be32(3))), (true, password), (false, refused)]
        #expect(logins(inspect(wrong, serverPort: 5432).1).map(\.success) == [false])
        // MD5: a weak method, and a login whose password is not sent.
        let md5: M.Dialogue = [(true, startup), (false, message("R", be32(5) + [1, 2, 3, 4])), (true, message("p", Array("md5d47dfe4b3c0e9cbf539949db664f528b\0".utf8))), (false, ok)]
        let m = inspect(md5, serverPort: 5432).1
        #expect(weak(m).map(\.method) == ["PostgreSQL MD5 password"])
        #expect(logins(m).map { "\($0.credential)" }.allSatisfy { !$0.contains("md5d47") } && logins(m).first?.success == true)
        // Trust: in without a password.
        #expect(anonymous(inspect([(true, startup), (false, ok)], serverPort: 5432).1).map(\.user) == ["vcdb"])
        // SSL taken: nothing more is read, nothing is reported.
        let tls = inspect([(true, sslRequest), (false, [0x53]), (true, [0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5])], serverPort: 5432)
        #expect(tls.1.isEmpty)
        // SCRAM: no finding about the password, only the service in clear.
        let scram = inspect([(true, startup), (false, message("R", be32(10) + Array("SCRAM-SHA-256\0\0".utf8)))], serverPort: 5432).1
        #expect(logins(scram).isEmpty && weak(scram).isEmpty && cleartextServices(scram) == ["postgresql"])
    }

    /// Redis AUTH (one or two arguments) in clear, each matched to its reply
    /// in command order, whatever replies the commands between get.
    @Test func redis() {
        func resp(_ args: String...) -> [UInt8] {
            Array(("*\(args.count)\r\n" + args.map { "$\($0.utf8.count)\r\n\($0)\r\n" }.joined()).utf8)
        }
        let dialogue: M.Dialogue = [
            (true, resp("AUTH", "notauser", "notapassword")), (false, Array("-WRONGPASS invalid username-password pair\r\n".utf8)),
            (true, resp("PING") + resp("GET", "k")), (false, Array("+PONG\r\n$5\r\nvalue\r\n".utf8)),
            (true, resp("AUTH", "default", "defaultpassword")), (false, Array("+OK\r\n".utf8)),
            (true, resp("KEYS", "*")), (false, Array("*2\r\n$1\r\na\r\n$1\r\nb\r\n".utf8)),
            (true, resp("AUTH", "secret")),
        ]
        for chunk in [1, 5, Int.max] {
            let (proto, events) = inspect(dialogue, serverPort: 6379, chunk: chunk)
            let l = logins(events)
            #expect(proto == "redis" && cleartextServices(events) == ["redis"], "chunk \(chunk)")
            #expect(l.map { "\($0.user ?? "-") \($0.credential) \(String(describing: $0.success))" } == [
                "notauser cleartext(length: 12) Optional(false)", "default cleartext(length: 15) Optional(true)", "default cleartext(length: 6) nil",
            ], "chunk \(chunk): \(l)")
        }
        // Not RESP: not recognised.
        #expect(inspect([(true, Array("GET / HTTP/1.1\r\n\r\n".utf8))], serverPort: 6379).0 != "redis")
    }

    @Test func ldap() {
        let d: M.Dialogue = [(true, M.ldapBind(id: 1, dn: "cn=admin,dc=x", password: "zeek")), (false, M.ldapBindResponse(id: 1, code: 0)),
                             (true, M.ldapBind(id: 2, dn: "cn=other,dc=x", password: "pw2")), (false, M.ldapBindResponse(id: 2, code: 49))]
        let (proto, events) = inspect(d, serverPort: 389, chunk: 3)
        #expect(proto == "ldap")
        #expect(logins(events).map { "\($0.user!) \($0.success!)" } == ["cn=admin,dc=x true", "cn=other,dc=x false"])
        let anon = anonymous(inspect([(true, M.ldapBind(id: 1, dn: "", password: "")), (false, M.ldapBindResponse(id: 1, code: 0))]).1)
        #expect(anon.first?.method == "anonymous bind")
        let unauth = anonymous(inspect([(true, M.ldapBind(id: 1, dn: "cn=x", password: "")), (false, M.ldapBindResponse(id: 1, code: 0))]).1)
        #expect(unauth.first?.method == "unauthenticated bind" && unauth.first?.user == "cn=x")
        let tls = inspect([(true, M.ldapStartTLS(id: 1)), (false, M.ldapExtendedResponse(id: 1, code: 0)),
                           (true, M.ldapBind(id: 2, dn: "cn=admin", password: "hidden"))]).1
        #expect(tls.isEmpty)
    }

    @Test func snmp() {
        let public1 = inspect([(true, M.snmp(version: 0, community: "public", requestID: 1, response: false)),
                               (false, M.snmp(version: 0, community: "public", requestID: 1, response: true))], transport: .udp, serverPort: 161).1
        #expect(logins(public1).first?.credential == .cleartext(length: 6) && logins(public1).first?.method == "SNMPv1 community")
        #expect(anonymous(public1).count == 1, "a default community answered")
        let unanswered = inspect([(true, M.snmp(version: 1, community: "public", requestID: 1, response: false))], transport: .udp, serverPort: 161).1
        #expect(anonymous(unanswered).isEmpty && logins(unanswered).first?.success == nil)
        let custom = inspect([(true, M.snmp(version: 1, community: "n0t-default", requestID: 1, response: false)),
                              (false, M.snmp(version: 1, community: "n0t-default", requestID: 1, response: true))], transport: .udp, serverPort: 161).1
        #expect(anonymous(custom).isEmpty && logins(custom).count == 1)
        let v3 = inspect([(true, M.snmpV3(user: "monitor", flags: 0, messageID: 1))], transport: .udp, serverPort: 161).1
        #expect(weak(v3).first?.user == "monitor" && logins(v3).isEmpty)
        let v3auth = inspect([(true, M.snmpV3(user: "monitor", flags: 3, messageID: 1))], transport: .udp, serverPort: 161).1
        #expect(v3auth.isEmpty)
        let discovery = inspect([(true, M.snmpV3(user: "", flags: 0, messageID: 1))], transport: .udp, serverPort: 161).1
        #expect(discovery.isEmpty, "engine discovery is noAuthNoPriv by design")
    }

    @Test func rfb() {
        let none = inspect(M.rfb(offered: [1, 2], chosen: 1, accepted: true), chunk: 5).1
        #expect(anonymous(none).count == 1 && consoles(none) == ["rfb"])
        #expect(anonymous(inspect(M.rfb(offered: [1], chosen: 1, accepted: false)).1).isEmpty)
        let vnc = inspect(M.rfb(offered: [2], chosen: 2, accepted: false)).1
        #expect(weak(vnc).first?.success == false && weak(vnc).first?.method == "VNC authentication without TLS")
        let plain = logins(inspect(M.vencrypt(subtype: 256, user: "u", password: "pw")).1)
        #expect(plain.first?.user == "u" && plain.first?.credential == .cleartext(length: 2))
        let tls = inspect(M.vencrypt(subtype: 259)).1
        #expect(logins(tls).isEmpty && weak(tls).isEmpty && consoles(tls) == ["rfb"])
    }

    @Test func rdpSpiceTLS() {
        let standard = inspect(M.rdp(user: "hvadmin", requested: 0, selected: 0)).1
        #expect(weak(standard).first?.user == "hvadmin" && consoles(standard) == ["rdp"])
        #expect(weak(inspect(M.rdp(user: "x", requested: 3, selected: 2)).1).isEmpty)
        let spice = inspect(M.spiceLink()).1
        #expect(weak(spice).first?.method == "SPICE without TLS" && consoles(spice) == ["spice"])
        #expect(weak(inspect(M.tlsHandshake(offered: 0x0302, selected: 0x0302)).1).first?.method == "TLS 1.1 on a management service")
        #expect(weak(inspect(M.tlsHandshake(offered: 0x0304, selected: 0x0304)).1).isEmpty)
        #expect(inspect(M.tlsHandshake(offered: 0x0301, selected: 0x0301), management: false).0 == nil, "TLS is judged on management services only")
    }

    @Test func rCommands() {
        let rsh = logins(inspect(M.rsh(clientUser: "lns", serverUser: "root", command: "id", accepted: false), serverPort: 514).1)
        #expect(rsh.first?.user == "root" && rsh.first?.success == false && rsh.first?.credential == .none("host trust (.rhosts)"))
        let rlogin = logins(inspect(M.rlogin(clientUser: "ops", serverUser: "admin"), serverPort: 513).1)
        #expect(rlogin.first?.user == "admin" && rlogin.first?.success == true)
    }

    @Test func ipmiAndLibvirt() {
        let straight = logins(inspect([(true, M.ipmi15(authType: 4, sessionID: 7, password: "calvin"))], transport: .udp, serverPort: 623).1)
        #expect(straight.first?.credential == .cleartext(length: 6))
        // IPMI 1.5 names its user in the Get Session Challenge request, before the session.
        let named = logins(inspect([(true, M.ipmiGetSessionChallenge(user: "ADMIN")), (true, M.ipmi15(authType: 4, sessionID: 7, password: "calvin"))],
                                   transport: .udp, serverPort: 623).1)
        #expect(named.first?.user == "ADMIN" && named.first?.credential == .cleartext(length: 6))
        let nullUser = logins(inspect([(true, M.ipmiGetSessionChallenge(user: "")), (true, M.ipmi15(authType: 4, sessionID: 7, password: "calvin"))],
                                      transport: .udp, serverPort: 623).1)
        #expect(nullUser.first?.user == nil, "the null user names no one")
        let md5 = weak(inspect([(true, M.ipmiGetSessionChallenge(user: "operator", authType: 2)), (true, M.ipmi15(authType: 2, sessionID: 9))],
                               transport: .udp, serverPort: 623).1)
        #expect(md5.first?.user == "operator")
        #expect(anonymous(inspect([(true, M.ipmi15(authType: 0, sessionID: 7))], transport: .udp, serverPort: 623).1).count == 1)
        #expect(anonymous(inspect([(true, M.ipmi15(authType: 0, sessionID: 0))], transport: .udp, serverPort: 623).1).isEmpty, "sessionless discovery")
        #expect(weak(inspect([(true, M.ipmi15(authType: 2, sessionID: 7))], transport: .udp, serverPort: 623).1).first?.method == "IPMI 1.5 MD5")
        let suite0 = anonymous(inspect([(true, M.rakp1(user: "ADMIN")), (false, M.rmcpPlusOpenSessionResponse(algorithms: (0, 0, 0)))], transport: .udp, serverPort: 623).1)
        #expect(suite0.first?.user == "ADMIN")
        #expect(anonymous(inspect([(false, M.rmcpPlusOpenSessionResponse(algorithms: (1, 1, 1)))], transport: .udp, serverPort: 623).1).isEmpty)
        let none = inspect(M.libvirtAuthList(authTypes: [0]), serverPort: 16509, chunk: 6).1
        #expect(anonymous(none).count == 1 && cleartextServices(none) == ["libvirt"])
        #expect(anonymous(inspect(M.libvirtAuthList(authTypes: [1])).1).isEmpty)
    }

    /// Arbitrary bytes after a valid opening never trap an inspector.
    @Test func garbageAfterRecognition() {
        var rng = SeededRandom(seed: 11)
        let openings: [M.Dialogue] = [M.telnetLogin(user: "a", password: "b", accepted: true), M.ftpLogin(user: "a", password: "b", accepted: true),
                                      M.httpBasic(user: "a", password: "b"), [(true, M.ldapBind(id: 1, dn: "a", password: "b"))],
                                      M.rfb(offered: [2], chosen: 2, accepted: true), M.rdp(user: "a", requested: 0, selected: 0),
                                      M.libvirtAuthList(authTypes: [0]), M.tlsHandshake(offered: 0x0303, selected: 0x0303)]
        for opening in openings {
            // The opening alone names the protocol; garbage after it must not change that,
            // and each piece of garbage yields at most one finding.
            let recognized = inspect(Array(opening.prefix(1)), serverPort: 23).0
            #expect(recognized != nil, "\(opening.first!.1.prefix(16))")
            for _ in 0..<200 {
                var d = Array(opening.prefix(1))
                for _ in 0..<4 {
                    d.append((rng.next() % 2 == 0, (0..<Int(rng.next() % 300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }))
                }
                let (proto, events) = inspect(d, serverPort: 23)
                #expect(proto == recognized)
                #expect(events.count <= d.count + 1, "\(recognized ?? "?"): \(events.count) events from \(d.count) pieces")
            }
        }
    }
}

/// MySQL and MariaDB logins: plugin by plugin, whole and in pieces.
@Suite("MySQL")
struct MySQLInspectorTests {
    @Test(arguments: [Int.max, 7, 1])
    func loginsByPlugin(chunk: Int) {
        let native = inspect(M.mysqlLogin(user: "admin", password: "Db-Pass-1", database: "vcdb"), serverPort: 3306, chunk: chunk)
        #expect(native.0 == "mysql")
        #expect(weak(native.1).first.map { $0.user == "admin" && $0.method == "MySQL mysql_native_password" } == true, "\(native.1)")
        let login = logins(native.1).first
        #expect(login?.user == "admin" && login?.success == true && login?.credential == .none("SHA-1 scramble: the password is not sent"))
        #expect(login?.evidence.contains { $0.0 == "database" && $0.1 == .text("vcdb") } == true)
        #expect(cleartextServices(native.1) == ["mysql"])

        let clear = logins(inspect(M.mysqlLogin(user: "app", password: "Cl34r-pw", clearPassword: true, accepted: false), serverPort: 3306, chunk: chunk).1)
        #expect(clear.count == 1 && clear.first?.credential == .cleartext(length: 8) && clear.first?.success == false && clear.first?.method == "MySQL mysql_clear_password")

        let empty = inspect(M.mysqlLogin(user: "root", password: ""), serverPort: 3306, chunk: chunk).1
        #expect(anonymous(empty).first?.credential == .none("empty password") && weak(empty).isEmpty && logins(empty).isEmpty)

        let sha2 = inspect(M.mysqlLogin(user: "admin", password: "x", plugin: "caching_sha2_password"), serverPort: 3306, chunk: chunk).1
        #expect(logins(sha2).isEmpty && weak(sha2).isEmpty && anonymous(sha2).isEmpty)

        let tls = inspect(M.mysqlTLS(), serverPort: 3306, chunk: chunk)
        #expect(tls.0 == "mysql" && tls.1.isEmpty, "after SSLRequest nothing is read: \(tls.1)")
    }

    /// The answer to the challenge lets the password be guessed offline: it
    /// is a secret (masked in evidence files), its bytes exactly, whether its
    /// length comes first or a NUL ends it.
    @Test(arguments: [false, true])
    func theScrambleIsASecret(nulTerminated: Bool) throws {
        var dialogue = M.mysqlLogin(user: "admin", password: "Db-Pass-1")
        let scramble = [UInt8](repeating: 0x5A, count: 20)
        if nulTerminated {
            // Protocol 4.1 with plugin authentication, neither CLIENT_SECURE_CONNECTION nor length-encoded data.
            let response: [UInt8] = [0x00, 0x02, 0x08, 0x00] + [0x00, 0x00, 0x00, 0x01] + [0x21] + [UInt8](repeating: 0, count: 23)
                + Array("admin".utf8) + [0] + scramble + [0] + Array("mysql_native_password".utf8) + [0]
            dialogue[1] = (true, M.mysqlPacket(1, response))
        }
        let hints = FlowHints(transport: .tcp, serverPort: 3306, clientPort: 40000, managementService: true)
        let greeting = dialogue[0].1
        let inspector = try #require(greeting.withUnsafeBytes { InspectorRegistry.recognize($0, fromClient: false, hints) })
        var out = InspectionOutput(), secrets: [[UInt8]] = []
        for (fromClient, bytes) in dialogue {
            bytes.withUnsafeBytes { inspector.consume($0, fromClient: fromClient, &out) }
            secrets += out.secrets.map(\.bytes)
            out.secrets.removeAll()
        }
        #expect(secrets == [scramble], "\(secrets)")
    }

    /// After the greeting, bulk data (a stream past its connection phase, or
    /// not MySQL) ends the inspection at once: nothing is buffered for it
    /// (the benchmark's inspect mix went from 86 to 159 MB before this).
    @Test func bulkDataEndsTheInspection() {
        let inspector = MySQLInspector()
        var out = InspectionOutput()
        M.mysqlLogin(user: "a", password: "b")[0].bytes.withUnsafeBytes { inspector.consume($0, fromClient: false, &out) }
        #expect(!out.finished)
        let bulk: [UInt8] = [0x41, 0x42, 0x43, 0x01] + [UInt8](repeating: 0x41, count: 1400)
        bulk.withUnsafeBytes { inspector.consume($0, fromClient: true, &out) }
        #expect(out.finished && out.events.isEmpty)
    }

    @Test func notMySQL() {
        // A greeting must be version 10 with a printable version that starts with a digit.
        #expect(inspect([(false, M.mysqlPacket(0, [0x09] + Array("8.0.36\0".utf8) + [UInt8](repeating: 0, count: 40)))], serverPort: 3306).0 == nil)
        #expect(inspect([(false, M.mysqlPacket(0, [0x0A] + Array("x\u{1}\0".utf8) + [UInt8](repeating: 0, count: 40)))], serverPort: 3306).0 == nil)
    }
}

/// FTP data connections (RFC 959 PASV/PORT, RFC 2428 EPSV/EPRT): what a
/// session announces, from the lines as servers and clients write them.
@Suite("FTP data channels")
struct FTPDataChannelTests {
    static func channels(_ lines: [(Bool, String)]) -> [DataChannel] {
        let inspector = FTPInspector()
        var out = InspectionOutput()
        var all: [DataChannel] = []
        for (fromClient, line) in [(false, "220 ready\r\n")] + lines.map({ ($0.0, $0.1 + "\r\n") }) {
            Array(line.utf8).withUnsafeBytes { inspector.consume($0, fromClient: fromClient, &out) }
            all += out.dataChannels
            out.dataChannels.removeAll()
        }
        return all
    }

    static let table: [(String, [(Bool, String)], [DataChannel])] = [
        ("PASV", [(false, "227 Entering Passive Mode (199,233,217,249,221,90).")],
         [DataChannel(address: IPAddress("199.233.217.249"), port: 221 * 256 + 90, toServer: true)]),
        ("PASV without parentheses", [(false, "227 Entering Passive Mode 10,10,0,5,82,10")],
         [DataChannel(address: IPAddress("10.10.0.5"), port: 82 * 256 + 10, toServer: true)]),
        ("EPSV", [(false, "229 Entering Extended Passive Mode (|||6446|)")], [DataChannel(address: nil, port: 6446, toServer: true)]),
        ("EPSV, other delimiter", [(false, "229 Entering Extended Passive Mode (!!!49152!)")], [DataChannel(address: nil, port: 49152, toServer: true)]),
        ("PORT", [(true, "PORT 141,142,220,235,131,46")], [DataChannel(address: IPAddress("141.142.220.235"), port: 131 * 256 + 46, toServer: false)]),
        ("EPRT IPv4", [(true, "EPRT |1|132.235.1.2|6275|")], [DataChannel(address: IPAddress("132.235.1.2"), port: 6275, toServer: false)]),
        ("EPRT IPv6", [(true, "EPRT |2|1080::8:800:200C:417A|5282|")], [DataChannel(address: IPAddress("1080::8:800:200c:417a"), port: 5282, toServer: false)]),
        // Nothing announced.
        ("port 0", [(true, "PORT 10,0,0,1,0,0")], []),
        ("a number above 255", [(false, "227 Entering Passive Mode (10,0,0,300,1,2)")], []),
        ("five numbers", [(false, "227 Entering Passive Mode (10,0,0,1,2)")], []),
        ("EPSV without its delimiters", [(false, "229 Entering Extended Passive Mode (6446)")], []),
        ("EPSV port too large", [(false, "229 Entering Extended Passive Mode (|||70000|)")], []),
        ("EPRT with a bad address", [(true, "EPRT |1|132.235.1|6275|")], []),
        ("a 227 from the client", [(true, "227 Entering Passive Mode (10,0,0,1,1,2)")], []),
        ("PASV command alone", [(true, "PASV")], []),
        // Found by the fuzzer: a reply code with nothing after it.
        ("a bare 227", [(false, "227")], []),
        ("a bare 229", [(false, "229")], []),
    ]

    @Test(arguments: table.indices)
    func announced(index: Int) {
        let (name, lines, expected) = Self.table[index]
        #expect(Self.channels(lines) == expected, "\(name)")
    }
}
