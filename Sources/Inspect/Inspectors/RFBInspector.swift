import Vocabulary

/// RFB / VNC (RFC 6143): the protocol version, the security types the server
/// offers and the one chosen, and the SecurityResult. Type 1 (None) accepted is
/// access without authentication; type 2 (VNC authentication: a DES
/// challenge-response over an unencrypted session) is weak; VeNCrypt's Plain
/// subtype sends user and password in clear; TLS-based types end the inspection.
final class RFBInspector: SimpleStreamInspector {
    static let name = "rfb"

    private enum Stage {
        case serverVersion, clientVersion, securityTypes, clientChoice, challenge, challengeResponse, securityResult
        case vencryptServerVersion, vencryptClientVersion, vencryptAck, vencryptSubtypes, vencryptChoice, plainCredentials
        case initialisation, done
    }

    private var stage = Stage.serverVersion
    private var server: [UInt8] = []
    private var client: [UInt8] = []
    private var minor = 0
    private var versionText = ""
    private var offered: [Int] = []
    private var chosen: Int?
    private var subtype: Int?
    private var plainUser: String?
    private var plainPasswordLength = 0
    private var announced = false

    static func recognize(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ hints: FlowHints) -> RFBInspector? {
        guard hints.transport == .tcp, !fromClient, ByteText.hasPrefix(bytes, "RFB 0") else { return nil }
        return RFBInspector()
    }

    func consume(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ out: inout InspectionOutput) {
        out.appProtocol = "rfb"
        if fromClient { client += bytes } else { server += bytes }
        var progressed = true
        while progressed && stage != .done { progressed = step(&out) }
        if stage == .done { out.finished = true }
    }

    private func take(_ buffer: inout [UInt8], _ n: Int) -> [UInt8]? {
        guard buffer.count >= n else { return nil }
        let head = Array(buffer[..<n])
        buffer.removeFirst(n)
        return head
    }

