import Vocabulary

/// LDAP (RFC 4511): bind requests and their results, by message id. A simple
/// bind with a DN and a password sends the password in clear; with both empty
/// it is an anonymous bind, with only the password empty an unauthenticated
/// bind (RFC 4513 §5.1). SASL PLAIN also sends the password in clear. A
/// successful StartTLS ends the inspection.
final class LDAPInspector: SimpleStreamInspector {
    static let name = "ldap"

    private enum BindKind { case simple, anonymous, unauthenticated, saslPlain, sasl(String) }
    private struct Bind {
        var messageID: Int
        var dn: String
        var kind: BindKind
        var passwordLength: Int
    }

    private var clientBuffer: [UInt8] = []
    private var serverBuffer: [UInt8] = []
    private var binds: [Bind] = []
    private var startTLSRequested = false
    /// Messages longer than this are skipped rather than buffered.
    static let maximumMessage = 16 * 1024

    static let startTLS = Array("1.3.6.1.4.1.1466.20037".utf8)

    /// An LDAPMessage: SEQUENCE { INTEGER message id, [APPLICATION n] ... }.
    static func recognize(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ hints: FlowHints) -> LDAPInspector? {
        guard hints.transport == .tcp, fromClient, bytes.count >= 7, bytes[0] == 0x30 else { return nil }
        // SEQUENCE length (short or long form up to 4 bytes), INTEGER id of 1-4 bytes, then an [APPLICATION n] operation.
        let lengthByte = Int(bytes[1])
        var o = 2
        if lengthByte >= 0x80 {
            let count = lengthByte & 0x7F
            guard count >= 1, count <= 4 else { return nil }
            o += count
        }
        guard bytes.count > o + 2, bytes[o] == 0x02 else { return nil }
        let idLength = Int(bytes[o + 1])
        guard idLength >= 1, idLength <= 4, bytes.count > o + 2 + idLength else { return nil }
        return (0x60...0x7F).contains(bytes[o + 2 + idLength]) ? LDAPInspector() : nil
    }

    func consume(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ out: inout InspectionOutput) {
        out.appProtocol = "ldap"
        if fromClient {
            clientBuffer += bytes
            while let message = Self.nextMessage(&clientBuffer) { clientMessage(message, &out) }
        } else {
            serverBuffer += bytes
            while let message = Self.nextMessage(&serverBuffer) { serverMessage(message, &out) }
        }
    }

    /// Takes one complete BER message off the front of `buffer`.
    private static func nextMessage(_ buffer: inout [UInt8]) -> [UInt8]? {
        guard let length = BERReader.elementLength(buffer) else {
            if buffer.count > 8 && buffer[0] != 0x30 { buffer.removeAll() }  // lost framing
            return nil
        }
        if length > maximumMessage {
            buffer.removeAll()  // too large for a bind; give up on this direction's framing
            return nil
        }
        guard buffer.count >= length else { return nil }
        let message = Array(buffer[..<length])
        buffer.removeFirst(length)
        return message
    }

    private func clientMessage(_ message: [UInt8], _ out: inout InspectionOutput) {
        var top = BERReader(message)
        guard let seq = top.read(tag: 0x30) else { return }
        var r = top.inside(seq)
        guard let idElement = r.read(tag: 0x02), let id = r.integer(idElement), let op = r.read() else { return }
        if op.tag == 0x60 {  // BindRequest
            var b = r.inside(op)
            guard let _ = b.read(tag: 0x02), let name = b.read(tag: 0x04), let auth = b.read() else { return }
            let dn = ByteText.string(b.contents(name))
            var bind = Bind(messageID: id, dn: dn, kind: .simple, passwordLength: 0)
            if auth.tag == 0x80 {
                bind.passwordLength = auth.contents.count
                out.secrets.append(WireSecret(b.contents(auth)))
                bind.kind = auth.contents.isEmpty ? (dn.isEmpty ? .anonymous : .unauthenticated) : .simple
            } else if auth.tag == 0xA3 {
                var sasl = b.inside(auth)
                let mechanism = sasl.read(tag: 0x04).map { ByteText.string(sasl.contents($0)) } ?? "?"
                if mechanism.uppercased() == "PLAIN", let credentials = sasl.read(tag: 0x04) {
                    // authzid \0 authcid \0 password
                    let parts = sasl.contents(credentials).split(separator: 0, omittingEmptySubsequences: false)
                    bind.kind = .saslPlain
                    if parts.count == 3 {
                        bind.dn = ByteText.string(parts[1])
                        bind.passwordLength = parts[2].count
                        // The SASL PLAIN credentials as sent (user, NUL, password).
                        out.secrets.append(WireSecret(sasl.contents(credentials)))
                    }
                } else {
                    bind.kind = .sasl(mechanism)
                }
            }
            binds.append(bind)
            if binds.count > 32 { binds.removeFirst() }
        } else if op.tag == 0x77 {  // ExtendedRequest
            var e = r.inside(op)
            if let name = e.read(tag: 0x80), Array(e.contents(name)) == Self.startTLS { startTLSRequested = true }
        }
    }

    private func serverMessage(_ message: [UInt8], _ out: inout InspectionOutput) {
        var top = BERReader(message)
        guard let seq = top.read(tag: 0x30) else { return }
        var r = top.inside(seq)
        guard let idElement = r.read(tag: 0x02), let id = r.integer(idElement), let op = r.read() else { return }
        var result = r.inside(op)
        guard let codeElement = result.read(tag: 0x0A), let code = result.integer(codeElement) else { return }
        if op.tag == 0x61, let index = binds.firstIndex(where: { $0.messageID == id }) {
            let bind = binds.remove(at: index)
            report(bind, success: code == 0, &out)
        } else if op.tag == 0x78, startTLSRequested, code == 0 {
            out.finished = true  // TLS from here on
        }
    }

    private func report(_ bind: Bind, success: Bool?, _ out: inout InspectionOutput) {
        switch bind.kind {
        case .simple:
            out.events.append(.login(LoginEvent(proto: "ldap", user: bind.dn, credential: .cleartext(length: bind.passwordLength),
                                                method: "simple bind", success: success)))
        case .saslPlain:
            out.events.append(.login(LoginEvent(proto: "ldap", user: bind.dn, credential: .cleartext(length: bind.passwordLength),
                                                method: "SASL PLAIN", success: success)))
        case .anonymous, .unauthenticated:
            guard success != false else { return }
            let anonymous: Bool = if case .anonymous = bind.kind { true } else { false }
            out.events.append(.anonymousAccess(LoginEvent(
                proto: "ldap", user: anonymous ? nil : bind.dn, credential: .none("empty password"),
                method: anonymous ? "anonymous bind" : "unauthenticated bind", success: success)))
        case .sasl:
            break  // the secret is protected by the mechanism
        }
    }

    func finish(_ out: inout InspectionOutput) {
        for bind in binds { report(bind, success: nil, &out) }
        binds.removeAll()
    }
}
