import Vocabulary

/// Redis (RESP, the Redis serialization protocol): `AUTH password` and
/// Redis 6's `AUTH user password` in clear, matched to their replies (`+OK`,
/// `-WRONGPASS`, `-ERR`), and a server answering without TLS. Commands are
/// arrays of bulk strings; replies come in the order of the commands. The
/// password is only counted.
final class RedisInspector: SimpleStreamInspector {
    static let name = "redis"

    private var client: [UInt8] = []
    private var server: [UInt8] = []
    /// For each command not answered yet, the login it carries (nil: not AUTH).
    private var pending: [LoginEvent?] = []
    private var commands = 0
    private var announced = false
    /// Past this many commands without a pending AUTH, nothing more is read.
    static let commandLimit = 64
    static let bufferLimit = 16_384

    static func recognize(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ hints: FlowHints) -> RedisInspector? {
        guard hints.transport == .tcp, fromClient, bytes.count >= 4 else { return nil }
        // An array of bulk strings: "*3\r\n$4\r\nAUTH...".
        guard bytes[0] == 0x2A, (0x31...0x39).contains(bytes[1]) else { return nil }
        var i = 2
        while i < bytes.count, (0x30...0x39).contains(bytes[i]) { i += 1 }
        return i + 2 < bytes.count && bytes[i] == 0x0D && bytes[i + 1] == 0x0A && bytes[i + 2] == 0x24 ? RedisInspector() : nil
    }

    func consume(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ out: inout InspectionOutput) {
        out.appProtocol = "redis"
        if fromClient {
            client += bytes.prefix(max(0, Self.bufferLimit - client.count))
            while Self.command(&client, received) {}
            if !secrets.isEmpty {
                out.secrets += secrets
                secrets.removeAll()
            }
        } else {
            server += bytes.prefix(max(0, Self.bufferLimit - server.count))
            if !announced && !server.isEmpty {
                announced = true
                out.events.append(.cleartextService(proto: "redis", detail: "Redis without TLS"))
            }
            while !pending.isEmpty, let ok = Self.reply(&server) {
                if let login = pending.removeFirst() {
                    var l = login
                    l.success = ok
                    out.events.append(.login(l))
                }
            }
        }
        if client.count >= Self.bufferLimit || server.count >= Self.bufferLimit
            || commands >= Self.commandLimit && !pending.contains(where: { $0 != nil }) {
            finish(&out)
            out.finished = true
        }
    }

    /// Secrets seen in the bytes being consumed (``InspectionOutput/secrets``).
    private var secrets: [WireSecret] = []

    private func received(_ args: [ArraySlice<UInt8>]) {
        commands += 1
        guard let verb = args.first, ByteText.equalsIgnoringCase(verb, "auth"), args.count == 2 || args.count == 3 else {
            pending.append(nil)
            return
        }
        let user = args.count == 3 ? ByteText.string(args[1]) : "default"
        let password = args[args.count - 1]
        secrets.append(WireSecret(password))
        pending.append(LoginEvent(proto: "redis", user: user, credential: .cleartext(length: password.count),
                                  method: args.count == 3 ? "AUTH user password" : "AUTH password", success: nil))
    }

    /// Hands the first whole command (an array of bulk strings) of `b` to
    /// `body` and takes it off; false until one is complete.
    static func command(_ b: inout [UInt8], _ body: ([ArraySlice<UInt8>]) -> Void) -> Bool {
        var i = 0
        guard let count = number(b, &i, prefix: 0x2A), count >= 0, count <= 1024 else {
            if b.count >= 16 && b.first != 0x2A { b.removeAll() }  // not RESP: nothing to read
            return false
        }
        var args: [ArraySlice<UInt8>] = []
        for _ in 0..<count {
            guard let length = number(b, &i, prefix: 0x24), length >= 0, length <= bufferLimit else { return false }
            guard b.count >= i + length + 2 else { return false }
            args.append(b[i..<(i + length)])
            i += length + 2
        }
        body(args)
        b.removeFirst(i)
        return true
    }

    /// One whole reply taken off the front of `b`: true for success, false for an
    /// error; nil until one is complete.
    static func reply(_ b: inout [UInt8]) -> Bool? {
        var i = 0
        guard let ok = skipReply(b, &i, depth: 0) else { return nil }
        b.removeFirst(i)
        return ok
    }

    private static func skipReply(_ b: [UInt8], _ i: inout Int, depth: Int) -> Bool? {
        guard i < b.count, depth < 4 else { return nil }
        switch b[i] {
        case 0x2B, 0x3A, 0x2D:  // +simple, :integer, -error
            let error = b[i] == 0x2D
            guard let end = lineEnd(b, i) else { return nil }
            i = end
            return !error
        case 0x24:  // $bulk
            guard let length = number(b, &i, prefix: 0x24) else { return nil }
            if length < 0 { return true }
            guard b.count >= i + length + 2 else { return nil }
            i += length + 2
            return true
        case 0x2A:  // *array
            guard let count = number(b, &i, prefix: 0x2A) else { return nil }
            for _ in 0..<max(count, 0) where skipReply(b, &i, depth: depth + 1) == nil { return nil }
            return true
        default:
            return false
        }
    }

    /// The index after the next CRLF from `start`.
    private static func lineEnd(_ b: [UInt8], _ start: Int) -> Int? {
        var i = start
        while i + 1 < b.count {
            if b[i] == 0x0D && b[i + 1] == 0x0A { return i + 2 }
            i += 1
        }
        return nil
    }

    /// `<prefix><decimal>\r\n` at `i` (a leading `-` allowed); moves `i` past it.
    private static func number(_ b: [UInt8], _ i: inout Int, prefix: UInt8) -> Int? {
        guard i < b.count, b[i] == prefix, let end = lineEnd(b, i) else { return nil }
        var value = 0, negative = false, j = i + 1
        if j < end - 2 && b[j] == 0x2D { negative = true; j += 1 }
        guard j < end - 2 else { return nil }
        while j < end - 2 {
            guard (0x30...0x39).contains(b[j]), value < 100_000_000 else { return nil }
            value = value * 10 + Int(b[j] - 0x30)
            j += 1
        }
        i = end
        return negative ? -value : value
    }

    func finish(_ out: inout InspectionOutput) {
        // AUTH commands whose reply was never seen.
        for case let login? in pending { out.events.append(.login(login)) }
        pending.removeAll()
    }
}
