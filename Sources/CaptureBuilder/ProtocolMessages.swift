import Decode

/// Application-protocol messages, byte for byte as the protocols' specifications
/// lay them out, for the project's own captures of logins and consoles.
public enum ProtocolMessages {
    public typealias Dialogue = [(fromClient: Bool, bytes: [UInt8])]

    static func ascii(_ s: String) -> [UInt8] { Array(s.utf8) }

    // MARK: Telnet, rlogin, rsh

    /// A telnet login: option negotiation, then the user typed one character per
    /// segment (echoed by the server), the password typed (not echoed), and the verdict.
    public static func telnetLogin(user: String, password: String, accepted: Bool) -> Dialogue {
        var d: Dialogue = [
            (false, [0xFF, 0xFD, 0x18, 0xFF, 0xFD, 0x20, 0xFF, 0xFB, 0x01, 0xFF, 0xFB, 0x03]),
            (true, [0xFF, 0xFB, 0x18, 0xFF, 0xFC, 0x20, 0xFF, 0xFD, 0x01, 0xFF, 0xFD, 0x03]),
            (false, ascii("\r\nDebian GNU/Linux 12\r\nesxi-jump login: ")),
        ]
        for c in user.utf8 { d.append((true, [c])); d.append((false, [c])) }
        d.append((true, [0x0D, 0x00]))
        d.append((false, ascii("\r\nPassword: ")))
        for c in password.utf8 { d.append((true, [c])) }
        d.append((true, [0x0D, 0x0A]))
        d.append((false, ascii(accepted ? "\r\nLast login: Thu Nov 26 13:55:10 2026\r\nroot@esxi-jump:~# " : "\r\nLogin incorrect\r\nesxi-jump login: ")))
        return d
    }

    /// A telnet login typed ahead, as `nc` or a script sends it: the user and
    /// the password (`\n`-terminated) leave before the prompts arrive; the
    /// server then prompts, echoes the user, and answers when `accepted` is set
    /// (nil: the capture shows no answer and no command).
    public static func telnetTypeAhead(user: String, password: String, accepted: Bool?) -> Dialogue {
        var d: Dialogue = [
            (false, [0xFF, 0xFD, 0x18, 0xFF, 0xFB, 0x01]),
            (true, ascii("\(user)\n\(password)\n")),
            (false, ascii("\r\nDebian GNU/Linux 12\r\nkvm-jump login: \(user)\r\nPassword: ")),
        ]
        if let accepted {
            d.append((false, ascii(accepted ? "\r\nLast login: Thu Nov 26 13:55:10 2026\r\nroot@kvm-jump:~# " : "\r\nLogin incorrect\r\nkvm-jump login: ")))
        }
        return d
    }

    public static func rsh(clientUser: String, serverUser: String, command: String, accepted: Bool) -> Dialogue {
        [(true, ascii("1022\0")), (true, ascii("\(clientUser)\0\(serverUser)\0\(command)\0")),
         (false, accepted ? [0] : [1] + ascii("Permission denied.\n"))]
    }

    public static func rlogin(clientUser: String, serverUser: String) -> Dialogue {
        [(true, ascii("\0\(clientUser)\0\(serverUser)\0xterm/38400\0")), (false, [0]), (false, ascii("Last login: today\r\n$ "))]
    }

    // MARK: FTP and VMware authd

    public static func ftpLogin(user: String, password: String, accepted: Bool, banner: String = "220 (vsFTPd 3.0.3)") -> Dialogue {
        [(false, ascii("\(banner)\r\n")), (true, ascii("USER \(user)\r\n")), (false, ascii("331 Please specify the password.\r\n")),
         (true, ascii("PASS \(password)\r\n")), (false, ascii(accepted ? "230 Login successful.\r\n" : "530 Login incorrect.\r\n")),
         (true, ascii("QUIT\r\n")), (false, ascii("221 Goodbye.\r\n"))]
    }

    public static func ftpAuthTLS() -> Dialogue {
        [(false, ascii("220 FTP server ready\r\n")), (true, ascii("AUTH TLS\r\n")), (false, ascii("234 Proceed with negotiation.\r\n")),
         (true, [0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x03]), (true, ascii("USER hidden\r\n"))]
    }

