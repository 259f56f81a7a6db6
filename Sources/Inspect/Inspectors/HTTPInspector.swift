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
    private var current = Request(user: nil, passwordLength: 0, basic: false, winrm: false)
    private var requestLineSeen = false
    private var requestLength = 0
    private var pending: [Request] = []
    private var status: Int?
    private var responseLength = 0
    private var location: [UInt8] = []
    private var servedInClear = false
    private var xenMotionReported = false
    private var pendingEvents: [AppEvent] = []

    static let methods: [StaticString] = ["GET ", "POST ", "PUT ", "HEAD ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE ", "PROPFIND ", "M-POST "]

    static func recognize(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ hints: FlowHints) -> HTTPInspector? {
        guard hints.transport == .tcp else { return nil }
        if fromClient {
            // Every method starts with an upper-case letter: most payloads are rejected by one comparison.
            guard let first = bytes.first, first >= 0x41, first <= 0x5A else { return nil }
            return methods.contains { ByteText.hasPrefix(bytes, $0) } ? HTTPInspector() : nil
        }
        return ByteText.hasPrefix(bytes, "HTTP/1.") ? HTTPInspector() : nil
    }

    func consume(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ out: inout InspectionOutput) {
        out.appProtocol = "http"
        if fromClient { client(bytes, &out) } else { server(bytes, &out) }
        if !pendingEvents.isEmpty {
            out.events += pendingEvents
            pendingEvents.removeAll()
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
                // Feed up to the end of one line at a time, so a body that follows is not parsed as text.
                let cut = (rest.firstIndex(of: 0x0A).map { $0 + 1 }) ?? rest.count
                let piece = UnsafeRawBufferPointer(rebasing: rest[..<cut])
                rest = UnsafeRawBufferPointer(rebasing: rest[cut...])
                clientLine.append(piece) { line, _ in requestLine(line) }
            }
        }
    }

    private func requestLine(_ line: [UInt8]) {
        if !requestLineSeen {
            guard !line.isEmpty else { return }
            requestLineSeen = true
            let path = Array(line.split(separator: 0x20).dropFirst().first ?? [])
            current = Request(user: nil, passwordLength: 0, basic: false, winrm: ByteText.hasPrefixArray(path, "/wsman"))
            // XenMotion: xenopsd's memory image and storage motion's NBD-over-HTTP mirror.
            if !xenMotionReported, ByteText.hasPrefixArray(path, "/services/xenops") || ByteText.hasPrefixArray(path, "/services/SM") {
                xenMotionReported = true
                pendingEvents.append(.migration(InfrastructureEvent(
                    proto: "http", product: "xenserver", detail: "XenMotion over HTTP (\(ByteText.hasPrefixArray(path, "/services/SM") ? "storage motion" : "xenopsd"))",
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
        let name = line[..<colon].map(ByteText.lower)
        var value = line[(colon + 1)...].drop { $0 == 0x20 || $0 == 0x09 }
        if name == Array("authorization".utf8) {
            let scheme = value.prefix { $0 != 0x20 && $0 != 0x09 }.map(ByteText.lower)
            guard scheme == Array("basic".utf8) else { return }
            value = value.dropFirst(scheme.count).drop { $0 == 0x20 || $0 == 0x09 }
            let token = value.prefix { $0 != 0x20 && $0 != 0x09 }
            guard let decoded = Base64.decode(token) else { return }
            let split = decoded.firstIndex(of: 0x3A) ?? decoded.count
            current.basic = true
            current.user = ByteText.string(decoded[..<split])
            current.passwordLength = max(decoded.count - split - 1, 0)
        } else if name == Array("content-length".utf8) {
            requestLength = Int(ByteText.string(value).trimmingTrailingSpaces()) ?? 0
        } else if name == Array("transfer-encoding".utf8) {
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
                let cut = (rest.firstIndex(of: 0x0A).map { $0 + 1 }) ?? rest.count
                let piece = UnsafeRawBufferPointer(rebasing: rest[..<cut])
                rest = UnsafeRawBufferPointer(rebasing: rest[cut...])
                serverLine.append(piece) { line, _ in responseLine(line, &out) }
            }
        }
    }

    private func responseLine(_ line: [UInt8], _ out: inout InspectionOutput) {
        if status == nil {
            guard ByteText.hasPrefixArray(line, "HTTP/1."), line.count >= 12 else { return }
            status = Int(ByteText.string(line[9..<12]))
            responseLength = -1
            location = []
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
        let name = line[..<colon].map(ByteText.lower)
        let value = Array(line[(colon + 1)...].drop { $0 == 0x20 || $0 == 0x09 })
        if name == Array("content-length".utf8) {
            responseLength = Int(ByteText.string(value).trimmingTrailingSpaces()) ?? -1
        } else if name == Array("location".utf8) {
            location = value
        }
    }

    private func finishResponse(_ code: Int, _ out: inout InspectionOutput) {
        let request = pending.isEmpty ? nil : pending.removeFirst()
        let redirectToTLS = (300...399).contains(code) && ByteText.hasPrefixArray(location.map(ByteText.lower), "https://")
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
