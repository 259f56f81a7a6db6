import Vocabulary

/// PostgreSQL's startup (protocol 3.0, RFC-less: the frontend/backend
/// protocol of the PostgreSQL documentation): an SSLRequest the server
/// refuses ('N') or accepts ('S', TLS from there on: nothing more to read),
/// the StartupMessage's user and database, the server's authentication
/// request and its verdict. A cleartext password (AuthenticationCleartext-
/// Password) is a cleartext login; MD5 (a salted hash of the password, the
/// user name in clear) a weak method; trust (AuthenticationOk at once) access
/// without authentication; SCRAM is left alone. A server answering without
/// TLS is serving in clear. The password is only counted.
final class PostgreSQLInspector: SimpleStreamInspector {
    static let name = "postgresql"

    private static let sslRequest: UInt32 = 80_877_103
    private static let gssEncRequest: UInt32 = 80_877_104
    private static let protocol3: UInt32 = 196_608

    private var client: [UInt8] = []
    private var server: [UInt8] = []
    /// The client's first message (SSLRequest/GSSENCRequest or StartupMessage) is untyped.
    private var startupSeen = false
    /// An SSLRequest or GSSENCRequest waits for its one-byte answer.
    private var encryptionAsked = false
    private var user: String?
    private var database: String?
    /// The authentication the server asked for: 3 cleartext, 5 MD5, 10 SASL.
    private var method: UInt32?
    private var passwordLength: Int?
    private var announced = false
    private var reported = false

    static func recognize(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ hints: FlowHints) -> PostgreSQLInspector? {
        guard hints.transport == .tcp, fromClient, bytes.count >= 8 else { return nil }
        let length = Self.u32(bytes, 0), code = Self.u32(bytes, 4)
        if length == 8 && (code == sslRequest || code == gssEncRequest) { return PostgreSQLInspector() }
        // A StartupMessage: protocol 3.0, a sane length, "user" among the first keys.
        guard code == protocol3, length >= 9, length <= 10_000 else { return nil }
        return ByteText.hasPrefix(UnsafeRawBufferPointer(rebasing: bytes[8...]), "user\0")
            || ByteText.hasPrefix(UnsafeRawBufferPointer(rebasing: bytes[8...]), "database\0") ? PostgreSQLInspector() : nil
    }

    static func u32<C: Collection>(_ b: C, _ at: Int) -> UInt32 where C.Element == UInt8, C.Index == Int {
        let s = b.startIndex + at
        return UInt32(b[s]) << 24 | UInt32(b[s + 1]) << 16 | UInt32(b[s + 2]) << 8 | UInt32(b[s + 3])
    }

    func consume(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ out: inout InspectionOutput) {
        out.appProtocol = "postgresql"
        // The startup phase is a few small messages: more than this is past it.
        if fromClient { client += bytes.prefix(max(0, 16_384 - client.count)) } else { server += bytes.prefix(max(0, 16_384 - server.count)) }
        if fromClient { clientMessages(&out) } else { serverMessages(&out) }
        if client.count >= 16_384 || server.count >= 16_384 {
            finish(&out)
            out.finished = true
        }
    }

    private func clientMessages(_ out: inout InspectionOutput) {
        while true {
            if !startupSeen || encryptionAsked && client.count >= 8 && Self.u32(client, 0) == 8 {
                guard client.count >= 8 else { return }
                let length = Int(Self.u32(client, 0))
                guard length >= 8, length <= 10_000 else { out.finished = true; return }
                guard client.count >= length else { return }
                let code = Self.u32(client, 4)
                if code == Self.sslRequest || code == Self.gssEncRequest {
                    encryptionAsked = true
                } else if code == Self.protocol3 {
                    startupSeen = true
                    encryptionAsked = false
                    startup(client[8..<length])
                } else {
                    out.finished = true
                    return
                }
                client.removeFirst(length)
                continue
            }
            // Typed messages: a byte, then a length that counts itself.
            guard client.count >= 5 else { return }
            let length = Int(Self.u32(client, 1))
            guard length >= 4, length <= 10_000 else { out.finished = true; return }
            guard client.count >= 1 + length else { return }
            if client[0] == 0x70, method == 3 || method == 5 {  // 'p': PasswordMessage
                let body = client[5..<(1 + length)]
                passwordLength = body.firstIndex(of: 0).map { $0 - body.startIndex } ?? body.count
                out.secrets.append(WireSecret(body.prefix(passwordLength!)))
            }
            client.removeFirst(1 + length)
        }
    }

