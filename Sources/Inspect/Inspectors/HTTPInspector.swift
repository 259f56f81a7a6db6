import Vocabulary

/// HTTP/1.x in clear (any port: web UIs, WinRM on 5985, vboxwebsrv on 18083,
/// CIM on 5988, XAPI on 80): `Authorization: Basic` credentials in requests,
/// decoded to the user name, matched to the response's status (401 = refused).
/// A management server answering in clear is reported, except a redirect to HTTPS.
final class HTTPInspector: SimpleStreamInspector {
    static let name = "http"

    private struct Request {
        var user: String?
        var passwordLength: Int
        var basic: Bool
        var winrm: Bool
    }

    private enum Side { case head, body(Int), lost }

    private var clientLine = LineBuffer(limit: 8192)
    private var serverLine = LineBuffer(limit: 8192)
    private var clientSide = Side.head
    private var serverSide = Side.head
    /// Secrets seen in the bytes being consumed (``InspectionOutput/secrets``).
    private var secrets: [WireSecret] = []
    private var current = Request(user: nil, passwordLength: 0, basic: false, winrm: false)
    private var requestLineSeen = false
    private var requestLength = 0
    private var pending: [Request] = []
    private var status: Int?
    private var responseLength = 0
    /// The response's `Location` is an https:// address.
    private var redirectsToTLS = false
    private var servedInClear = false
    private var xenMotionReported = false
    private var pendingEvents: [AppEvent] = []

    static let methods: [StaticString] = ["GET ", "POST ", "PUT ", "HEAD ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE ", "PROPFIND ", "M-POST "]

    static func recognize(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ hints: FlowHints) -> HTTPInspector? {
        guard hints.transport == .tcp else { return nil }
        if fromClient { return startsWithMethod(bytes) ? HTTPInspector() : nil }
        return ByteText.hasPrefix(bytes, "HTTP/1.") ? HTTPInspector() : nil
    }

    /// Whether bytes begin a request line.
    static func startsWithMethod(_ bytes: UnsafeRawBufferPointer) -> Bool {
        // Every method starts with an upper-case letter: most payloads are rejected by one comparison.
        guard let first = bytes.first, first >= 0x41, first <= 0x5A else { return false }
        return methods.contains { ByteText.hasPrefix(bytes, $0) }
    }

    func consume(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ out: inout InspectionOutput) {
        out.appProtocol = "http"
        if fromClient { client(bytes, &out) } else { server(bytes, &out) }
        if !secrets.isEmpty {
            out.secrets += secrets
            secrets.removeAll()
        }
        if !pendingEvents.isEmpty {
            out.events += pendingEvents
            pendingEvents.removeAll()
        }
        // Neither side can be framed any more: report what is pending and stop.
        if case .lost = clientSide, case .lost = serverSide {
            finish(&out)
            out.finished = true
        }
    }

    // MARK: Requests

    private func client(_ bytes: UnsafeRawBufferPointer, _ out: inout InspectionOutput) {
        var rest = bytes
        while !rest.isEmpty {
            switch clientSide {
            case .lost:
                return
            case .body(let remaining):
                let n = min(remaining, rest.count)
                rest = UnsafeRawBufferPointer(rebasing: rest[n...])
                clientSide = remaining - n == 0 ? .head : .body(remaining - n)
            case .head:
                // A message that does not begin with a request line is a body that
                // could not be framed (or no HTTP at all): nothing later on this side
                // can be read reliably, and following it would only cost.
                if !requestLineSeen && clientLine.isEmpty && !Self.mayBeginRequest(rest) {
                    clientSide = .lost
                    return
                }
                // Feed up to the end of one line at a time, so a body that follows is not parsed as text.
                let cut = (rest.firstIndex(of: 0x0A).map { $0 + 1 }) ?? rest.count
                let piece = UnsafeRawBufferPointer(rebasing: rest[..<cut])
                rest = UnsafeRawBufferPointer(rebasing: rest[cut...])
                clientLine.append(piece) { line, _ in requestLine(line) }
                // A head line longer than any server accepts: not HTTP framing any more.
                if clientLine.overflowed { clientSide = .lost }
            }
        }
    }

    /// Whether bytes may begin a request: a method, the start of one in a short
    /// segment, or the empty lines a client may send between requests (RFC 9112, 2.2).
    private static func mayBeginRequest(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if bytes.first == 0x0D || bytes.first == 0x0A || startsWithMethod(bytes) { return true }
        return bytes.count < 9 && methods.contains { m in m.withUTF8Buffer { b in bytes.count < b.count && zip(bytes, b).allSatisfy { $0 == $1 } } }
    }

