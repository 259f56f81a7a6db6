import Platform
#if canImport(Glibc)
import Glibc
#endif

/// Syslog over TCP with RFC 6587 octet-counting framing (`LEN SP MSG`), in
/// clear or, for `tls://`, inside TLS as RFC 5425 frames it (the same framing).
///
/// TCP confirms bytes to the collector's kernel, not to the collector: when a
/// connection breaks, the messages whose bytes the collector's kernel had not
/// acknowledged (`SIOCOUTQ`) are sent again on the next connection (counted as
/// resent), and the messages it acknowledged during the last
/// ``riskSeconds`` before the break are counted as possibly lost: a collector
/// that crashed may have held them unread. Only RELP closes that gap. Over
/// TLS the same accounting holds on the bytes of the TLS records.
public final class TCPTransport: MessageTransport {
    public let name: String
    private let host: String
    private let port: UInt16
    private var fd: Int32 = -1
    /// Bytes written on the current connection.
    private var written: UInt64 = 0
    /// Messages written on this connection, oldest first, with the stream offset
    /// their frame ends at and when they were written.
    private var inFlight: [(message: [UInt8], end: UInt64, time: Double)] = []
    private var inFlightHead = 0
    /// Messages to send again first on the next connection.
    private var resendQueue: [[UInt8]] = []
    public private(set) var resent = 0
    public private(set) var possiblyLost = 0
    /// TLS sessions refused because the collector's certificate failed the check.
    public private(set) var refusedSessions = 0
    /// For `tls://`: the TLS context; a session per connection.
    private let tls: TLSSession?
    private let peerName: String
    /// How long before a break acknowledged messages count as at risk.
    public static let riskSeconds = 5.0
    static let writeTimeoutSeconds = 5

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
        name = SyslogURL.tcp(host: host, port: port).description
        tls = nil
        peerName = host
    }

    private init(host: String, port: UInt16, tls: TLSSession, peerName: String) {
        self.host = host
        self.port = port
        name = SyslogURL.tls(host: host, port: port).description
        self.tls = tls
        self.peerName = peerName
    }

    /// A `tls://` transport (RFC 5425); the CA file, the client certificate and
    /// key are read now, and a problem with them is the error.
    public static func tls(host: String, port: UInt16, settings: TLSSettings) -> Result<TCPTransport, TLSSetupError> {
        if let problem = settings.problem() { return .failure(TLSSetupError(description: problem)) }
        switch TLSSession.make(settings) {
        case .success(let session): return .success(TCPTransport(host: host, port: port, tls: session, peerName: settings.peerName ?? host))
        case .failure(let e): return .failure(TLSSetupError(description: e.description))
        }
    }

    deinit {
        tls?.close()
        if fd >= 0 { close(fd) }
    }

    public func open() -> SendResult {
        if fd >= 0 { return .sent }
        if let error = connect() { return .retry(error) }
        return .sent
    }

    public func send(_ message: [UInt8]) -> SendResult {
        if fd >= 0 && peerClosed() { breakConnection() }
        if fd < 0 {
            if let error = connect() { return .retry(error) }
            while !resendQueue.isEmpty {
                if let error = write(resendQueue[0]) {
                    breakConnection()
                    return .retry(error)
                }
                resendQueue.removeFirst()
                resent += 1
            }
        }
        if let error = write(message) {
            // The message itself goes out again with the others of the broken connection.
            breakConnection()
            return .retry(error)
        }
        forgetAcknowledged()
        return .sent
    }

    public func finish(deadline: Double) -> Int {
        // A collector that closed or reset the connection since the last message
        // (one that refused the sensor's TLS certificate after the handshake)
        // read none of the unacknowledged and perhaps not the recent messages.
        if fd >= 0 && peerClosed() { breakConnection() }
        guard fd >= 0 else { return resendQueue.count }
        // Wait for the collector's kernel to acknowledge everything, then close.
        while monotonicSeconds() < deadline && unacknowledgedBytes() > 0 && !peerClosed() { usleep(20_000) }
        let left = unacknowledgedBytes() > 0 ? inFlight.count - inFlightHead : 0
        tls?.close(notify: true)
        shutdown(fd, Int32(SHUT_WR))
        close(fd)
        fd = -1
        return left + resendQueue.count
    }

    private func connect() -> String? {
        let address: SocketAddress
        switch SocketAddress.resolve(host: host, port: port, type: Int32(SOCK_STREAM.rawValue)) {
        case .success(let a): address = a
        case .failure(let e): return e.description
        }
        let s = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { return "socket: \(String(cString: strerror(errno)))" }
        var timeout = timeval(tv_sec: Self.writeTimeoutSeconds, tv_usec: 0)
        setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // The TLS handshake reads: a collector that never answers must not hold the output.
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var on: Int32 = 1
        setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &on, socklen_t(MemoryLayout<Int32>.size))
        if let error = address.connect(s) {
            close(s)
            return "connect: \(error)"
        }
        if let tls, let error = tls.handshake(fd: s, peerName: peerName) {
            tls.close()
            close(s)
            if error.refused { refusedSessions += 1 }
            return error.description
        }
        fd = s
        written = tls?.bytesOnWire ?? 0
        inFlight.removeAll(keepingCapacity: true)
        inFlightHead = 0
        return nil
    }

    /// Writes one framed message; the error text on failure.
    private func write(_ message: [UInt8]) -> String? {
        var frame = Array("\(message.count) ".utf8)
        frame.append(contentsOf: message)
        if let tls {
            if let error = frame.withUnsafeBytes({ tls.write($0) }) { return error }
            written = tls.bytesOnWire
        } else {
            var offset = 0
            while offset < frame.count {
                let n = frame.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno == EAGAIN ? "the collector accepts nothing (write timed out)" : "send: \(String(cString: strerror(errno)))"
                }
                offset += n
            }
            written += UInt64(frame.count)
        }
        inFlight.append((message, written, monotonicSeconds()))
        return nil
    }

    /// Whether the collector closed or reset the connection (it never sends data).
    private func peerClosed() -> Bool {
        if let tls { return tls.peerClosed(fd: fd) }
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT))
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
    }

    private func unacknowledgedBytes() -> UInt64 {
        var outq: Int32 = 0
        // SIOCOUTQ: bytes in the send queue not yet acknowledged by the peer.
        guard fd >= 0, ioctl(fd, UInt(0x5411), &outq) == 0 else { return written }
        return UInt64(max(outq, 0))
    }

    /// Drops messages the collector's kernel acknowledged long enough ago.
    private func forgetAcknowledged() {
        let acknowledged = written - min(unacknowledgedBytes(), written)
        let horizon = monotonicSeconds() - Self.riskSeconds
        while inFlightHead < inFlight.count, inFlight[inFlightHead].end <= acknowledged, inFlight[inFlightHead].time < horizon {
            inFlightHead += 1
        }
        if inFlightHead > 4096 {
            inFlight.removeFirst(inFlightHead)
            inFlightHead = 0
        }
    }

    /// Closes a broken connection: unacknowledged messages go out again on the
    /// next one; recently acknowledged ones are counted as possibly lost.
    private func breakConnection() {
        let acknowledged = written - min(unacknowledgedBytes(), written)
        let horizon = monotonicSeconds() - Self.riskSeconds
        var again: [[UInt8]] = []
        for i in inFlightHead..<inFlight.count {
            let m = inFlight[i]
            if m.end > acknowledged { again.append(m.message) } else if m.time >= horizon { possiblyLost += 1 }
        }
        resendQueue = again + resendQueue
        tls?.close()
        close(fd)
        fd = -1
        inFlight.removeAll(keepingCapacity: true)
        inFlightHead = 0
        written = 0
    }
}

/// Why a `tls://` or `relp+tls://` destination cannot be set up (its CA file,
/// client certificate or key).
public struct TLSSetupError: Error, Sendable, CustomStringConvertible {
    public let description: String
}
