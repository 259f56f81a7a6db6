import Vocabulary

/// Follows an interactive login typed at a terminal (telnet, rlogin): the
/// server's "login:" and "password:" prompts, the user's typed answers (with
/// backspace editing), and the server's verdict. The password is only counted.
struct PromptTracker {
    enum Phase {
        case waiting, typingUser, typingPassword, awaitingVerdict, done
    }

    private(set) var phase = Phase.waiting
    private var typed: [UInt8] = []
    private var serverTail: [UInt8] = []
    private(set) var user: String?
    private(set) var passwordLength: Int?
    private var verdictText: [UInt8] = []
    private var escape = 0  // inside an ANSI escape sequence

    static let failureWords = ["incorrect", "failed", "invalid", "denied", "not allowed", "bad password", "authentication failure"]
    static let successWords = ["welcome", "last login", "logged in"]

    /// What a verdict reports: success, the user, the typed password's length.
    typealias Verdict = (success: Bool?, user: String?, passwordLength: Int?)

    /// Server text (terminal output, telnet commands already removed); returns
    /// the verdicts on logins it shows.
    mutating func server(_ bytes: UnsafeRawBufferPointer) -> [Verdict] {
        scan(bytes)
        return checkPrompts()
    }

    private mutating func scan(_ bytes: UnsafeRawBufferPointer) {
        for byte in bytes {
            // Skip ANSI escape sequences (ESC [ ... letter) so that prompts are found.
            if escape > 0 {
                if escape == 1 { escape = byte == 0x5B ? 2 : 0; continue }
                if (byte >= 0x40 && byte <= 0x7E) { escape = 0 }
                continue
            }
            if byte == 0x1B { escape = 1; continue }
            guard byte >= 0x20 || byte == 0x0A else { continue }
            serverTail.append(ByteText.lower(byte))
            if serverTail.count > 64 { serverTail.removeFirst(serverTail.count - 64) }
            if phase == .awaitingVerdict {
                verdictText.append(ByteText.lower(byte))
                if verdictText.count > 512 { verdictText.removeFirst(verdictText.count - 512) }
            }
        }
    }

    private mutating func checkPrompts() -> [Verdict] {
        let tail = ByteText.string(serverTail).trimmingTrailingSpaces()
        if phase == .awaitingVerdict {
            let text = ByteText.string(verdictText)
            if Self.failureWords.contains(where: text.contains) || tail.hasSuffix("login:") || tail.hasSuffix("username:") {
                let verdict: Verdict = (false, user, passwordLength)
                reset(keepPrompt: true, tail)
                return [verdict]
            }
            if Self.successWords.contains(where: text.contains) || tail.hasSuffix("$") || tail.hasSuffix("#") || tail.hasSuffix(">") || tail.hasSuffix("%") {
                phase = .done
                return [(true, user, passwordLength)]
            }
            return []
        }
        guard phase != .done else { return [] }
        if tail.hasSuffix("login:") || tail.hasSuffix("username:") || tail.hasSuffix("user name:") || tail.hasSuffix("user:") {
            phase = .typingUser
            typed.removeAll()
            serverTail.removeAll()
        } else if tail.hasSuffix("password:") || tail.hasSuffix("passcode:") {
            if phase == .typingUser && !typed.isEmpty { user = ByteText.string(typed) }
            phase = .typingPassword
            typed.removeAll()
            serverTail.removeAll()
        }
        return []
    }

    private mutating func reset(keepPrompt: Bool, _ tail: String) {
        phase = .waiting
        verdictText.removeAll()
        user = nil
        passwordLength = nil
        typed.removeAll()
        if keepPrompt && (tail.hasSuffix("login:") || tail.hasSuffix("username:")) {
            phase = .typingUser
            serverTail.removeAll()
        }
    }

    /// What the user typed (telnet commands already removed).
    mutating func client(_ bytes: UnsafeRawBufferPointer) {
        guard phase == .typingUser || phase == .typingPassword else { return }
        for byte in bytes {
            switch byte {
            case 0x0D, 0x0A:
                endLine()
            case 0x08, 0x7F:
                if !typed.isEmpty { typed.removeLast() }
            case 0x00:
                continue
            default:
                if typed.count < 256 { typed.append(byte) }
            }
            if phase != .typingUser && phase != .typingPassword { return }
        }
    }

    private mutating func endLine() {
        if phase == .typingUser {
            if !typed.isEmpty { user = ByteText.string(typed) }
            typed.removeAll()
            // Stay until the password prompt (or a verdict for password-less logins).
        } else if phase == .typingPassword {
            passwordLength = typed.count
            typed.removeAll()
            phase = .awaitingVerdict
            verdictText.removeAll()
        }
    }

    /// A password was typed and no verdict seen yet.
    var pending: Bool { phase == .awaitingVerdict }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while let last = s.last, last == " " || last == "\n" || last == "\r" || last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
