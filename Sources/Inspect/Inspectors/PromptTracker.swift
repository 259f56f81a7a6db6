import Vocabulary

/// Follows an interactive login typed at a terminal (telnet, rlogin): the
/// server's "login:" and "password:" prompts, the lines the user typed (with
/// backspace editing), and the server's verdict. The password is only counted.
///
/// Lines are matched to prompts in order, whatever order the segments arrive
/// in: a client that types ahead (`root⏎secret⏎` before the prompt arrives:
/// scripts, `nc`, a slow link) keeps its lines queued until a prompt takes
/// them, so the user is the line that answered the login prompt and the
/// password the line that answered the password prompt. When that cannot be
/// told (more lines typed ahead than kept, two lines before a lone password
/// prompt), neither is reported.
struct PromptTracker {
    enum Phase {
        case waiting, typingUser, typingPassword, awaitingVerdict, done
    }

    /// What a verdict reports: success, the user, the typed password's length,
    /// and whether the lines could not be told apart (then neither is given).
    struct Verdict {
        var success: Bool?
        var user: String?
        var passwordLength: Int?
        var ambiguous = false
    }

    private(set) var phase = Phase.waiting
    /// Lines the client finished that no prompt has taken yet, oldest first.
    private var queued: [[UInt8]] = []
    private var typed: [UInt8] = []
    private var serverTail: [UInt8] = []
    private(set) var user: String?
    private(set) var passwordLength: Int?
    /// The login prompt of this attempt has been answered.
    private var userAnswered = false
    private var sawLoginPrompt = false
    /// Which line answered which prompt is unknown.
    private(set) var ambiguous = false
    private var verdictText: [UInt8] = []
    private var escape = 0  // inside an ANSI escape sequence

    /// Lines typed ahead that are kept; more make the login ambiguous.
    static let maximumQueued = 8
    static let failureWords = ["incorrect", "failed", "invalid", "denied", "not allowed", "bad password", "authentication failure"]
    static let successWords = ["welcome", "last login", "logged in"]
    static let loginPrompts = ["login:", "username:", "user name:", "user:"]
    static let passwordPrompts = ["password:", "passcode:"]

    /// Server text (terminal output, telnet commands already removed); returns
    /// the verdicts on logins it shows.
    mutating func server(_ bytes: UnsafeRawBufferPointer) -> [Verdict] {
        var verdicts: [Verdict] = []
        for byte in bytes {
            // Skip ANSI escape sequences (ESC [ ... letter) so that prompts are found.
            if escape > 0 {
                if escape == 1 { escape = byte == 0x5B ? 2 : 0; continue }
                if byte >= 0x40 && byte <= 0x7E { escape = 0 }
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
            // Prompts end with a colon: judged there, so that two prompts in one segment are both seen.
            if byte == 0x3A {
                // A verdict first ("Last login: ..." is a success, not a prompt).
                if phase == .awaitingVerdict, let v = verdictSeen() { verdicts.append(v) }
                if let v = promptSeen() { verdicts.append(v) }
            }
        }
        if phase == .awaitingVerdict, let v = verdictSeen() { verdicts.append(v) }
        return verdicts
    }

    private mutating func promptSeen() -> Verdict? {
        let tail = ByteText.string(serverTail).trimmingTrailingSpaces()
        // "Last login: Fri Nov 27 ..." (and "Last failed login:") greet a session; they ask for nothing.
        let line = tail.split(separator: "\n", omittingEmptySubsequences: false).last ?? ""
        if Self.loginPrompts.contains(where: tail.hasSuffix) && !line.contains("last") {
            // A new login prompt after a password: the attempt failed.
            let failed = phase == .awaitingVerdict ? verdict(false) : nil
            startAttempt()
            sawLoginPrompt = true
            phase = .typingUser
            serverTail.removeAll()
            if !queued.isEmpty { answerUser(queued.removeFirst()) }
            return failed
        }
        if Self.passwordPrompts.contains(where: tail.hasSuffix) {
            guard phase != .done && phase != .awaitingVerdict else { return nil }
            // A lone password prompt with several lines typed ahead: which one is the password?
            if !sawLoginPrompt && queued.count > 1 { ambiguous = true }
            phase = .typingPassword
            serverTail.removeAll()
            if !queued.isEmpty { answerPassword(queued.removeFirst()) }
        }
        return nil
    }

    private mutating func verdictSeen() -> Verdict? {
        let text = ByteText.string(verdictText)
        if Self.failureWords.contains(where: text.contains) {
            let v = verdict(false)
            startAttempt()
            phase = .waiting
            return v
        }
        let tail = ByteText.string(serverTail).trimmingTrailingSpaces()
        if Self.successWords.contains(where: text.contains) || tail.hasSuffix("$") || tail.hasSuffix("#") || tail.hasSuffix(">") || tail.hasSuffix("%") {
            phase = .done
            return verdict(true)
        }
        return nil
    }

    private func verdict(_ success: Bool) -> Verdict {
        ambiguous ? Verdict(success: success, user: nil, passwordLength: nil, ambiguous: true)
                  : Verdict(success: success, user: user, passwordLength: passwordLength)
    }

    /// Forgets the last attempt's answers (a failed login, a new prompt).
    private mutating func startAttempt() {
        user = nil
        passwordLength = nil
        userAnswered = false
        verdictText.removeAll()
    }

    private mutating func answerUser(_ line: [UInt8]) {
        if !line.isEmpty { user = ByteText.string(line) }
        userAnswered = true
        // Stay until the password prompt (or a verdict for password-less logins).
    }

    private mutating func answerPassword(_ line: [UInt8]) {
        passwordLength = line.count
        phase = .awaitingVerdict
        verdictText.removeAll()
    }

    /// What the user typed (telnet commands already removed).
    mutating func client(_ bytes: UnsafeRawBufferPointer) {
        guard phase != .done else { return }
        for byte in bytes {
            switch byte {
            case 0x0D, 0x0A:
                // CR LF and CR NUL end one line, not two.
                if byte == 0x0A && lastWasCR { lastWasCR = false; continue }
                lastWasCR = byte == 0x0D
                endLine()
            case 0x08, 0x7F:
                lastWasCR = false
                if !typed.isEmpty { typed.removeLast() }
            case 0x00:
                continue
            default:
                lastWasCR = false
                if typed.count < 256 { typed.append(byte) }
            }
        }
    }

    private var lastWasCR = false

    private mutating func endLine() {
        let line = typed
        typed.removeAll()
        if phase == .typingUser && !userAnswered {
            answerUser(line)
        } else if phase == .typingPassword {
            answerPassword(line)
        } else if queued.count < Self.maximumQueued {
            queued.append(line)
        } else {
            ambiguous = true
        }
    }

    /// A password was typed and no verdict seen yet.
    var pending: Bool { phase == .awaitingVerdict }

    /// The login still waiting for a verdict, as a verdict with no outcome.
    var pendingVerdict: Verdict { verdict(false).with(success: nil) }
}

extension PromptTracker.Verdict {
    func with(success: Bool?) -> Self {
        var v = self
        v.success = success
        return v
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while let last = s.last, last == " " || last == "\n" || last == "\r" || last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
