import CRelp
#if canImport(Glibc)
import Glibc
#endif

/// RELP, rsyslog's reliable event logging protocol, through librelp: every
/// message is acknowledged by the collector's application, and what was not
/// acknowledged when a session broke is sent again when it is re-established
/// (librelp keeps those frames). A collector restart therefore loses nothing;
/// it may see a message twice. For `relp+tls://` librelp runs the session in
/// TLS, in its "name" mode: the collector's certificate must chain to the CA
/// file and carry the peer name, or the session is refused before any frame.
public final class RELPTransport: MessageTransport {
    public let name: String
    private let host: String
    private let port: UInt16
    private var engine: OpaquePointer?
    private var client: OpaquePointer?
    /// Whether a session was ever opened (librelp re-establishes after that, and
    /// resends what is unacknowledged; before it, it connects afresh).
    private var everConnected = false
    private var connected = false
    /// The last error librelp reported through its callback.
    fileprivate var lastError: String?
    /// Messages accepted by librelp since the session last broke: at most a
    /// window of them can be unacknowledged (librelp resends those itself).
    private var sinceBreak = 0
    /// TLS sessions refused because the collector's certificate failed librelp's check.
    public private(set) var refusedSessions = 0
    /// Set by librelp's authentication callback during a connection attempt.
    fileprivate var authError: String?
    static let window: Int32 = 128
    static let timeoutSeconds: UInt32 = 10

    /// A `relp+tls://` transport; the settings' files are checked now and a problem with them is the error.
    public static func tls(host: String, port: UInt16, settings: TLSSettings) -> Result<RELPTransport, TLSSetupError> {
        if let problem = settings.problem() { return .failure(TLSSetupError(description: problem)) }
        let transport = RELPTransport(host: host, port: port, tls: settings)
        if let problem = transport.setupError { return .failure(TLSSetupError(description: problem)) }
        return .success(transport)
    }

    /// Why librelp refused the TLS settings, if it did.
    private var setupError: String?
    /// For relp+tls://: what the collector's certificate is checked against, for messages.
    fileprivate var caFile = ""
    fileprivate var peerName = ""

    public convenience init(host: String, port: UInt16) {
        self.init(host: host, port: port, tls: nil)
    }

    private init(host: String, port: UInt16, tls: TLSSettings?) {
        self.host = host
        self.port = port
        name = (tls == nil ? SyslogURL.relp(host: host, port: port) : SyslogURL.relpTLS(host: host, port: port)).description
        var e: OpaquePointer? = nil
        guard relpEngineConstruct(&e) == RELP_RET_OK, let e else { return }
        engine = e
        zw_relp_engine_quiet(e)
        var command = Array("syslog".utf8) + [0]
        _ = command.withUnsafeMutableBufferPointer { relpEngineSetEnableCmd(e, $0.baseAddress, eRelpCmdState_Required) }
        relpEngineSetOnErr(e) { user, objinfo, message, code in
            guard let user else { return }
            let transport = Unmanaged<RELPTransport>.fromOpaque(user).takeUnretainedValue()
            transport.lastError = message.map { String(cString: $0) } ?? RELPTransport.describe(Int(code))
        }
        relpEngineSetOnAuthErr(e) { user, authinfo, message, code in
            guard let user else { return }
            let transport = Unmanaged<RELPTransport>.fromOpaque(user).takeUnretainedValue()
            let what = message.map { String(cString: $0) } ?? RELPTransport.describe(Int(code))
            let detail = authinfo.map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
            transport.authError = "the collector's certificate was refused: " + what + (detail.map { " (\($0))" } ?? "")
                + " (checked against \(transport.caFile) for the name \(transport.peerName))"
        }
        var c: OpaquePointer? = nil
        guard relpEngineCltConstruct(e, &c) == RELP_RET_OK, let c else { return }
        client = c
        relpCltSetUsrPtr(c, Unmanaged.passUnretained(self).toOpaque())
        relpCltSetTimeout(c, Self.timeoutSeconds)
        relpCltSetConnTimeout(c, 5)
        relpCltSetWindowSize(c, Self.window)
        if let tls {
            let peer = tls.peerName ?? host
            caFile = tls.effectiveCAFile
            peerName = peer
            var status = relpCltEnableTLS(c)
            if status == RELP_RET_OK { status = withCString(tls.effectiveCAFile) { relpCltSetCACert(c, $0) } }
            if status == RELP_RET_OK, let cert = tls.certificateFile, let key = tls.keyFile {
                status = withCString(cert) { relpCltSetOwnCert(c, $0) }
                if status == RELP_RET_OK { status = withCString(key) { relpCltSetPrivKey(c, $0) } }
            }
            // "name": the chain is checked against the CA and the certificate must name the peer (never anonymous TLS).
            if status == RELP_RET_OK { status = withCString("name") { relpCltSetAuthMode(c, $0) } }
            if status == RELP_RET_OK { status = withCString(peer) { relpCltAddPermittedPeer(c, $0) } }
            if status != RELP_RET_OK { setupError = "librelp refused the TLS settings (\(lastError ?? "error \(status)"))" }
        }
    }