    public static let authdBanner = "220 VMware Authentication Daemon Version 1.10: ServerDaemonProtocol:SOAP, MKSDisplayProtocol:VNC"

    // MARK: HTTP

    public static func httpBasic(user: String, password: String, path: String = "/ui/login", status: Int = 200, port: UInt16 = 80) -> Dialogue {
        let token = base64(Array("\(user):\(password)".utf8))
        return [(true, ascii("GET \(path) HTTP/1.1\r\nHost: mgmt:\(port)\r\nAuthorization: Basic \(token)\r\nAccept: */*\r\n\r\n")),
                (false, ascii("HTTP/1.1 \(status) \(status == 200 ? "OK" : "Unauthorized")\r\nContent-Length: 2\r\n\r\nok"))]
    }

    public static func winrmBasic(user: String, password: String) -> Dialogue {
        let body = "<s:Envelope/>"
        let token = base64(Array("\(user):\(password)".utf8))
        return [(true, ascii("POST /wsman HTTP/1.1\r\nHost: hyperv:5985\r\nAuthorization: Basic \(token)\r\nContent-Type: application/soap+xml;charset=UTF-8\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")),
                (false, ascii("HTTP/1.1 200 \r\nContent-Type: application/soap+xml;charset=UTF-8\r\nContent-Length: 0\r\n\r\n"))]
    }

    public static func httpPage(status: Int = 200, location: String? = nil) -> Dialogue {
        var response = "HTTP/1.1 \(status) \(status == 200 ? "OK" : "Moved")\r\n"
        if let location { response += "Location: \(location)\r\n" }
        response += "Content-Length: 0\r\n\r\n"
        return [(true, ascii("GET / HTTP/1.1\r\nHost: vcenter\r\n\r\n")), (false, ascii(response))]
    }

