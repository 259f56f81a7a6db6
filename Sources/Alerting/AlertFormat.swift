/// The output formats of alerts (the `--format` values).
public enum AlertFormat: String, CaseIterable, Sendable {
    /// One human-readable line per alert.
    case text
    /// Suricata-compatible EVE JSON, one object per line.
    case eve
    /// RFC 5424 syslog with structured data.
    case rfc5424
    /// Legacy BSD syslog (RFC 3164).
    case rfc3164

    /// One formatted alert, without a trailing newline.
    public func format(_ alert: Alert, context: FormatContext) -> String {
        switch self {
        case .text: return TextFormatter.format(alert)
        case .eve: return EVEFormatter.format(alert)
        case .rfc5424: return RFC5424Formatter.format(alert, context: context)
        case .rfc3164: return RFC3164Formatter.format(alert, context: context)
        }
    }
}

/// Facts about the sensor that syslog formats carry.
public struct FormatContext: Sendable {
    public var hostname: String
    public var processID: Int32
    /// Syslog facility number; local4 (20) by default.
    public var facility: Int

    public init(hostname: String, processID: Int32, facility: Int = 20) {
        self.hostname = hostname
        self.processID = processID
        self.facility = facility
    }
}
