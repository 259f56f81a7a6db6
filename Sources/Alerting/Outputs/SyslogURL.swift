import Vocabulary

/// A syslog destination as `--syslog` takes it.
public enum SyslogURL: Equatable, Sendable, CustomStringConvertible {
    /// A local datagram socket such as `/dev/log`.
    case unix(path: String)
    /// RFC 5426: one message per datagram.
    case udp(host: String, port: UInt16)
    /// RFC 6587 octet-counting framing over TCP.
    case tcp(host: String, port: UInt16)
    /// RELP, acknowledged delivery (librelp).
    case relp(host: String, port: UInt16)
    /// RFC 5425: octet-counted messages inside TLS (the collector's certificate checked).
    case tls(host: String, port: UInt16)
    /// RELP inside TLS (librelp; the collector's certificate checked).
    case relpTLS(host: String, port: UInt16)

    public var description: String {
        switch self {
        case .unix(let path): return "unix://\(path)"
        case .udp(let h, let p): return "udp://\(Self.hostText(h)):\(p)"
        case .tcp(let h, let p): return "tcp://\(Self.hostText(h)):\(p)"
        case .relp(let h, let p): return "relp://\(Self.hostText(h)):\(p)"
        case .tls(let h, let p): return "tls://\(Self.hostText(h)):\(p)"
        case .relpTLS(let h, let p): return "relp+tls://\(Self.hostText(h)):\(p)"
        }
    }

    /// Whether the destination is reached through TLS (and takes ``TLSSettings``).
    public var usesTLS: Bool {
        switch self {
        case .tls, .relpTLS: return true
        default: return false
        }
    }

    static func hostText(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }

    /// Parses `unix:///dev/log`, `udp://HOST:PORT`, `tcp://HOST:PORT`,
    /// `relp://HOST:PORT`, `tls://HOST:PORT`, `relp+tls://HOST:PORT` (IPv6
    /// hosts in brackets); the error says what is wrong.
    /// The URL as it may be printed: a `user:password@` part replaced by
    /// `***@`, a query or fragment (`?password=...`) by `?***`.
    public static func redacted(_ text: String) -> String {
        var t = text
        if let schemeEnd = t.range(of: "://"), let at = t[schemeEnd.upperBound...].lastIndex(of: "@") {
            t = String(t[..<schemeEnd.upperBound]) + "***" + String(t[at...])
        }
        if let query = t.firstIndex(where: { $0 == "?" || $0 == "#" }) { t = String(t[..<query]) + "?***" }
        return t
    }

    public static func parse(_ text: String) -> Result<SyslogURL, SyslogURLError> {
        guard let schemeEnd = text.range(of: "://") else {
            return .failure(SyslogURLError("expected unix:///PATH, udp://HOST:PORT, tcp://HOST:PORT, tls://HOST:PORT, relp://HOST:PORT or relp+tls://HOST:PORT"))
        }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        let rest = String(text[schemeEnd.upperBound...])
        if scheme == "unix" {
            guard rest.hasPrefix("/"), rest.count > 1 else { return .failure(SyslogURLError("a unix socket needs an absolute path, as in unix:///dev/log")) }
            return .success(.unix(path: rest))
        }
        guard ["udp", "tcp", "relp", "tls", "relp+tls"].contains(scheme) else {
            return .failure(SyslogURLError("unknown scheme \"\(scheme)\" (unix, udp, tcp, tls, relp or relp+tls)"))
        }
        // user:password@host: syslog has no login, and a password given here would end up in logs.
        if rest.contains("@") {
            return .failure(SyslogURLError("a syslog URL takes no user name or password (USER@HOST): give HOST:PORT; a collector that wants clients to authenticate takes a TLS client certificate"))
        }
        var host: Substring
        var portText: Substring
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return .failure(SyslogURLError("an IPv6 host needs a closing ]")) }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            guard after.hasPrefix(":") else { return .failure(SyslogURLError("missing :PORT")) }
            portText = after.dropFirst()
        } else {
            guard let colon = rest.lastIndex(of: ":") else { return .failure(SyslogURLError("missing :PORT")) }
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        }
        if portText.hasSuffix("/") { portText = portText.dropLast() }
        guard !host.isEmpty else { return .failure(SyslogURLError("missing host")) }
        // A query (?password=...) is not echoed: it may hold a secret.
        if rest.contains("?") || rest.contains("#") { return .failure(SyslogURLError("a syslog URL takes no query or fragment (?... #...): give PROTO://HOST:PORT")) }
        // An IPv6 address without brackets is still read (configurations written so keep working); anything else with a colon is a mistake.
        if !rest.hasPrefix("[") && host.contains(":") && IPAddress(String(host)) == nil {
            return .failure(SyslogURLError("a host with colons (an IPv6 address) goes in brackets: [\(host)]:\(portText)"))
        }
        guard let port = UInt16(portText), port > 0 else { return .failure(SyslogURLError("port \"\(portText)\" must be 1-65535")) }
        switch scheme {
        case "udp": return .success(.udp(host: String(host), port: port))
        case "tcp": return .success(.tcp(host: String(host), port: port))
        case "tls": return .success(.tls(host: String(host), port: port))
        case "relp+tls": return .success(.relpTLS(host: String(host), port: port))
        default: return .success(.relp(host: String(host), port: port))
        }
    }
}

/// Why a syslog URL was refused.
public struct SyslogURLError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