    public static func base64(_ bytes: [UInt8]) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var out = ""
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i], b1 = i + 1 < bytes.count ? bytes[i + 1] : 0, b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
            out.append(table[Int(b0 >> 2)])
            out.append(table[Int((b0 & 3) << 4 | b1 >> 4)])
            out.append(i + 1 < bytes.count ? table[Int((b1 & 0xF) << 2 | b2 >> 6)] : "=")
            out.append(i + 2 < bytes.count ? table[Int(b2 & 0x3F)] : "=")
            i += 3
        }
        return out
    }

    // MARK: BER (LDAP, SNMP)

    public static func ber(_ tag: UInt8, _ contents: [UInt8]) -> [UInt8] {
        var length: [UInt8]
        if contents.count < 0x80 { length = [UInt8(contents.count)] } else if contents.count < 0x100 { length = [0x81, UInt8(contents.count)] } else {
            length = [0x82, UInt8(contents.count >> 8), UInt8(contents.count & 0xFF)]
        }
        return [tag] + length + contents
    }

    public static func berInteger(_ v: Int, tag: UInt8 = 0x02) -> [UInt8] {
        var bytes: [UInt8] = []
        var x = v
        repeat { bytes.insert(UInt8(x & 0xFF), at: 0); x >>= 8 } while x > 0
        if bytes[0] & 0x80 != 0 { bytes.insert(0, at: 0) }
        return ber(tag, bytes)
    }

    public static func ldapBind(id: Int, dn: String, password: String) -> [UInt8] {
        ber(0x30, berInteger(id) + ber(0x60, berInteger(3) + ber(0x04, ascii(dn)) + ber(0x80, ascii(password))))
    }

    public static func ldapBindResponse(id: Int, code: Int) -> [UInt8] {
        ber(0x30, berInteger(id) + ber(0x61, berInteger(code, tag: 0x0A) + ber(0x04, []) + ber(0x04, [])))
    }

    public static func ldapStartTLS(id: Int) -> [UInt8] {
        ber(0x30, berInteger(id) + ber(0x77, ber(0x80, ascii("1.3.6.1.4.1.1466.20037"))))
    }

    public static func ldapExtendedResponse(id: Int, code: Int) -> [UInt8] {
        ber(0x30, berInteger(id) + ber(0x78, berInteger(code, tag: 0x0A) + ber(0x04, []) + ber(0x04, [])))
    }

    static let sysDescr: [UInt8] = [0x06, 0x08, 0x2B, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00]

    /// SNMPv1/v2c GetRequest (`response: false`) or GetResponse.
    public static func snmp(version: Int, community: String, requestID: Int, response: Bool) -> [UInt8] {
        let value = response ? ber(0x04, ascii("VMware ESXi 8.0.2")) : [0x05, 0x00]
        let bindings = ber(0x30, ber(0x30, sysDescr + value))
        let pdu = ber(response ? 0xA2 : 0xA0, berInteger(requestID) + berInteger(0) + berInteger(0) + bindings)
        return ber(0x30, berInteger(version) + ber(0x04, ascii(community)) + pdu)
    }

    /// An SNMPv3 message with USM security parameters; `flags` bit 0 auth, bit 1 priv.
    public static func snmpV3(user: String, flags: UInt8, messageID: Int) -> [UInt8] {
        let global = ber(0x30, berInteger(messageID) + berInteger(65507) + ber(0x04, [flags | 0x04]) + berInteger(3))
        let authParams = flags & 1 != 0 ? [UInt8](repeating: 0xAA, count: 12) : []
        let privParams = flags & 2 != 0 ? [UInt8](repeating: 0xBB, count: 8) : []
        let usm = ber(0x30, ber(0x04, [0x80, 0x00, 0x1F, 0x88, 0x80, 0x01, 0x02, 0x03]) + berInteger(1) + berInteger(100)
                      + ber(0x04, ascii(user)) + ber(0x04, authParams) + ber(0x04, privParams))
        let scoped = flags & 2 != 0 ? ber(0x04, [UInt8](repeating: 0xCC, count: 40))
            : ber(0x30, ber(0x04, []) + ber(0x04, []) + ber(0xA0, berInteger(7) + berInteger(0) + berInteger(0) + ber(0x30, ber(0x30, sysDescr + [0x05, 0x00]))))
        return ber(0x30, berInteger(3) + global + ber(0x04, usm) + scoped)
    }

    // MARK: RFB

    /// An RFB 3.8 handshake choosing `type` among `offered`; for VNC authentication
    /// (2) a challenge and response, then SecurityResult.
    public static func rfb(offered: [UInt8], chosen: UInt8, accepted: Bool) -> Dialogue {
        var d: Dialogue = [(false, ascii("RFB 003.008\n")), (true, ascii("RFB 003.008\n")), (false, [UInt8(offered.count)] + offered), (true, [chosen])]
        if chosen == 2 {
            d.append((false, [UInt8](repeating: 0x5C, count: 16)))
            d.append((true, [UInt8](repeating: 0xC5, count: 16)))
        }
        d.append((false, accepted ? [0, 0, 0, 0] : [0, 0, 0, 1]))
        return d
    }

    /// RFB 3.8 with VeNCrypt (type 19) choosing `subtype`; Plain (256) sends user and password.
    public static func vencrypt(subtype: UInt32, user: String = "", password: String = "") -> Dialogue {
        var d: Dialogue = [(false, ascii("RFB 003.008\n")), (true, ascii("RFB 003.008\n")), (false, [1, 19]), (true, [19]),
                           (false, [0, 2]), (true, [0, 2]), (false, [0]),
                           (false, [2] + Frames.be32(256) + Frames.be32(259)), (true, Frames.be32(subtype))]
        if subtype == 256 {
            d.append((true, Frames.be32(UInt32(user.utf8.count)) + Frames.be32(UInt32(password.utf8.count)) + ascii(user) + ascii(password)))
            d.append((false, [0, 0, 0, 0]))
        } else {
            d.append((true, [0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x03]))
        }
        return d
    }

    // MARK: SPICE, RDP, TLS

    public static func spiceLink() -> Dialogue {
        [(true, ascii("REDQ") + [2, 0, 0, 0, 2, 0, 0, 0, 18, 0, 0, 0] + [UInt8](repeating: 0, count: 18)),
         (false, ascii("REDQ") + [2, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0])]
    }

    /// An RDP negotiation: the client requests `requested`, the server selects `selected`.
    public static func rdp(user: String, requested: UInt32, selected: UInt32) -> Dialogue {
        let cookie = ascii("Cookie: mstshash=\(user)\r\n")
        let negotiation: [UInt8] = [0x01, 0x00, 0x08, 0x00] + le32(requested)
        let x224 = [UInt8(6 + cookie.count + negotiation.count), 0xE0, 0, 0, 0, 0, 0] + cookie + negotiation
        let request = [3, 0] + Frames.be16(UInt16(4 + x224.count)) + x224
        let confirmBody: [UInt8] = [14, 0xD0, 0, 0, 0x12, 0x34, 0, 0x02, 0x00, 0x08, 0x00] + le32(selected)
        let confirm = [3, 0] + Frames.be16(UInt16(4 + confirmBody.count)) + confirmBody
        return [(true, request), (false, confirm)]
    }

    static func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }

    /// A TLS ClientHello offering up to `offered` and a ServerHello selecting `selected`.
    public static func tlsHandshake(offered: UInt16, selected: UInt16) -> Dialogue {
        func record(_ handshake: [UInt8]) -> [UInt8] { [0x16, 0x03, 0x01] + Frames.be16(UInt16(handshake.count)) + handshake }
        func message(_ type: UInt8, _ body: [UInt8]) -> [UInt8] { [type, 0, UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body }
        let random = [UInt8](repeating: 0x42, count: 32)
        var clientExtensions: [UInt8] = []
        if offered >= 0x0304 { clientExtensions = [0x00, 0x2B, 0x00, 0x05, 0x04, 0x03, 0x04, 0x03, 0x03] }
        let client = Frames.be16(min(offered, 0x0303)) + random + [0] + [0x00, 0x02, 0x13, 0x01] + [1, 0] + Frames.be16(UInt16(clientExtensions.count)) + clientExtensions
        var serverExtensions: [UInt8] = []
        if selected >= 0x0304 { serverExtensions = [0x00, 0x2B, 0x00, 0x02, 0x03, 0x04] }
        let server = Frames.be16(min(selected, 0x0303)) + random + [0] + [0x00, 0x2F] + [0] + Frames.be16(UInt16(serverExtensions.count)) + serverExtensions
        return [(true, record(message(1, client))), (false, record(message(2, server)))]
    }

    // MARK: libvirt, IPMI

    /// A libvirt REMOTE_PROC_AUTH_LIST call and its reply listing `authTypes` (0 none, 1 SASL, 2 polkit).
    public static func libvirtAuthList(authTypes: [UInt32]) -> Dialogue {
        func message(type: UInt32, payload: [UInt8]) -> [UInt8] {
            let header = Frames.be32(0x2000_8086) + Frames.be32(1) + Frames.be32(66) + Frames.be32(type) + Frames.be32(1) + Frames.be32(0)
            return Frames.be32(UInt32(4 + header.count + payload.count)) + header + payload
        }
        let reply = Frames.be32(UInt32(authTypes.count)) + authTypes.flatMap(Frames.be32)
        return [(true, message(type: 0, payload: [])), (false, message(type: 1, payload: reply))]
    }

    /// An IPMI 1.5 message in a session with authentication type `authType`
    /// (0 none, 2 MD5, 4 straight password).
    public static func ipmi15(authType: UInt8, sessionID: UInt32, password: String = "") -> [UInt8] {
        var packet: [UInt8] = [0x06, 0x00, 0xFF, 0x07, authType] + [0, 0, 0, 1] + le32(sessionID)
        if authType != 0 {
            var code = [UInt8](repeating: 0, count: 16)
            if authType == 4 { for (i, c) in password.utf8.prefix(16).enumerated() { code[i] = c } } else { code = [UInt8](repeating: 0x77, count: 16) }
            packet += code
        }
        let message: [UInt8] = [0x20, 0x18, 0xC8, 0x81, 0x04, 0x3B, 0x04, 0x3C]  // Set Session Privilege Level
        return packet + [UInt8(message.count)] + message
    }

    // MARK: MySQL

    /// A MySQL packet: 3-byte length, sequence number, payload.
    public static func mysqlPacket(_ sequence: UInt8, _ payload: [UInt8]) -> [UInt8] {
        [UInt8(payload.count & 0xFF), UInt8(payload.count >> 8 & 0xFF), UInt8(payload.count >> 16), sequence] + payload
    }

    /// A MySQL login: the server's HandshakeV10 offering `plugin`, the
    /// client's HandshakeResponse41 (a 20-byte scramble, or none for an empty
    /// password), an AuthSwitchRequest to `mysql_clear_password` answered with
    /// the password when `clearPassword` is set, then OK or ERR.
    public static func mysqlLogin(user: String, password: String, plugin: String = "mysql_native_password", clearPassword: Bool = false,
                                  database: String? = nil, accepted: Bool = true, version: String = "8.0.36") -> Dialogue {
        let capabilities: UInt32 = 0x0000_0200 | 0x0000_8000 | 0x0008_0000 | 0x0020_0000 | (database == nil ? 0 : 0x0000_0008) | 0x0000_0800
        let greeting: [UInt8] = [0x0A] + ascii(version) + [0] + le32(42) + [UInt8](repeating: 0x61, count: 8) + [0]
            + [UInt8(capabilities & 0xFF), UInt8(capabilities >> 8 & 0xFF), 0x21, 0x02, 0x00, UInt8(capabilities >> 16 & 0xFF), UInt8(capabilities >> 24), 21]
            + [UInt8](repeating: 0, count: 10) + [UInt8](repeating: 0x62, count: 12) + [0] + ascii(plugin) + [0]
        let clientCaps = capabilities & ~0x0000_0800
        let answer: [UInt8] = password.isEmpty ? [] : [UInt8](repeating: 0x5A, count: 20)
        var response = le32(clientCaps) + le32(16_777_216) + [0x21] + [UInt8](repeating: 0, count: 23) + ascii(user) + [0]
            + [UInt8(answer.count)] + answer
        if let database { response += ascii(database) + [0] }
        response += ascii(plugin) + [0]
        var dialogue: Dialogue = [(false, mysqlPacket(0, greeting)), (true, mysqlPacket(1, response))]
        var sequence: UInt8 = 2
        if clearPassword {
            dialogue.append((false, mysqlPacket(sequence, [0xFE] + ascii("mysql_clear_password") + [0])))
            dialogue.append((true, mysqlPacket(sequence + 1, ascii(password) + [0])))
            sequence += 2
        }
        let verdict: [UInt8] = accepted ? [0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00] : [0xFF, 0x15, 0x04] + ascii("#28000Access denied for user")
        dialogue.append((false, mysqlPacket(sequence, verdict)))
        return dialogue
    }

    /// A MySQL client asking for TLS after the greeting (SSLRequest), then the TLS ClientHello's first bytes.
    public static func mysqlTLS() -> Dialogue {
        let login = mysqlLogin(user: "x", password: "y")
        let caps: UInt32 = 0x0000_0200 | 0x0000_8000 | 0x0008_0000 | 0x0000_0800
        return [login[0], (true, mysqlPacket(1, le32(caps) + le32(16_777_216) + [0x21] + [UInt8](repeating: 0, count: 23))),
                (true, [0x16, 0x03, 0x01, 0x00, 0x40, 0x01])]
    }

    /// An IPMI 1.5 Get Session Challenge request naming `user` (before a
    /// session: authentication type none, session id 0).
    public static func ipmiGetSessionChallenge(user: String, authType: UInt8 = 4) -> [UInt8] {
        func checksum(_ bytes: [UInt8]) -> UInt8 { UInt8(truncatingIfNeeded: 0 &- bytes.reduce(0) { $0 &+ Int($1) }) }
        var name = [UInt8](repeating: 0, count: 16)
        for (i, c) in user.utf8.prefix(16).enumerated() { name[i] = c }
        let head: [UInt8] = [0x20, 0x06 << 2]
        let body: [UInt8] = [0x81, 0x00, 0x39, authType] + name
        let message = head + [checksum(head)] + body + [checksum(body)]
        return [0x06, 0x00, 0xFF, 0x07, 0x00] + [0, 0, 0, 0] + [0, 0, 0, 0] + [UInt8(message.count)] + message
    }

    /// An RMCP+ Open Session Response selecting algorithms (auth, integrity, confidentiality).
    public static func rmcpPlusOpenSessionResponse(algorithms: (UInt8, UInt8, UInt8)) -> [UInt8] {
        let payload: [UInt8] = [0x00, 0x00, 0x04, 0x00] + le32(0xA0A2_A3A4) + le32(0x0201_0304)
            + [0x00, 0, 0, 0x08, algorithms.0, 0, 0, 0] + [0x01, 0, 0, 0x08, algorithms.1, 0, 0, 0] + [0x02, 0, 0, 0x08, algorithms.2, 0, 0, 0]
        return [0x06, 0x00, 0xFF, 0x07, 0x06, 0x11] + [0, 0, 0, 0] + [0, 0, 0, 0] + [UInt8(payload.count), 0] + payload
    }

    /// RMCP+ RAKP message 1 naming `user`.
    public static func rakp1(user: String) -> [UInt8] {
        let payload: [UInt8] = [0x00, 0, 0, 0] + le32(0x0201_0304) + [UInt8](repeating: 0x11, count: 16) + [0x14, 0, 0, UInt8(user.utf8.count)] + ascii(user)
        return [0x06, 0x00, 0xFF, 0x07, 0x06, 0x12] + [0, 0, 0, 0] + [0, 0, 0, 0] + [UInt8(payload.count), 0] + payload
    }
}

