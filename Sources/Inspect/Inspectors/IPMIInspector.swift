import Vocabulary

/// IPMI over RMCP (UDP 623). IPMI 1.5 sessions name their authentication type
/// in every message: none (0) inside a session is access without
/// authentication, "straight password" (4) sends the password in clear, MD2
/// and MD5 (1, 2) are weak. RMCP+ (IPMI 2.0) sessions that the BMC opens with
/// cipher suite 0 (no authentication, integrity or confidentiality) are
/// anonymous; RAKP message 1 carries the user name in clear, as IPMI 1.5's
/// Get Session Challenge request does before its session opens.
final class IPMIInspector: SimpleStreamInspector {
    static let name = "ipmi"
    static let transports: [IPProtocol] = [.udp]


    private var reported = Set<String>()
    private var user: String?

    static func recognize(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ hints: FlowHints) -> IPMIInspector? {
        guard hints.transport == .udp, hints.serverPort == 623 || hints.clientPort == 623, bytes.count >= 5 else { return nil }
        return bytes[0] == 0x06 && bytes[1] == 0x00 && bytes[3] & 0x1F == 0x07 ? IPMIInspector() : nil
    }

    func consume(_ b: UnsafeRawBufferPointer, fromClient: Bool, _ out: inout InspectionOutput) {
        guard b.count >= 14, b[0] == 0x06, b[3] & 0x1F == 0x07 else { return }
        out.appProtocol = "ipmi"
        let authType = b[4] & 0x0F
        if authType == 0x06 {
            rmcpPlus(b, fromClient: fromClient, &out)
            return
        }
        // IPMI 1.5: auth type, sequence (4), session id (4), [auth code (16)], length, message.
        let sessionID = UInt32(b[9]) | UInt32(b[10]) << 8 | UInt32(b[11]) << 16 | UInt32(b[12]) << 24
        if fromClient, let name = Self.challengeUser(b, authType: authType) { user = name }
        switch authType {
        case 0x00 where sessionID != 0:
            once("none", .anonymousAccess(LoginEvent(proto: "ipmi", user: user, credential: .none("authentication type none"),
                                                     method: "IPMI 1.5 session without authentication", success: true)), &out)
        case 0x04:
            let code = b.count >= 29 ? Array(b[13..<29]) : []
            let length = code.firstIndex(of: 0) ?? code.count
            out.secrets.append(WireSecret(code.prefix(length)))
            once("password", .login(LoginEvent(proto: "ipmi", user: user, credential: .cleartext(length: length),
                                               method: "IPMI 1.5 straight password", success: nil)), &out)
        case 0x01, 0x02:
            once("md", .weakAuthentication(LoginEvent(proto: "ipmi", user: user, credential: .none("keyed hash"),
                                                      method: authType == 1 ? "IPMI 1.5 MD2" : "IPMI 1.5 MD5", success: nil)), &out)
        default:
            break
        }
    }

    private func rmcpPlus(_ b: UnsafeRawBufferPointer, fromClient: Bool, _ out: inout InspectionOutput) {
        // auth type 6, payload type, [OEM IANA 4 + OEM id 2], session id 4, sequence 4, length 2, payload.
        let payloadType = b[5] & 0x3F
        var o = 6
        if payloadType == 0x02 { o += 6 }
        guard b.count >= o + 10 else { return }
        let length = Int(b[o + 8]) | Int(b[o + 9]) << 8
        let start = o + 10
        guard b.count >= start + length else { return }
        let payload = UnsafeRawBufferPointer(rebasing: b[start..<(start + length)])
        switch payloadType {
        case 0x11 where payload.count >= 36:  // Open Session Response
            let status = payload[1]
            let auth = payload[16], integrity = payload[24], confidentiality = payload[32]  // the algorithm byte of each 8-byte payload
            if status == 0 && auth == 0 && integrity == 0 && confidentiality == 0 {
                once("suite0", .anonymousAccess(LoginEvent(proto: "ipmi", user: user, credential: .none("cipher suite 0"),
                                                           method: "RMCP+ cipher suite 0", success: true)), &out)
            }
        case 0x12 where payload.count >= 28:  // RAKP message 1: user name in clear
            let nameLength = Int(payload[27])
            if payload.count >= 28 + nameLength { user = ByteText.string(payload[28..<(28 + nameLength)]) }
        default:
            break
        }
    }

    /// The user name of an IPMI 1.5 Get Session Challenge request (NetFn
    /// Application, command 0x39: the authentication type and 16 bytes of user
    /// name, padded with zeros); nil for other messages and the null user.
    static func challengeUser(_ b: UnsafeRawBufferPointer, authType: UInt8) -> String? {
        let start = authType == 0 ? 14 : 30
        guard b.count > start else { return nil }
        let length = Int(b[start - 1])
        // rsAddr, netFn/rsLUN, checksum, rqAddr, rqSeq/rqLUN, cmd, data (auth type, user 16), checksum.
        guard length >= 24, b.count >= start + 23, b[start + 1] >> 2 == 0x06, b[start + 5] == 0x39 else { return nil }
        let name = UnsafeRawBufferPointer(rebasing: b[(start + 7)..<(start + 23)])
        let end = name.firstIndex(of: 0) ?? name.endIndex
        return end == name.startIndex ? nil : ByteText.string(name[name.startIndex..<end])
    }

    private func once(_ key: String, _ event: AppEvent, _ out: inout InspectionOutput) {
        if reported.insert(key).inserted { out.events.append(event) }
    }
}