    deinit {
        if let e = engine {
            if client != nil { relpEngineCltDestruct(e, &client) }
            relpEngineDestruct(&engine)
        }
    }

    /// librelp's return codes in words (`librelp.h`), for the ones a client meets; the number otherwise.
    static func describe(_ code: Int) -> String {
        let words: [Int: String] = [7: "the session is broken", 8: "the session was closed", 14: "input/output error", 15: "timed out",
                                    20: "the collector answered with an error", 25: "the collector offers nothing this client can use",
                                    26: "the collector lacks a required feature", 31: "TLS could not be set up", 33: "peer fingerprint not permitted",
                                    34: "no permitted peer name", 35: "the collector presented no certificate", 36: "the collector's certificate is invalid",
                                    39: "the TLS handshake failed", 40: "TLS error"]
        return words[code - 10_000].map { "\($0) (librelp \(code))" } ?? "librelp error \(code)"
    }

    private func connect() -> String? {
        guard let client else { return "librelp could not create a client" }
        lastError = nil
        authError = nil
        let status: relpRetVal
        if everConnected {
            status = relpCltReconnect(client)
        } else {
            status = withCStrings(String(port), host) { p, h in relpCltConnect(client, AF_UNSPEC, p, h) }
        }
        if let authError {
            refusedSessions += 1
            return authError
        }
        guard status == RELP_RET_OK else { return "connect: \(lastError ?? Self.describe(Int(status)))" }
        everConnected = true
        connected = true
        sinceBreak = 0
        return nil
    }

    public func open() -> SendResult {
        if !connected, let error = connect() { return .retry(error) }
        return .sent
    }

    public func send(_ message: [UInt8]) -> SendResult {
        if !connected, let error = connect() { return .retry(error) }
        var copy = message
        let status = copy.withUnsafeMutableBufferPointer { relpCltSendSyslog(client, $0.baseAddress, $0.count) }
        guard status == RELP_RET_OK else {
            // The session is broken: librelp keeps the unacknowledged frames and
            // sends them again on re-establishing; this message is retried by the queue.
            connected = false
            return .retry("send: \(lastError ?? Self.describe(Int(status)))")
        }
        sinceBreak += 1
        return .sent
    }

    /// Closes the session, which waits for the collector to acknowledge every frame.
    public func finish(deadline: Double) -> Int {
        guard let e = engine, client != nil else { return 0 }
        let open = connected
        lastError = nil
        // Destroying the client sends "close" and waits for the acknowledgements (up to the timeout).
        relpEngineCltDestruct(e, &client)
        client = nil
        connected = false
        // Without an orderly close, up to a window of frames stays unconfirmed.
        return open && lastError == nil ? 0 : min(sinceBreak, Int(Self.window))
    }
}

/// Calls `body` with a C string as librelp wants it (`char *`).
private func withCString<T>(_ text: String, _ body: (UnsafeMutablePointer<CChar>) -> T) -> T {
    var bytes = Array(text.utf8CString)
    return bytes.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
}

/// Calls `body` with two C strings as librelp wants them (`unsigned char *`).
private func withCStrings<T>(_ a: String, _ b: String, _ body: (UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt8>) -> T) -> T {
    var aBytes = Array(a.utf8) + [0]
    var bBytes = Array(b.utf8) + [0]
    return aBytes.withUnsafeMutableBufferPointer { pa in
        bBytes.withUnsafeMutableBufferPointer { pb in body(pa.baseAddress!, pb.baseAddress!) }
    }
}