// MARK: Storage and migration

extension ProtocolMessages {
    /// An iSCSI PDU: 48-byte basic header segment and `key=value\0` data padded to 4 bytes.
    static func iscsiPDU(opcode: UInt8, flags: UInt8, keys: [String], status: UInt16 = 0) -> [UInt8] {
        var data: [UInt8] = keys.flatMap { ascii($0) + [0] }
        var bhs = [UInt8](repeating: 0, count: 48)
        bhs[0] = opcode
        bhs[1] = flags
        bhs[2] = 0x00  // version max
        bhs[5] = UInt8(data.count >> 16 & 0xFF); bhs[6] = UInt8(data.count >> 8 & 0xFF); bhs[7] = UInt8(data.count & 0xFF)
        bhs[8...13] = [0x40, 0x00, 0x01, 0x37, 0x00, 0x00]  // ISID
        if opcode & 0x3F == 0x23 { bhs[36] = UInt8(status >> 8); bhs[37] = UInt8(status & 0xFF) }
        while data.count % 4 != 0 { data.append(0) }
        return bhs + data
    }

    /// An iSCSI login: `auth` is the method the target selects ("CHAP", "None"),
    /// or nil for an initiator that starts in the operational stage (no security
    /// negotiation at all). `accepted` is the final status.
    public static func iscsiLogin(initiator: String, target: String, auth: String?, accepted: Bool, sessionType: String = "Normal") -> Dialogue {
        let names = ["InitiatorName=\(initiator)", "TargetName=\(target)", "SessionType=\(sessionType)"]
        if auth == nil {
            // CSG 1 (operational) → NSG 3 (full feature), transit.
            return [(true, iscsiPDU(opcode: 0x43, flags: 0x80 | 1 << 2 | 3, keys: names + ["HeaderDigest=None", "MaxRecvDataSegmentLength=262144"])),
                    (false, iscsiPDU(opcode: 0x23, flags: 0x80 | 1 << 2 | 3, keys: ["HeaderDigest=None"], status: accepted ? 0 : 0x0201))]
        }
        var d: Dialogue = [(true, iscsiPDU(opcode: 0x43, flags: 0x80 | 0 << 2 | 1, keys: names + ["AuthMethod=CHAP,None"])),
                           (false, iscsiPDU(opcode: 0x23, flags: (auth == "None" ? 0x80 : 0) | 0 << 2 | 1, keys: ["AuthMethod=\(auth!)", "TargetPortalGroupTag=1"]))]
        if auth == "CHAP" {
            d.append((true, iscsiPDU(opcode: 0x43, flags: 0, keys: ["CHAP_A=5"])))
            d.append((false, iscsiPDU(opcode: 0x23, flags: 0, keys: ["CHAP_A=5", "CHAP_I=1", "CHAP_C=0x0123456789abcdef0123456789abcdef"])))
            d.append((true, iscsiPDU(opcode: 0x43, flags: 0x80 | 0 << 2 | 1, keys: ["CHAP_N=esx-host-1", "CHAP_R=0xfedcba9876543210fedcba9876543210"])))
            d.append((false, iscsiPDU(opcode: 0x23, flags: 0x80 | 0 << 2 | 1, keys: [], status: accepted ? 0 : 0x0201)))
        }
        if accepted {
            d.append((true, iscsiPDU(opcode: 0x43, flags: 0x80 | 1 << 2 | 3, keys: ["HeaderDigest=None"])))
            d.append((false, iscsiPDU(opcode: 0x23, flags: 0x80 | 1 << 2 | 3, keys: ["HeaderDigest=None"], status: 0)))
        } else if auth == "None" {
            d[1] = (false, iscsiPDU(opcode: 0x23, flags: 0, keys: [], status: 0x0201))
        }
        return d
    }