    private func u32(_ b: [UInt8], _ o: Int = 0) -> Int { Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3]) }

    /// Advances one stage if its bytes are there.
    private func step(_ out: inout InspectionOutput) -> Bool {
        switch stage {
        case .serverVersion:
            guard let v = take(&server, 12) else { return false }
            versionText = ByteText.string(v.prefix(11))
            minor = Int(ByteText.string(v[8..<11])) ?? 0
            stage = .clientVersion
        case .clientVersion:
            // The client answers with the version both will speak (at most the server's).
            guard let v = take(&client, 12) else { return false }
            if let clientMinor = Int(ByteText.string(v[8..<11])), clientMinor < minor { minor = clientMinor }
            if minor == 889 { minor = 8 }  // Apple Remote Desktop: 3.8 negotiation
            stage = .securityTypes
        case .securityTypes:
            if minor == 3 {  // 3.3: the server decides
                guard let t = take(&server, 4) else { return false }
                offered = [u32(t)]
                choose(u32(t), &out)
            } else {
                guard let count = server.first else { return false }
                guard server.count >= 1 + Int(count) else { return false }
                offered = server[1..<(1 + Int(count))].map(Int.init)
                server.removeFirst(1 + Int(count))
                if count == 0 { stage = .done; return true }
                stage = .clientChoice
            }
        case .clientChoice:
            guard let c = take(&client, 1) else { return false }
            choose(Int(c[0]), &out)
        case .challenge:
            guard take(&server, 16) != nil else { return false }
            stage = .challengeResponse
        case .challengeResponse:
            // The DES answer to the challenge lets the password be guessed offline: a secret like the password.
            guard let response = take(&client, 16) else { return false }
            out.secrets.append(WireSecret(response))
            stage = .securityResult
        case .securityResult:
            guard let r = take(&server, 4) else { return false }
            result(success: u32(r) == 0, &out)
        case .vencryptServerVersion:
            guard take(&server, 2) != nil else { return false }
            stage = .vencryptClientVersion
        case .vencryptClientVersion:
            guard take(&client, 2) != nil else { return false }
            stage = .vencryptAck
        case .vencryptAck:
            guard let ack = take(&server, 1) else { return false }
            stage = ack[0] == 0 ? .vencryptSubtypes : .done
        case .vencryptSubtypes:
            guard let count = server.first, server.count >= 1 + 4 * Int(count) else { return false }
            server.removeFirst(1 + 4 * Int(count))
            stage = .vencryptChoice
        case .vencryptChoice:
            guard let c = take(&client, 4) else { return false }
            subtype = u32(c)
            if subtype == 256 {
                stage = .plainCredentials
            } else {
                // 257-262 and the SASL subtypes wrap the session in TLS.
                console(&out)
                stage = .done
            }
        case .plainCredentials:
            guard client.count >= 8 else { return false }
            let userLength = u32(client), passwordLength = u32(client, 4)
            guard userLength < 4096, passwordLength < 4096 else { stage = .done; return true }
            guard client.count >= 8 + userLength + passwordLength else { return false }
            plainUser = ByteText.string(client[8..<(8 + userLength)])
            plainPasswordLength = passwordLength
            out.secrets.append(WireSecret(client[(8 + userLength)..<(8 + userLength + passwordLength)]))
            client.removeFirst(8 + userLength + passwordLength)
            stage = .securityResult
        case .initialisation:
            // RFB 3.3/3.7 send no SecurityResult for None: the ServerInit shows the session began.
            guard server.count >= 24 else { return false }
            result(success: true, &out)
        case .done:
            return false
        }
        return true
    }

    private func choose(_ type: Int, _ out: inout InspectionOutput) {
        chosen = type
        switch type {
        case 1:
            stage = minor >= 8 ? .securityResult : .initialisation
        case 2:
            stage = .challenge
        case 19:
            stage = .vencryptServerVersion
        default:
            // 0 (failure), 16 Tight, 18 TLS, 20 SASL, 30 Apple ...: not followed further.
            console(&out)
            stage = .done
        }
    }

    private var detail: Evidence {
        [("rfb_version", .text(versionText)), ("security_types_offered", .list(offered.map(String.init))),
         ("security_type", .number(chosen ?? -1))]
    }

    private func console(_ out: inout InspectionOutput) {
        guard !announced else { return }
        announced = true
        out.events.append(.console(proto: "rfb", detail: "\(versionText), security type \(chosen.map(String.init) ?? "none chosen")"))
    }

    private func result(success: Bool, _ out: inout InspectionOutput) {
        console(&out)
        switch chosen {
        case 1 where success:
            out.events.append(.anonymousAccess(LoginEvent(proto: "rfb", user: nil, credential: .none("security type None"),
                                                          method: "RFB security type None", success: success, evidence: detail)))
        case 2:
            out.events.append(.weakAuthentication(LoginEvent(proto: "rfb", user: nil, credential: .none("DES challenge-response"),
                                                             method: "VNC authentication without TLS", success: success, evidence: detail)))
        case 19 where subtype == 256:
            out.events.append(.login(LoginEvent(proto: "rfb", user: plainUser, credential: .cleartext(length: plainPasswordLength),
                                                method: "VeNCrypt Plain", success: success, evidence: detail)))
        default:
            break
        }
        stage = .done
    }

    func finish(_ out: inout InspectionOutput) {
        guard stage != .done, chosen != nil else {
            if offered.count > 0 { console(&out) }
            return
        }
        // The handshake stopped before its result (an incomplete session).
        console(&out)
        switch chosen {
        case 2:
            out.events.append(.weakAuthentication(LoginEvent(proto: "rfb", user: nil, credential: .none("DES challenge-response"),
                                                             method: "VNC authentication without TLS", success: nil, evidence: detail)))
        case 19 where subtype == 256 && plainUser != nil:
            out.events.append(.login(LoginEvent(proto: "rfb", user: plainUser, credential: .cleartext(length: plainPasswordLength),
                                                method: "VeNCrypt Plain", success: nil, evidence: detail)))
        default:
            break
        }
        stage = .done
    }
}
