import Vocabulary

/// FTP control connections (RFC 959/4217) and VMware's authd (port 902), which
/// speaks the same USER/PASS dialogue: who logged in, whether the server
/// accepted (230) or refused (530), anonymous logins, and AUTH TLS; and the
/// data connections the session announces (PASV/EPSV replies, PORT/EPRT
/// commands, RFC 959 and 2428), which belong to it.
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
        case 227:  // Entering Passive Mode (h1,h2,h3,h4,p1,p2)
            if let (address, port) = Self.hostPort(line.dropFirst(4)) { out.dataChannels.append(DataChannel(address: address, port: port, toServer: true)) }
        case 229:  // Entering Extended Passive Mode (|||port|)
            if let port = Self.extendedPassivePort(line.dropFirst(4)) { out.dataChannels.append(DataChannel(address: nil, port: port, toServer: true)) }
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
            out.secrets.append(WireSecret(argument))
            awaitingReply = true
        } else if text == Array("port".utf8) {
            if let (address, port) = Self.hostPort(argument[...]) { out.dataChannels.append(DataChannel(address: address, port: port, toServer: false)) }
        } else if text == Array("eprt".utf8) {
            if let (address, port) = Self.extendedAddress(argument[...]) { out.dataChannels.append(DataChannel(address: address, port: port, toServer: false)) }
        }
    }

    /// `h1,h2,h3,h4,p1,p2` (PORT's argument, or inside a 227 reply's text): the first run of six numbers.
    static func hostPort(_ text: ArraySlice<UInt8>) -> (IPAddress, UInt16)? {
        var numbers: [Int] = []
        var current: Int?
        for c in text {
            if c >= 48 && c <= 57 {
                current = (current ?? 0) * 10 + Int(c - 48)
                if current! > 255 { numbers.removeAll(); current = nil }
            } else {
                if let n = current { numbers.append(n) }
                current = nil
                if c != 0x2C { if numbers.count >= 6 { break }; numbers.removeAll() }
            }
            if numbers.count == 6 { break }
        }
        if let n = current, numbers.count == 5 { numbers.append(n) }
        guard numbers.count == 6 else { return nil }
        let address = IPAddress(ipv4: UInt32(numbers[0]) << 24 | UInt32(numbers[1]) << 16 | UInt32(numbers[2]) << 8 | UInt32(numbers[3]))
        let port = UInt16(numbers[4] << 8 | numbers[5])
        return port == 0 ? nil : (address, port)
    }

    /// The port of a 229 reply: `(|||6446|)` (any delimiter, RFC 2428).
    static func extendedPassivePort(_ text: ArraySlice<UInt8>) -> UInt16? {
        guard let open = text.firstIndex(of: 0x28), text.index(open, offsetBy: 4, limitedBy: text.endIndex) != nil else { return nil }
        let d = text[open + 1]
        guard text[open + 2] == d, text[open + 3] == d else { return nil }
        let digits = text[(open + 4)...].prefix { $0 >= 48 && $0 <= 57 }
        guard !digits.isEmpty, digits.count <= 5, let port = UInt16(ByteText.string(digits)), port != 0,
              digits.endIndex < text.endIndex, text[digits.endIndex] == d else { return nil }
        return port
    }

    /// EPRT's argument: `|1|132.235.1.2|6275|` or `|2|1080::8:800:200C:417A|5282|`.
    static func extendedAddress(_ text: ArraySlice<UInt8>) -> (IPAddress, UInt16)? {
        guard let d = text.first else { return nil }
        let fields = text.dropFirst().split(separator: d, omittingEmptySubsequences: false)
        guard fields.count >= 3, let address = IPAddress(ByteText.string(fields[fields.startIndex + 1])),
              let port = UInt16(ByteText.string(fields[fields.startIndex + 2])), port != 0 else { return nil }
        return (address, port)
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