    /// An ONC RPC call over TCP (record marked) to NFS (100003) or MOUNT (100005),
    /// with credential flavor 1 (AUTH_SYS) or 6 (RPCSEC_GSS).
    public static func rpcCall(program: UInt32, procedure: UInt32, flavor: UInt32, xid: UInt32 = 0x1234_5678) -> [UInt8] {
        var credential: [UInt8] = []
        if flavor == 1 {
            let name = ascii("kvm1")
            credential = Frames.be32(0x5F5E_1000) + Frames.be32(UInt32(name.count)) + name + Frames.be32(0) + Frames.be32(0) + Frames.be32(0)
        } else if flavor == 6 {
            credential = Frames.be32(1) + Frames.be32(0) + Frames.be32(7) + Frames.be32(1) + Frames.be32(4) + [0xAA, 0xBB, 0xCC, 0xDD]
        }
        let body = Frames.be32(xid) + Frames.be32(0) + Frames.be32(2) + Frames.be32(program) + Frames.be32(3) + Frames.be32(procedure)
            + Frames.be32(flavor) + Frames.be32(UInt32(credential.count)) + credential + Frames.be32(0) + Frames.be32(0)
            + Frames.be32(8) + [0, 1, 2, 3, 4, 5, 6, 7]
        return Frames.be32(0x8000_0000 | UInt32(body.count)) + body
    }

