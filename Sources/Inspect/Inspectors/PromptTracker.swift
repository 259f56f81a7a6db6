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
    /// Password lines typed since the last ``takeSecrets()`` (``InspectionOutput/secrets``).
    private var secrets: [WireSecret] = []

    /// The password lines typed since the last call.
    mutating func takeSecrets(into out: inout InspectionOutput) {
        guard !secrets.isEmpty else { return }
        out.secrets += secrets
        secrets.removeAll()
    }
    /// The login prompt of this attempt has been answered.
    private var userAnswered = false
    private var sawLoginPrompt = false
    /// Which line answered which prompt is unknown.
    private(set) var ambiguous = false
    private var verdictText: [UInt8] = []
    private var escape = 0  // inside an ANSI escape sequence

    /// The server's last bytes kept to find prompts, and after a password to find the verdict.
    static let tailBytes = 64, verdictBytes = 512
    /// Lines typed ahead that are kept; more make the login ambiguous.
    static let maximumQueued = 8
    static let failureWords: [StaticString] = ["incorrect", "failed", "invalid", "denied", "not allowed", "bad password", "authentication failure"]
    static let successWords: [StaticString] = ["welcome", "last login", "logged in"]
    static let loginPrompts: [StaticString] = ["login:", "username:", "user name:", "user:"]
    static let passwordPrompts: [StaticString] = ["password:", "passcode:"]

    /// Server text (terminal output, telnet commands already removed); returns
    /// the verdicts on logins it shows.
    mutating func server(_ bytes: UnsafeRawBufferPointer) -> [Verdict] {
        var verdicts: [Verdict] = []
        // Room for the whole tail at once: grown byte by byte it is reallocated eight times per flow.
        if serverTail.capacity == 0 { serverTail.reserveCapacity(2 * Self.tailBytes + 1) }
        for byte in bytes {
            // Skip ANSI escape sequences (ESC [ ... letter) so that prompts are found.
            if escape > 0 {
                if escape == 1 { escape = byte == 0x5B ? 2 : 0; continue }
                if byte >= 0x40 && byte <= 0x7E { escape = 0 }
                continue
            }
            if byte == 0x1B { escape = 1; continue }
            guard byte >= 0x20 || byte == 0x0A else { continue }
            // Both keep their last bytes; trimmed in steps, not per byte (a shift of the
            // whole tail for every byte of terminal output was most of telnet's cost).
            serverTail.append(ByteText.lower(byte))
            if serverTail.count > 2 * Self.tailBytes { serverTail.removeFirst(serverTail.count - Self.tailBytes) }
            if phase == .awaitingVerdict {
                if verdictText.capacity == 0 { verdictText.reserveCapacity(2 * Self.verdictBytes + 1) }
                verdictText.append(ByteText.lower(byte))
                if verdictText.count > 2 * Self.verdictBytes { verdictText.removeFirst(verdictText.count - Self.verdictBytes) }
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
        // On bytes, not Strings: this runs at every colon of terminal output.
        let tail = Self.trimmed(serverTail.suffix(Self.tailBytes))
        // "Last login: Fri Nov 27 ..." (and "Last failed login:") greet a session; they ask for nothing.
        let line = tail[(tail.lastIndex(of: 0x0A).map { $0 + 1 } ?? tail.startIndex)...]
        if Self.loginPrompts.contains(where: { Self.hasSuffix(tail, $0) }) && !Self.contains(line, "last") {
            // A new login prompt after a password: the attempt failed.
            let failed = phase == .awaitingVerdict ? verdict(false) : nil
            startAttempt()
            sawLoginPrompt = true
            phase = .typingUser
            serverTail.removeAll(keepingCapacity: true)
            if !queued.isEmpty { answerUser(queued.removeFirst()) }
            return failed
        }
        if Self.passwordPrompts.contains(where: { Self.hasSuffix(tail, $0) }) {
            guard phase != .done && phase != .awaitingVerdict else { return nil }
            // A lone password prompt with several lines typed ahead: which one is the password?
            if !sawLoginPrompt && queued.count > 1 { ambiguous = true }
            phase = .typingPassword
            serverTail.removeAll(keepingCapacity: true)
            if !queued.isEmpty { answerPassword(queued.removeFirst()) }
        }
        return nil
    }

    private mutating func verdictSeen() -> Verdict? {
        let text = verdictText.suffix(Self.verdictBytes)
        if Self.failureWords.contains(where: { Self.contains(text, $0) }) {
            let v = verdict(false)
            startAttempt()
            phase = .waiting
            return v
        }
        let tail = Self.trimmed(serverTail.suffix(Self.tailBytes))
        if Self.successWords.contains(where: { Self.contains(text, $0) }) || tail.last.map({ Self.shellPromptEnds.contains($0) }) == true {
            phase = .done
            return verdict(true)
        }
        return nil
    }

    /// The last byte of a shell prompt: `$`, `#`, `>`, `%`.
    static let shellPromptEnds: [UInt8] = [0x24, 0x23, 0x3E, 0x25]

    /// Without trailing spaces, tabs and line ends.
    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var end = bytes.endIndex
        while end > bytes.startIndex {
            let b = bytes[end - 1]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { break }
            end -= 1
        }
        return bytes[..<end]
    }

    private static func hasSuffix(_ bytes: ArraySlice<UInt8>, _ suffix: StaticString) -> Bool {
        suffix.withUTF8Buffer { s in bytes.count >= s.count && bytes.suffix(s.count).elementsEqual(s) }
    }

    /// Whether the (lower-cased) bytes contain `word`.
    private static func contains(_ bytes: ArraySlice<UInt8>, _ word: StaticString) -> Bool {
        word.withUTF8Buffer { w in
            guard let first = w.first, bytes.count >= w.count else { return false }
            var i = bytes.startIndex
            while i <= bytes.endIndex - w.count {
                if bytes[i] == first && bytes[i..<(i + w.count)].elementsEqual(w) { return true }
                i += 1
            }
            return false
        }
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
        verdictText.removeAll(keepingCapacity: true)
    }

    private mutating func answerUser(_ line: [UInt8]) {
        if !line.isEmpty { user = ByteText.string(line) }
        userAnswered = true
        // Stay until the password prompt (or a verdict for password-less logins).
    }

    private mutating func answerPassword(_ line: [UInt8]) {
        passwordLength = line.count
        secrets.append(WireSecret(line))
        phase = .awaitingVerdict
        verdictText.removeAll(keepingCapacity: true)
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
                if typed.capacity == 0 { typed.reserveCapacity(64) }
                if typed.count < 256 { typed.append(byte) }
            }
        }
    }

    private var lastWasCR = false

    private mutating func endLine() {
        // A copy of the line, the buffer kept for the next: typed anew byte by byte, it grew in five steps.
        let line = typed.withUnsafeBufferPointer { Array($0) }
        typed.removeAll(keepingCapacity: true)
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
