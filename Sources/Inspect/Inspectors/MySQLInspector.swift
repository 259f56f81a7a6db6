import Vocabulary

/// MySQL and MariaDB's connection phase (the client/server protocol of the
/// MySQL documentation): the server's greeting (HandshakeV10) with its
/// authentication plugin, the client's SSLRequest (TLS from there on: nothing
/// more to read) or HandshakeResponse41 with the user, database and the
/// answer to the challenge, an AuthSwitchRequest, and the verdict (OK or
/// ERR). `mysql_clear_password` sends the password in clear: a cleartext
/// login (only its length is kept). `mysql_native_password` (and the old
/// scramble) send a SHA-1 scramble of a password hash, readable by anyone
/// who has the hash and crackable offline: a weak method, with the user and
/// the session in clear. An empty answer is a login without a password.
/// `caching_sha2_password` and others are left alone. A server that
/// answers a login without TLS serves in clear.
final class MySQLInspector: SimpleStreamInspector {
    static let name = "mysql"

    private static let clientSSL: UInt32 = 0x0000_0800
    private static let clientConnectWithDB: UInt32 = 0x0000_0008
    private static let clientPluginAuth: UInt32 = 0x0008_0000
    private static let clientSecureConnection: UInt32 = 0x0000_8000
    private static let clientLenencClientData: UInt32 = 0x0020_0000

    private var client: [UInt8] = []
    private var server: [UInt8] = []
    private var greeted = false
    private var responded = false
    /// The plugin the server asked for first, then the one it switched to.
    private var plugin = "mysql_native_password"
    private var user: String?
    private var database: String?
    /// The answer to the challenge was empty.
    private var emptyAnswer = false
    /// After an AuthSwitchRequest to `mysql_clear_password`: the client's next packet is the password.
    private var awaitingClearPassword = false
    private var passwordLength: Int?
    private var reported = false