    private func startup(_ pairs: ArraySlice<UInt8>) {
        var fields: [String] = []
        var start = pairs.startIndex
        while start < pairs.endIndex, let end = pairs[start...].firstIndex(of: 0) {
            if end == start { break }
            fields.append(ByteText.string(pairs[start..<end]))
            start = end + 1
        }
        var i = 0
        while i + 1 < fields.count {
            if fields[i] == "user" { user = fields[i + 1] }
            if fields[i] == "database" { database = fields[i + 1] }
            i += 2
        }
    }

    private func serverMessages(_ out: inout InspectionOutput) {
        if encryptionAsked, let answer = server.first {
            server.removeFirst()
            encryptionAsked = false
            if answer == 0x53 || answer == 0x47 {  // 'S' TLS, 'G' GSSAPI encryption: nothing more in clear
                out.finished = true
                return
            }
        }
        while server.count >= 5 {
            let type = server[0]
            let length = Int(Self.u32(server, 1))
            guard length >= 4, length <= 100_000 else { out.finished = true; return }
            guard server.count >= 1 + length else { return }
            if !announced {
                announced = true
                out.events.append(.cleartextService(proto: "postgresql", detail: "PostgreSQL without TLS"))
            }
            if type == 0x52 && length >= 8 {  // 'R': an authentication request or AuthenticationOk
                let code = Self.u32(server, 5)
                if code == 0 {
                    verdict(true, &out)
                } else if method == nil {
                    method = code
                    if code == 5 { report(.weakAuthentication(login(success: nil, credential: .none("MD5 challenge-response"))), &out) }
                }
            } else if type == 0x45 && startupSeen {  // 'E': an error, during the startup a refused login
                verdict(false, &out)
            }
            server.removeFirst(1 + length)
            if reported { out.finished = true; return }
        }
    }

    private func login(success: Bool?, credential: Credential) -> LoginEvent {
        var evidence: Evidence = []
        if let database { evidence.append(("database", .text(database))) }
        let method = switch self.method {
        case 3: "PostgreSQL cleartext password"
        case 5: "PostgreSQL MD5 password"
        case nil: "PostgreSQL trust (no authentication)"
        default: "PostgreSQL authentication \(self.method!)"
        }
        return LoginEvent(proto: "postgresql", user: user, credential: credential, method: method, success: success, evidence: evidence)
    }

    private func verdict(_ success: Bool, _ out: inout InspectionOutput) {
        guard !reported else { return }
        switch method {
        case 3:
            report(.login(login(success: success, credential: passwordLength.map { .cleartext(length: $0) } ?? .cleartextUnattributed)), &out)
        case 5:
            // The user name and the session in clear; the password itself is not sent.
            report(.login(login(success: success, credential: .none("MD5 challenge-response: the password is not sent"))), &out)
        case nil where success:
            report(.anonymousAccess(login(success: true, credential: .none("trust: no password asked"))), &out)
        default:
            reported = true
        }
    }

    private func report(_ event: AppEvent, _ out: inout InspectionOutput) {
        out.events.append(event)
        if case .weakAuthentication = event { return }
        reported = true
    }

    func finish(_ out: inout InspectionOutput) {
        // A cleartext password whose verdict was never seen.
        if !reported, method == 3, passwordLength != nil {
            report(.login(login(success: nil, credential: .cleartext(length: passwordLength!))), &out)
        }
    }
}
