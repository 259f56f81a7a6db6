#if canImport(Glibc)
import Glibc
#endif

/// How a `tls://` or `relp+tls://` collector proves who it is, and how the
/// sensor proves who it is if the collector asks (`--syslog-ca`,
/// `--syslog-cert`, `--syslog-key`, `--syslog-peer-name`; `tls:` of a
/// `sensor.outputs` entry).
public struct TLSSettings: Sendable, Equatable {
    /// PEM file of the certificate authorities the collector's certificate must
    /// chain to; nil: the system's trust store (``systemCAFile``).
    public var caFile: String?
    /// PEM certificate (and chain) the sensor presents, for collectors that
    /// authenticate their clients; with ``keyFile``.
    public var certificateFile: String?
    /// PEM private key of ``certificateFile``.
    public var keyFile: String?
    /// The name the collector's certificate must carry (a DNS name in its
    /// subjectAltName, or an IP address); nil: the host of the URL.
    public var peerName: String?

    /// Debian's bundle of the system's certificate authorities (package ca-certificates).
    public static let systemCAFile = "/etc/ssl/certs/ca-certificates.crt"

    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil, peerName: String? = nil) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.peerName = peerName
    }

    /// Whether any setting differs from the defaults.
    public var isSet: Bool { caFile != nil || certificateFile != nil || keyFile != nil || peerName != nil }

    /// The CA file used: the one given or the system's.
    public var effectiveCAFile: String { caFile ?? Self.systemCAFile }

    /// What is wrong before any connection is tried (a file that cannot be read,
    /// a certificate without its key), in one line; nil when nothing is.
    public func problem() -> String? {
        if (certificateFile == nil) != (keyFile == nil) {
            return certificateFile == nil ? "a client key needs its certificate (--syslog-cert, tls: cert)"
                                          : "a client certificate needs its private key (--syslog-key, tls: key)"
        }
        if let peerName, peerName.isEmpty || peerName.contains(where: { $0 == " " || $0.asciiValue.map { $0 < 0x20 } ?? false }) {
            return "peer name \"\(peerName)\" is not a host name"
        }
        for (what, path) in [("CA file", effectiveCAFile), ("client certificate", certificateFile), ("client key", keyFile)] {
            guard let path else { continue }
            if access(path, R_OK) != 0 {
                let reason = String(cString: strerror(errno))
                return caFile == nil && what == "CA file"
                    ? "the system's CA file \(path) cannot be read (\(reason)); install ca-certificates or give the collector's CA (--syslog-ca, tls: ca)"
                    : "\(what) \(path): \(reason)"
            }
        }
        return nil
    }
}