    /// The server's greeting: protocol version 10, a version string, sequence 0.
    static func recognize(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ hints: FlowHints) -> MySQLInspector? {
        guard hints.transport == .tcp, !fromClient, bytes.count >= 6 else { return nil }
        let length = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16
        guard bytes[3] == 0, bytes[4] == 0x0A, length >= 30, length <= 1024 else { return nil }
        // A printable version string ("8.0.36", "5.5.5-10.11.6-MariaDB").
        let version = bytes[5...].prefix { $0 != 0 }
        guard (1...64).contains(version.count), version.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }), bytes[5] >= 0x30, bytes[5] <= 0x39 else { return nil }
        return MySQLInspector()
    }

    func consume(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ out: inout InspectionOutput) {
        out.appProtocol = "mysql"
        // The connection phase is a few small packets: more than this is past it.
        if fromClient { client += bytes.prefix(max(0, 16_384 - client.count)) } else { server += bytes.prefix(max(0, 16_384 - server.count)) }
        packets: while true {
            switch fromClient ? Self.packet(&client) : Self.packet(&server) {
            case .packet(let payload):
                if fromClient { clientPacket(payload, &out) } else { serverPacket(payload, &out) }
                if out.finished || reported { out.finished = true; return }
            case .incomplete:
                break packets
            case .tooLong:
                // Longer than the connection phase allows: past it, or not MySQL.
                finish(&out)
                out.finished = true
                return
            }
        }
        if client.count >= 16_384 || server.count >= 16_384 {
            finish(&out)
            out.finished = true
        }
    }

    /// The largest packet of the connection phase: a longer one means the
    /// stream is past it, or is not MySQL (nothing more is buffered).
    private static let largestPacket = 8192

    enum Next {
        case packet([UInt8])
        case incomplete
        case tooLong
    }

    /// Takes one whole packet's payload off `buffer` (3-byte length, sequence, payload).
    private static func packet(_ buffer: inout [UInt8]) -> Next {
        guard buffer.count >= 4 else { return .incomplete }
        let length = Int(buffer[0]) | Int(buffer[1]) << 8 | Int(buffer[2]) << 16
        guard length <= largestPacket else { return .tooLong }
        guard buffer.count >= 4 + length else { return .incomplete }
        let payload = Array(buffer[4..<(4 + length)])
        buffer.removeFirst(4 + length)
        return .packet(payload)
    }

    private func serverPacket(_ p: [UInt8], _ out: inout InspectionOutput) {
        guard let first = p.first else { return }
        if !greeted {
            greeted = true
            greeting(p)
            return
        }
        guard responded else { return }
        switch first {
        case 0x00:  // OK
            verdict(true, &out)
        case 0xFF:  // ERR
            verdict(false, &out)
        case 0xFE:  // AuthSwitchRequest: plugin name, then its data
            let name = ByteText.string(p.dropFirst().prefix { $0 != 0 })
            if !name.isEmpty { plugin = name }
            awaitingClearPassword = plugin == "mysql_clear_password"
            if plugin == "mysql_native_password" { weak(&out) }
        default:
            break  // AuthMoreData (caching_sha2_password) and the like
        }
    }

    /// HandshakeV10: version, thread id, scramble part 1, capabilities, ... the plugin name.
    private func greeting(_ p: [UInt8]) {
        var o = 1
        while o < p.count && p[o] != 0 { o += 1 }
        o += 1 + 4 + 8 + 1  // NUL, connection id, auth-plugin-data-part-1, filler
        guard p.count >= o + 2 else { return }
        var capabilities = UInt32(p[o]) | UInt32(p[o + 1]) << 8
        o += 2
        guard p.count >= o + 5 else { return }
        capabilities |= (UInt32(p[o + 3]) | UInt32(p[o + 4]) << 8) << 16
        let dataLength = Int(p[o + 5 < p.count ? o + 5 : o])
        o += 6 + 10  // charset, status (2), capabilities upper (2), data length, reserved
        guard capabilities & Self.clientPluginAuth != 0 else { return }
        o += max(13, dataLength - 8)
        guard o < p.count else { return }
        let name = ByteText.string(p[o...].prefix { $0 != 0 })
        if !name.isEmpty { plugin = name }
    }

    private func clientPacket(_ p: [UInt8], _ out: inout InspectionOutput) {
        if awaitingClearPassword {
            awaitingClearPassword = false
            passwordLength = p.firstIndex(of: 0) ?? p.count
            out.secrets.append(WireSecret(p.prefix(passwordLength!)))
            return
        }
        guard !responded, p.count >= 32 else { return }
        let capabilities = UInt32(p[0]) | UInt32(p[1]) << 8 | UInt32(p[2]) << 16 | UInt32(p[3]) << 24
        if p.count == 32 && capabilities & Self.clientSSL != 0 {
            // SSLRequest: TLS from here on.
            out.finished = true
            return
        }
        responded = true
        out.events.append(.cleartextService(proto: "mysql", detail: "MySQL logins without TLS"))
        var o = 32
        let name = p[o...].prefix { $0 != 0 }
        user = ByteText.string(name)
        o += name.count + 1
        // The answer to the challenge: length-encoded, one length byte, or NUL-terminated.
        var answer = 0, terminator = 0
        if capabilities & Self.clientLenencClientData != 0, o < p.count {
            answer = Int(p[o])
            o += 1
            if answer >= 0xFB { answer = 0 }  // longer forms never answer a 20-byte challenge
        } else if capabilities & Self.clientSecureConnection != 0, o < p.count {
            answer = Int(p[o])
            o += 1
        } else {
            answer = p.count > o ? (p[o...].firstIndex(of: 0) ?? p.count) - o : 0
            if answer > 0 { terminator = 1 }  // its NUL follows it
        }
        emptyAnswer = answer == 0
        // The scramble, with the greeting's salt, lets the password be guessed offline: a secret like the password.
        if answer > 0, o + answer <= p.count { out.secrets.append(WireSecret(p[o..<(o + answer)])) }
        o += answer + terminator
        if capabilities & Self.clientConnectWithDB != 0, o < p.count {
            let db = p[o...].prefix { $0 != 0 }
            if !db.isEmpty { database = ByteText.string(db) }
            o += db.count + 1
        }
        if capabilities & Self.clientPluginAuth != 0, o < p.count {
            let chosen = ByteText.string(p[o...].prefix { $0 != 0 })
            if !chosen.isEmpty { plugin = chosen }
        }
        if !emptyAnswer && (plugin == "mysql_native_password" || plugin == "mysql_old_password") { weak(&out) }
    }

    private var weakReported = false

    private func weak(_ out: inout InspectionOutput) {
        guard !weakReported else { return }
        weakReported = true
        out.events.append(.weakAuthentication(login(success: nil, credential: .none("SHA-1 scramble of the password hash"))))
    }

    private func login(success: Bool?, credential: Credential) -> LoginEvent {
        var evidence: Evidence = [("auth_plugin", .text(plugin))]
        if let database { evidence.append(("database", .text(database))) }
        return LoginEvent(proto: "mysql", user: user, credential: credential, method: "MySQL \(plugin)", success: success, evidence: evidence)
    }

    private func verdict(_ success: Bool, _ out: inout InspectionOutput) {
        guard !reported else { return }
        reported = true
        if let passwordLength {
            out.events.append(.login(login(success: success, credential: .cleartext(length: passwordLength))))
        } else if emptyAnswer {
            if success { out.events.append(.anonymousAccess(login(success: true, credential: .none("empty password")))) }
        } else if plugin == "mysql_native_password" || plugin == "mysql_old_password" {
            // The user name and the session in clear; the password itself is not sent.
            out.events.append(.login(login(success: success, credential: .none("SHA-1 scramble: the password is not sent"))))
        }
    }

    func finish(_ out: inout InspectionOutput) {
        // A cleartext password whose verdict was never seen.
        if !reported, let passwordLength {
            reported = true
            out.events.append(.login(login(success: nil, credential: .cleartext(length: passwordLength))))
        }
    }
}