    private func requestLine(_ line: [UInt8]) {
        if !requestLineSeen {
            guard !line.isEmpty else { return }
            requestLineSeen = true
            // The target: from after the method's space to the next space.
            let start = (line.firstIndex(of: 0x20) ?? line.count - 1) + 1
            let path = line[start...].prefix { $0 != 0x20 }
            current = Request(user: nil, passwordLength: 0, basic: false, winrm: path.starts(with: "/wsman".utf8))
            // XenMotion: xenopsd's memory image and storage motion's NBD-over-HTTP mirror.
            if !xenMotionReported, path.starts(with: "/services/xenops".utf8) || path.starts(with: "/services/SM".utf8) {
                xenMotionReported = true
                pendingEvents.append(.migration(InfrastructureEvent(
                    proto: "http", product: "xenserver", detail: "XenMotion over HTTP (\(path.starts(with: "/services/SM".utf8) ? "storage motion" : "xenopsd"))",
                    evidence: [("signature", .text(ByteText.string(path.prefix { $0 != 0x3F })))])))
            }
            requestLength = 0
            return
        }
        if line.isEmpty {
            pending.append(current)
            if pending.count > 64 { pending.removeFirst() }
            requestLineSeen = false
            clientSide = requestLength > 0 ? .body(requestLength) : .head
            return
        }
        guard let colon = line.firstIndex(of: 0x3A) else { return }
        let name = line[..<colon]
        var value = line[(colon + 1)...].drop { $0 == 0x20 || $0 == 0x09 }
        if ByteText.equalsIgnoringCase(name, "authorization") {
            let scheme = value.prefix { $0 != 0x20 && $0 != 0x09 }
            guard ByteText.equalsIgnoringCase(scheme, "basic") else { return }
            value = value.dropFirst(scheme.count).drop { $0 == 0x20 || $0 == 0x09 }
            let token = value.prefix { $0 != 0x20 && $0 != 0x09 }
            // The token is what crossed the wire (the evidence recorder masks it).
            secrets.append(WireSecret(token))
            guard let decoded = Base64.decode(token) else { return }
            let split = decoded.firstIndex(of: 0x3A) ?? decoded.count
            current.basic = true
            current.user = ByteText.string(decoded[..<split])
            current.passwordLength = max(decoded.count - split - 1, 0)
        } else if ByteText.equalsIgnoringCase(name, "content-length") {
            requestLength = Int(ByteText.string(value).trimmingTrailingSpaces()) ?? 0
        } else if ByteText.equalsIgnoringCase(name, "transfer-encoding") {
            requestLength = 0
            clientSide = .lost  // chunked bodies: later requests cannot be framed reliably
            pending.append(current)
        }
    }

    // MARK: Responses

    private func server(_ bytes: UnsafeRawBufferPointer, _ out: inout InspectionOutput) {
        var rest = bytes
        while !rest.isEmpty {
            switch serverSide {
            case .lost:
                return
            case .body(let remaining):
                let n = min(remaining, rest.count)
                rest = UnsafeRawBufferPointer(rebasing: rest[n...])
                serverSide = remaining - n == 0 ? .head : .body(remaining - n)
            case .head:
                // A response must begin with its status line; anything else is a body
                // that could not be framed, and this side is followed no further.
                if status == nil && serverLine.isEmpty && !ByteText.hasPrefix(rest, "HTTP/1.") && !Self.couldBeginStatus(rest) {
                    serverSide = .lost
                    return
                }
                let cut = (rest.firstIndex(of: 0x0A).map { $0 + 1 }) ?? rest.count
                let piece = UnsafeRawBufferPointer(rebasing: rest[..<cut])
                rest = UnsafeRawBufferPointer(rebasing: rest[cut...])
                serverLine.append(piece) { line, _ in responseLine(line, &out) }
                if serverLine.overflowed { serverSide = .lost }
            }
        }
    }

    /// Whether a segment shorter than "HTTP/1." could still be its start.
    private static func couldBeginStatus(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count < 7 && zip(bytes, "HTTP/1.".utf8).allSatisfy { $0 == $1 }
    }

    private func responseLine(_ line: [UInt8], _ out: inout InspectionOutput) {
        if status == nil {
            guard ByteText.hasPrefixArray(line, "HTTP/1."), line.count >= 12 else { return }
            status = Int(ByteText.string(line[9..<12]))
            responseLength = -1
            redirectsToTLS = false
            return
        }
        if line.isEmpty {
            let code = status ?? 0
            if code >= 200 || code < 100 { finishResponse(code, &out) }
            status = nil
            serverSide = responseLength > 0 ? .body(responseLength) : (responseLength == 0 ? .head : .lost)
            if code < 200 && code >= 100 { serverSide = .head }
            return
        }
        guard let colon = line.firstIndex(of: 0x3A) else { return }
        let name = line[..<colon]
        let value = line[(colon + 1)...].drop { $0 == 0x20 || $0 == 0x09 }
        if ByteText.equalsIgnoringCase(name, "content-length") {
            responseLength = Int(ByteText.string(value).trimmingTrailingSpaces()) ?? -1
        } else if ByteText.equalsIgnoringCase(name, "location") {
            redirectsToTLS = ByteText.hasPrefixIgnoringCase(value, "https://")
        }
    }

    private func finishResponse(_ code: Int, _ out: inout InspectionOutput) {
        let request = pending.isEmpty ? nil : pending.removeFirst()
        let redirectToTLS = (300...399).contains(code) && redirectsToTLS
        if !servedInClear && !redirectToTLS {
            servedInClear = true
            out.events.append(.cleartextService(proto: "http", detail: request?.winrm == true ? "WinRM over HTTP" : "HTTP"))
        }
        guard let request, request.basic else { return }
        out.events.append(.login(LoginEvent(
            proto: "http", user: request.user, credential: .cleartext(length: request.passwordLength),
            method: request.winrm ? "WinRM Basic over HTTP" : "HTTP Basic", success: code == 401 || code == 403 ? false : code < 400,
            evidence: [("http_status", .number(code))])))
    }

    func finish(_ out: inout InspectionOutput) {
        // Requests with credentials that never got a response.
        for request in pending where request.basic {
            out.events.append(.login(LoginEvent(proto: "http", user: request.user, credential: .cleartext(length: request.passwordLength),
                                                method: request.winrm ? "WinRM Basic over HTTP" : "HTTP Basic", success: nil)))
        }
        pending.removeAll()
    }
}

extension ByteText {
    static func hasPrefixArray(_ bytes: [UInt8], _ prefix: String) -> Bool {
        bytes.starts(with: prefix.utf8)
    }
}
