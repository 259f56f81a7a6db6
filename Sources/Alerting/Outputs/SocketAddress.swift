#if canImport(Glibc)
import Glibc
#endif

/// A resolved socket address (IPv4, IPv6 or a unix path), as `connect` wants it.
struct SocketAddress {
    var storage = sockaddr_storage()
    var length: socklen_t = 0
    var family: Int32 { Int32(storage.ss_family) }

    /// Resolves `host` (a name or a literal) and `port`; the error is getaddrinfo's text.
    static func resolve(host: String, port: UInt16, type: Int32) -> Result<SocketAddress, TransportError> {
        var hints = addrinfo()
        hints.ai_socktype = type
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>? = nil
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else { return .failure(TransportError("cannot resolve \(host): \(String(cString: gai_strerror(status)))")) }
        defer { freeaddrinfo(list) }
        var address = SocketAddress()
        withUnsafeMutableBytes(of: &address.storage) { dst in
            dst.copyMemory(from: UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(first.pointee.ai_addrlen)))
        }
        address.length = first.pointee.ai_addrlen
        return .success(address)
    }

    /// A unix socket path.
    static func unix(_ path: String) -> SocketAddress? {
        var a = sockaddr_un()
        a.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: a.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &a.sun_path) { dst in dst.copyBytes(from: bytes) }
        var address = SocketAddress()
        withUnsafeMutableBytes(of: &address.storage) { dst in withUnsafeBytes(of: a) { dst.copyMemory(from: $0) } }
        address.length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + 1)
        return address
    }

    /// Connects `fd`; the error text on failure.
    func connect(_ fd: Int32) -> String? {
        var copy = storage
        let status = withUnsafePointer(to: &copy) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) }
        }
        return status == 0 ? nil : String(cString: strerror(errno))
    }
}

/// Why a destination cannot be reached now.
struct TransportError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A datagram syslog destination: a unix socket such as `/dev/log`, or UDP
/// (RFC 5426, one message per datagram). Datagrams carry no acknowledgement:
/// handed to the kernel counts as delivered. A refused or missing socket is
/// retried; a UDP refusal (the collector's host answered an earlier datagram
/// with ICMP port unreachable) counts that datagram as possibly lost.
public final class DatagramTransport: MessageTransport {
    public let name: String
    private let target: Target
    private var fd: Int32 = -1
    public private(set) var possiblyLost = 0
    public var failuresShowLate: Bool { if case .udp = target { true } else { false } }

    enum Target {
        case unix(String)
        case udp(String, UInt16)
    }

    public init(unixPath: String) {
        name = "unix://\(unixPath)"
        target = .unix(unixPath)
    }

    public init(host: String, port: UInt16) {
        name = SyslogURL.udp(host: host, port: port).description
        target = .udp(host, port)
    }

    deinit { if fd >= 0 { close(fd) } }

    private func connectIfNeeded() -> String? {
        if fd >= 0 { return nil }
        let address: SocketAddress
        switch target {
        case .unix(let path):
            guard let a = SocketAddress.unix(path) else { return "socket path too long" }
            address = a
        case .udp(let host, let port):
            switch SocketAddress.resolve(host: host, port: port, type: Int32(SOCK_DGRAM.rawValue)) {
            case .success(let a): address = a
            case .failure(let e): return e.description
            }
        }
        let s = socket(address.family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { return "socket: \(String(cString: strerror(errno)))" }
        if let error = address.connect(s) {
            close(s)
            return "connect: \(error)"
        }
        fd = s
        return nil
    }

    /// The error the kernel holds for the socket (SO_ERROR, cleared by reading it):
    /// an ICMP port unreachable for the last datagram sent.
    public func takeLateFailure() -> String? {
        guard fd >= 0, case .udp = target else { return nil }
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length) == 0, code != 0 else { return nil }
        if code == ECONNREFUSED { possiblyLost += 1 }
        return "send: \(String(cString: strerror(code)))"
    }

    /// The end: the last datagram's refusal (if any) arrives within moments; counted, not lost silently.
    public func finish(deadline: Double) -> Int {
        if fd >= 0, case .udp = target, sentSinceCheck {
            usleep(50_000)
            _ = takeLateFailure()
        }
        return 0
    }

    private var sentSinceCheck = false

    public func send(_ message: [UInt8]) -> SendResult {
        if let error = connectIfNeeded() { return .retry(error) }
        let n = message.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if n == message.count {
            sentSinceCheck = true
            return .sent
        }
        let code = errno
        let reason = String(cString: strerror(code))
        if code == EMSGSIZE { return .failed("message of \(message.count) bytes too large for a datagram") }
        if code == ECONNREFUSED, case .udp = target { possiblyLost += 1 }
        // ECONNREFUSED (nobody listens), ENOENT, ENOBUFS ...: reconnect and try again later.
        close(fd)
        fd = -1
        return .retry("send: \(reason)")
    }
}
