import Vocabulary

/// rlogin (RFC 1282, TCP 513): the client sends `\0client-user\0server-user\0terminal\0`;
/// the server answers `\0`, then may prompt for a password, which is typed in clear.
final class RloginInspector: SimpleStreamInspector {
    static let name = "rlogin"

    private var fields: [[UInt8]] = [[]]
    private var handshakeDone = false
    private var accepted: Bool?
    private var prompts = PromptTracker()
    private var reported = false

    static func recognize(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ hints: FlowHints) -> RloginInspector? {
        guard hints.transport == .tcp, hints.serverPort == 513, fromClient, bytes.first == 0 else { return nil }
        return RloginInspector()
    }

    func consume(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ out: inout InspectionOutput) {
        out.appProtocol = "rlogin"
        if fromClient {
            if !handshakeDone {
                for b in bytes where !handshakeDone {
                    if b == 0 {
                        if fields.count == 4 { handshakeDone = true } else { fields.append([]) }
                    } else if fields[fields.count - 1].count < 256 {
                        fields[fields.count - 1].append(b)
                    }
                }
            } else {
                prompts.client(bytes)
                prompts.takeSecrets(into: &out)
            }
        } else {
            if accepted == nil, let first = bytes.first {
                accepted = first == 0
                if first != 0 { report(success: false, &out) }
            }
            for verdict in prompts.server(bytes) { report(success: verdict.success, passwordLength: verdict.passwordLength, ambiguous: verdict.ambiguous, &out) }
            // Without a password prompt, trust (.rhosts) logged the user in.
            if accepted == true && prompts.phase == .waiting && bytes.count > 1 && !reported { report(success: true, &out) }
        }
    }

    private var serverUser: String? { fields.count >= 3 ? ByteText.string(fields[2]) : nil }

    private func report(success: Bool?, passwordLength: Int? = nil, ambiguous: Bool = false, _ out: inout InspectionOutput) {
        guard !reported else { return }
        reported = true
        let typed: Credential? = ambiguous ? .cleartextUnattributed : (passwordLength ?? prompts.passwordLength).map { .cleartext(length: $0) }
        out.events.append(.login(LoginEvent(
            proto: "rlogin", user: serverUser,
            credential: typed ?? .none("host trust (.rhosts)"),
            method: "rlogin", success: success,
            evidence: fields.count >= 2 ? [("client_user", .text(ByteText.string(fields[1])))] : [])))
        out.finished = true
    }

    func finish(_ out: inout InspectionOutput) {
        if handshakeDone && !reported { report(success: accepted == true ? nil : accepted, &out) }
    }
}