    /// An NVMe/TCP ICReq (128 bytes).
    public static func nvmeICReq() -> [UInt8] {
        [0x00, 0x00, 0x80, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00] + [UInt8](repeating: 0, count: 118)
    }

    public static func cephBanner(v2: Bool = false) -> Dialogue {
        v2 ? [(false, ascii("ceph v2\n") + [0x10, 0x00]), (true, ascii("ceph v2\n") + [0x10, 0x00])]
           : [(false, ascii("ceph v027")), (true, ascii("ceph v027"))]
    }

    /// An SMB2 message with a NetBIOS header; `signed` sets the header flag 0x08.
    static func smb2(command: UInt16, response: Bool, signed: Bool, status: UInt32 = 0) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 64)
        h[0...3] = [0xFE, 0x53, 0x4D, 0x42]
        h[4] = 64
        h[8...11] = ArraySlice(le32(status))
        h[12] = UInt8(command & 0xFF); h[13] = UInt8(command >> 8)
        h[16] = (response ? 1 : 0) | (signed ? 0x08 : 0)
        let message = h + [0x09, 0x00, 0x00, 0x00]
        return [0, 0] + Frames.be16(UInt16(message.count)) + message
    }

    /// Negotiate, session setup, then a tree connect and a read, signed or not; or
    /// encrypted after the session setup (transform header).
    public static func smbSession(signed: Bool, encrypted: Bool = false) -> Dialogue {
        var d: Dialogue = [(true, smb2(command: 0, response: false, signed: false)), (false, smb2(command: 0, response: true, signed: false)),
                           (true, smb2(command: 1, response: false, signed: false)), (false, smb2(command: 1, response: true, signed: signed))]
        if encrypted {
            let transform: [UInt8] = [0xFD, 0x53, 0x4D, 0x42] + [UInt8](repeating: 0x11, count: 48) + [UInt8](repeating: 0x77, count: 32)
            d.append((true, [0, 0] + Frames.be16(UInt16(transform.count)) + transform))
        } else {
            d.append((true, smb2(command: 3, response: false, signed: signed)))
            d.append((false, smb2(command: 3, response: true, signed: signed)))
            d.append((true, smb2(command: 8, response: false, signed: signed)))
        }
        return d
    }

    /// QEMU's migration stream (or, with `tls`, a TLS ClientHello in its place).
    public static func qemuMigration(tls: Bool = false) -> Dialogue {
        if tls { return tlsHandshake(offered: 0x0304, selected: 0x0304) }
        let configuration: [UInt8] = [0x07] + Frames.be32(12) + ascii("pc-q35-8.2") + [0, 0]
        return [(true, ascii("QEVM") + Frames.be32(3) + configuration + [UInt8](repeating: 0x00, count: 1200))]
    }

    /// A libxc migration stream v3 image header.
    public static func xenStream() -> Dialogue {
        [(true, [UInt8](repeating: 0xFF, count: 8) + ascii("XENF") + Frames.be32(3) + Frames.be16(0x0001) + Frames.be16(0) + [UInt8](repeating: 0, count: 600))]
    }

    public static func xendRelocation() -> Dialogue {
        [(true, ascii("receive\n")), (true, ascii("LinuxGuestRecord") + [UInt8](repeating: 0x20, count: 400))]
    }

    public static func virtualBoxTeleporter() -> Dialogue {
        [(false, ascii("VirtualBox-Teleporter-1.0\n")), (true, ascii("8c6976e5b5410415bde908bd4dee15dfb167a9c873fc4bb8a81f6f2ab448a918\n")),
         (false, ascii("ACK\n")), (true, ascii("load\n")), (true, [0x05, 0x12, 0x47, 0x19] + [0x00, 0x10, 0x00, 0x00] + ascii("\u{7F}VirtualBox SavedState V2.0\n"))]
    }

    /// NBD newstyle handshake; with `startTLS` the client's first option is STARTTLS.
    public static func nbd(startTLS: Bool) -> Dialogue {
        let option: UInt32 = startTLS ? 5 : 7  // STARTTLS, or GO with an export name
        let data = startTLS ? [] : Frames.be32(4) + ascii("vda0") + Frames.be16(0)
        return [(false, ascii("NBDMAGIC") + ascii("IHAVEOPT") + Frames.be16(3)),
                (true, Frames.be32(3) + ascii("IHAVEOPT") + Frames.be32(option) + Frames.be32(UInt32(data.count)) + data)]
    }

    /// XAPI migrating a VM's memory image to another pool member over HTTP, or
    /// (storage motion) mirroring a disk as NBD over an upgraded HTTP connection.
    public static func xenMotionHTTP(storageMotion: Bool = false) -> Dialogue {
        if storageMotion {
            return [(true, ascii("PUT /services/SM/nbd/OpaqueRef:5e1f/OpaqueRef:7a2b/3f6c1d2e?session_id=OpaqueRef:x HTTP/1.1\r\nHost: xs2\r\nTransfer-encoding: nbd\r\n\r\n")),
                    (false, ascii("HTTP/1.1 200 OK\r\nTransfer-encoding: nbd\r\n\r\n") + ascii("NBDMAGIC") + ascii("IHAVEOPT") + Frames.be16(3))]
        }
        return [(true, ascii("PUT /services/xenops/memory/8a1c0f70?session_id=OpaqueRef:x HTTP/1.1\r\nHost: xs2\r\nContent-Length: 16\r\n\r\n") + ascii("XenSavedDomv2-\n.")),
                (false, ascii("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))]
    }

    /// A few Ethernet payload bytes of an FCoE, FIP or AoE frame.
    public static func ethernetStorage(_ etherType: UInt16) -> [UInt8] {
        switch etherType {
        case 0x88A2: return [0x10, 0x00, 0x00, 0x14, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01] + [UInt8](repeating: 0, count: 36)  // AoE ATA command
        case 0x8914: return [0x10, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00] + [UInt8](repeating: 0, count: 38)  // FIP discovery
        default: return [0x00] + [UInt8](repeating: 0, count: 13) + [0x2E] + [UInt8](repeating: 0, count: 40)    // FCoE SOF + FC frame
        }
    }
}
