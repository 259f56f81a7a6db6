import Vocabulary

/// Telnet (RFC 854): option negotiation (IAC WILL/WONT/DO/DONT, subnegotiation)
/// is skipped; the login and password prompts and what the user typed at them
/// are followed by a ``PromptTracker``.
final class TelnetInspector: SimpleStreamInspector {
    static let name = "telnet"

    /// IAC parser state per direction.
    private struct IACState {
        var state = 0  // 0 data, 1 after IAC, 2 option byte, 3 in SB, 4 IAC in SB
    }

    private var clientIAC = IACState()
    private var serverIAC = IACState()
    private var prompts = PromptTracker()
    private var text: [UInt8] = []
    private var announced = false

    static let iac: UInt8 = 0xFF

    /// IAC negotiation from either side, or text on port 23.
    static func recognize(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ hints: FlowHints) -> TelnetInspector? {
        guard hints.transport == .tcp, let first = bytes.first else { return nil }
        if first == iac, bytes.count >= 2, (0xFA...0xFE).contains(bytes[1]) { return TelnetInspector() }
        // Text on the telnet port: the server's banner, or a client typing ahead of it.
        if hints.serverPort == 23 { return TelnetInspector() }
        return nil
    }

    func consume(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ out: inout InspectionOutput) {
        if !announced {
            announced = true
            out.appProtocol = "telnet"
            out.events.append(.cleartextService(proto: "telnet", detail: "Telnet session"))
        }
        text.removeAll(keepingCapacity: true)
        text.reserveCapacity(max(bytes.count, 256))
        if fromClient { Self.strip(bytes, &clientIAC, into: &text) } else { Self.strip(bytes, &serverIAC, into: &text) }
        var verdicts: [PromptTracker.Verdict] = []
        text.withUnsafeBytes { data in
            if fromClient { prompts.client(data) } else { verdicts = prompts.server(data) }
        }
        prompts.takeSecrets(into: &out)
        for v in verdicts { emit(v, &out) }
        if prompts.phase == .done { out.finished = true }
    }

    private func emit(_ v: PromptTracker.Verdict, _ out: inout InspectionOutput) {
        let credential: Credential = v.ambiguous ? .cleartextUnattributed : v.passwordLength.map { .cleartext(length: $0) } ?? .none("no password typed")
        out.events.append(.login(LoginEvent(proto: "telnet", user: v.user, credential: credential, method: "login prompt", success: v.success)))
    }

    func finish(_ out: inout InspectionOutput) {
        // A login typed ahead with nothing after it: reported with its outcome unseen.
        if prompts.pending { emit(prompts.pendingVerdict, &out) }
    }

    /// Removes telnet commands, keeping data bytes (IAC IAC is a data 0xFF).
    private static func strip(_ bytes: UnsafeRawBufferPointer, _ s: inout IACState, into out: inout [UInt8]) {
        for b in bytes {
            switch s.state {
            case 0:
                if b == iac { s.state = 1 } else { out.append(b) }
            case 1:
                switch b {
                case iac: out.append(b); s.state = 0
                case 0xFA: s.state = 3                // SB
                case 0xFB...0xFE: s.state = 2         // WILL, WONT, DO, DONT + option
                default: s.state = 0                  // two-byte command
                }
            case 2:
                s.state = 0
            case 3:
                if b == iac { s.state = 4 }
            default:
                s.state = b == 0xF0 ? 0 : 3           // IAC SE ends the subnegotiation
            }
        }
    }
}
