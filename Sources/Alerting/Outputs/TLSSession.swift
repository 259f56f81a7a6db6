import COpenSSL
import Platform
#if canImport(Glibc)
import Glibc
#endif

/// A TLS client session on a connected TCP socket, through the system's
/// OpenSSL: TLS 1.2 or later, the collector's certificate checked against the
/// CA file and the peer name before a single byte of a message is written
/// (RFC 5425 §5.2). A session that fails the check is closed: nothing is ever
/// sent in clear instead.
final class TLSSession {
    private let context: OpaquePointer
    private var ssl: OpaquePointer?
    /// The CA file the collector's certificate is checked against, for messages.
    private var caFile = ""

    /// Sets up the context (CA, client certificate); the error in one line.
    static func make(_ settings: TLSSettings) -> Result<TLSSession, TLSError> {
        guard let ctx = SSL_CTX_new(TLS_client_method()) else { return .failure(TLSError("OpenSSL: \(openSSLError())")) }
        let session = TLSSession(context: ctx)
        _ = zw_ssl_ctx_min_tls12(ctx)
        _ = zw_ssl_ctx_no_renegotiation(ctx)
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
        let ca = settings.effectiveCAFile
        session.caFile = ca
        guard SSL_CTX_load_verify_locations(ctx, ca, nil) == 1 else {
            return .failure(TLSError("CA file \(ca): \(openSSLError()) (PEM certificates expected)"))
        }
        if let cert = settings.certificateFile, let key = settings.keyFile {
            guard SSL_CTX_use_certificate_chain_file(ctx, cert) == 1 else {
                return .failure(TLSError("client certificate \(cert): \(openSSLError())"))
            }
            guard SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) == 1 else {
                return .failure(TLSError("client key \(key): \(openSSLError())"))
            }
            guard SSL_CTX_check_private_key(ctx) == 1 else {
                return .failure(TLSError("client key \(key) does not belong to the certificate \(cert)"))
            }
        }
        return .success(session)
    }

    private init(context: OpaquePointer) { self.context = context }

    deinit {
        close()
        SSL_CTX_free(context)
    }

    /// The TLS handshake on `fd` (connected, blocking), checking that the
    /// collector's certificate chains to the CA and names `peerName`.
    func handshake(fd: Int32, peerName: String) -> TLSError? {
        close()
        ERR_clear_error()
        guard let s = SSL_new(context) else { return TLSError("OpenSSL: \(openSSLError())") }
        ssl = s
        var v4 = in_addr(), v6 = in6_addr()
        if inet_pton(AF_INET, peerName, &v4) == 1 || inet_pton(AF_INET6, peerName, &v6) == 1 {
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s), peerName)
        } else {
            SSL_set_hostflags(s, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
            guard SSL_set1_host(s, peerName) == 1 else { return TLSError("peer name \"\(peerName)\" is not usable") }
            _ = zw_ssl_set_sni(s, peerName)
        }
        SSL_set_fd(s, fd)
        if SSL_connect(s) != 1 {
            let verify = SSL_get_verify_result(s)
            let detail = openSSLError()
            if verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH {
                return TLSError("the collector's certificate was refused: it does not name \(peerName) (the name to check is --syslog-peer-name, tls: peer_name)",
                                refused: true)
            }
            if verify != X509_V_OK {
                return TLSError("the collector's certificate was refused: \(String(cString: X509_verify_cert_error_string(verify))) (checked against \(caFile))",
                                refused: true)
            }
            return TLSError("TLS handshake failed: \(detail)")
        }
        // TLS 1.3 ends the client's handshake before the collector has checked
        // the sensor's certificate: its verdict comes after, as session tickets
        // (accepted) or an alert (refused). Wait for it, so that a refusal is
        // seen before a message is counted delivered.
        if SSL_version(s) == TLS1_3_VERSION, let problem = awaitVerdict(fd: fd, seconds: Self.verdictSeconds) {
            let hint = problem.contains("certificate required") ? " (it wants the sensor's certificate: --syslog-cert and --syslog-key, tls: cert and key)" : ""
            return TLSError("the collector refused the session: \(problem)\(hint)", refused: true)
        }
        return nil
    }

    /// How long to wait for the collector's first record after a TLS 1.3 handshake.
    static let verdictSeconds = 2.0
    /// How long the collector must stay quiet after its last record for the session to count as accepted.
    static let quietSeconds = 0.3

    /// Reads what the collector sends right after the handshake; the reason
    /// if it closed the session, nil when it went quiet or sent nothing.
    /// Collectors that check the sensor's certificate themselves (rsyslog's
    /// permitted peers) close just after sending their tickets: a short quiet
    /// spell after the last record is waited for too.
    private func awaitVerdict(fd: Int32, seconds: Double) -> String? {
        guard let ssl else { return "no TLS session" }
        let deadline = monotonicSeconds() + seconds
        var quietUntil = deadline
        var scratch = [UInt8](repeating: 0, count: 512)
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(fd, F_SETFL, flags) }
        while true {
            let left = Int32(max(0, (min(deadline, quietUntil) - monotonicSeconds()) * 1000))
            var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&ready, 1, left) <= 0 { return nil }
            ERR_clear_error()
            let n = scratch.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
            quietUntil = monotonicSeconds() + Self.quietSeconds
            if n > 0 { continue }
            let code = SSL_get_error(ssl, n)
            if code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE { continue }
            if code == SSL_ERROR_ZERO_RETURN || (code == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) { return "it closed the connection" }
            return openSSLError()
        }
    }

    /// Writes all of `bytes`; the error in one line.
    func write(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard let ssl else { return "no TLS session" }
        var offset = 0
        while offset < bytes.count {
            ERR_clear_error()
            let n = SSL_write(ssl, bytes.baseAddress! + offset, Int32(bytes.count - offset))
            if n <= 0 {
                let code = SSL_get_error(ssl, n)
                if code == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK) {
                    return "the collector accepts nothing (write timed out)"
                }
                if code == SSL_ERROR_SYSCALL { return "send: \(String(cString: strerror(errno)))" }
                return "TLS write failed: \(openSSLError())"
            }
            offset += Int(n)
        }
        return nil
    }

    /// Bytes handed to the socket so far, TLS records included: what the
    /// kernel's send queue counts (``TCPTransport`` tracks acknowledgements by it).
    var bytesOnWire: UInt64 {
        guard let ssl, let wbio = SSL_get_wbio(ssl) else { return 0 }
        return UInt64(BIO_number_written(wbio))
    }

    /// Whether the collector closed the session (close_notify, EOF or reset).
    /// It sends no messages, but TLS 1.3 session tickets may be waiting: they
    /// are read and dropped without blocking.
    func peerClosed(fd: Int32) -> Bool {
        guard let ssl else { return true }
        var scratch = [UInt8](repeating: 0, count: 512)
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(fd, F_SETFL, flags) }
        while true {
            var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if SSL_pending(ssl) == 0 && poll(&ready, 1, 0) <= 0 { return false }
            ERR_clear_error()
            let n = scratch.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
            if n > 0 { continue }
            let code = SSL_get_error(ssl, n)
            return !(code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE)
        }
    }

    /// Frees the session; with `notify`, sends close_notify first (without
    /// waiting for the collector's), which a broken connection cannot take.
    func close(notify: Bool = false) {
        guard let s = ssl else { return }
        if notify { _ = SSL_shutdown(s) }
        SSL_free(s)
        ssl = nil
    }
}

/// Why a TLS session could not be set up.
struct TLSError: Error, CustomStringConvertible {
    let description: String
    /// The collector's certificate was checked and refused (wrong CA, wrong name, expired).
    let refused: Bool
    init(_ description: String, refused: Bool = false) {
        self.description = description
        self.refused = refused
    }
}

/// The oldest queued OpenSSL error as text, or a generic phrase.
private func openSSLError() -> String {
    let code = ERR_get_error()
    guard code != 0 else { return "no detail from OpenSSL" }
    var buffer = [UInt8](repeating: 0, count: 256)
    buffer.withUnsafeMutableBufferPointer { $0.withMemoryRebound(to: CChar.self) { ERR_error_string_n(code, $0.baseAddress, $0.count) } }
    ERR_clear_error()
    // "error:0A000086:SSL routines::certificate verify failed" → the reason after the last colon.
    let text = String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
    return text.split(separator: ":", omittingEmptySubsequences: false).last.map(String.init) ?? text
}
