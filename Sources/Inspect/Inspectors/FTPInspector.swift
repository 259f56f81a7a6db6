import Vocabulary

/// FTP control connections (RFC 959/4217) and VMware's authd (port 902), which
/// speaks the same USER/PASS dialogue: who logged in, whether the server
/// accepted (230) or refused (530), anonymous logins, and AUTH TLS.
final class FTPInspector: SimpleStreamInspector {
    static let name = "ftp"
    static let appProtocols = ["ftp", "vmauthd"]

    private var client = LineBuffer(limit: 512)
    private var server = LineBuffer(limit: 2048)
    private var proto = "ftp"
    private var user: String?
    private var passwordLength: Int?
    private var awaitingReply = false
    private var announced = false

    static let anonymousUsers: Set<String> = ["anonymous", "ftp"]

    /// A server banner `220` (FTP or authd).
    static func recognize(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ hints: FlowHints) -> FTPInspector? {
        guard hints.transport == .tcp, !fromClient else { return nil }
        guard ByteText.hasPrefix(bytes, "220 ") || ByteText.hasPrefix(bytes, "220-") else { return nil }
        return FTPInspector()
    }

    func consume(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ out: inout InspectionOutput) {
        if fromClient {
            client.append(bytes) { line, _ in clientLine(line, &out) }
        } else {
            server.append(bytes) { line, _ in serverLine(line, &out) }
        }
    }

    private func serverLine(_ line: [UInt8], _ out: inout InspectionOutput) {
        guard line.count >= 3, line[0...2].allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return }
        let code = Int(ByteText.string(line[0...2]))!
        let final = line.count == 3 || line[3] == 0x20
        if !announced {
            announced = true
            if ByteText.contains(line, "VMware Authentication Daemon") {
                proto = "vmauthd"
                // The client starts TLS right after this banner.
                if ByteText.contains(line, "SSL Required") {
                    out.appProtocol = proto
                    out.finished = true
                    return
                }
            }
            out.appProtocol = proto
        }
        guard final else { return }
        switch code {
        case 234:  // AUTH TLS accepted: the rest is encrypted
            out.finished = true
        case 230:
            report(success: true, &out)
        case 530, 430, 421:
            report(success: false, &out)
        case 331, 332:
            break  // password wanted
        default:
            if awaitingReply && code >= 500 { report(success: false, &out) }
        }
    }

    private var servedInClear = false

    private func clientLine(_ line: [UInt8], _ out: inout InspectionOutput) {
        let text = line.prefix(4).map(ByteText.lower)
        let argument = line.count > 5 ? Array(line[5...]) : []
        if text == Array("user".utf8) {
            // A login in clear shows the server takes one: explicit TLS (AUTH TLS) alone is no finding.
            if !servedInClear {
                servedInClear = true
                out.events.append(.cleartextService(proto: proto, detail: "\(proto == "ftp" ? "FTP" : "VMware authd without SSL") logins"))
            }
            if awaitingReply { report(success: nil, &out) }
            user = ByteText.string(argument)
            passwordLength = nil
            awaitingReply = true
        } else if text == Array("pass".utf8) {
            passwordLength = argument.count
            awaitingReply = true
        }
    }

    private func report(success: Bool?, _ out: inout InspectionOutput) {
        guard awaitingReply, let user else { return }
        awaitingReply = false
        let anonymous = Self.anonymousUsers.contains(user.lowercased())
        let credential: Credential = passwordLength.map { .cleartext(length: $0) } ?? .none("no password asked")
        let login = LoginEvent(proto: proto, user: user, credential: credential, method: "USER/PASS", success: success)
        if anonymous {
            // An anonymous login the server refused exposes nothing worth an alert.
            if success == true { out.events.append(.anonymousAccess(login)) }
        } else {
            out.events.append(.login(login))
        }
        self.passwordLength = nil
    }

    func finish(_ out: inout InspectionOutput) {
        if passwordLength != nil { report(success: nil, &out) }
    }
}
