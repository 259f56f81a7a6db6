import Vocabulary

/// One way of writing an alert as a line of text: one file per format,
/// listed once in ``AlertFormat/formatters``. The command line (`--format`,
/// `--syslog-format`) and the configuration (`sensor.outputs[].format`)
/// take their names from there.
public protocol AlertFormatter: SendableMetatype {
    /// The name users give (`eve`).
    static var name: String { get }
    /// What it is, for `--help`.
    static var summary: String { get }
    /// Whether syslog collectors take it (`--syslog-format`).
    static var isSyslog: Bool { get }
    /// Appends one alert, without a trailing newline.
    static func format(_ alert: Alert, context: FormatContext, into out: inout OutputBuffer)
}

extension AlertFormatter {
    public static var isSyslog: Bool { false }
}

/// An alert format, chosen by name.
public struct AlertFormat: Hashable, Sendable, CustomStringConvertible {
    let index: Int

    /// Every format. A new one is one file with an ``AlertFormatter`` plus its line here.
    static let formatters: [any AlertFormatter.Type] = [
        TextFormatter.self,
        EVEFormatter.self,
        RFC5424Formatter.self,
        RFC3164Formatter.self,
        LocalSyslogFormatter.self,
    ]

    public static let all: [AlertFormat] = formatters.indices.map { AlertFormat(index: $0) }
    /// The formats syslog collectors take.
    public static let syslog: [AlertFormat] = all.filter { formatters[$0.index].isSyslog }

    init(index: Int) { self.index = index }

    /// The format called `name`, if any.
    public init?(name: String) {
        guard let i = Self.formatters.firstIndex(where: { $0.name == name }) else { return nil }
        index = i
    }

    public var name: String { Self.formatters[index].name }
    public var summary: String { Self.formatters[index].summary }
    public var isSyslog: Bool { Self.formatters[index].isSyslog }
    public var description: String { name }

    /// Appends one formatted alert, without a trailing newline.
    @inline(__always)
    public func format(_ alert: Alert, context: FormatContext, into out: inout OutputBuffer) {
        Self.formatters[index].format(alert, context: context, into: &out)
    }

    /// One formatted alert as a string (tests, fuzzers).
    public func format(_ alert: Alert, context: FormatContext) -> String {
        var out = OutputBuffer()
        format(alert, context: context, into: &out)
        return out.text
    }

    /// `a, b or c`, for messages listing formats.
    public static func names(_ formats: [AlertFormat]) -> String {
        let names = formats.map(\.name)
        return names.count <= 1 ? names.joined() : names.dropLast().joined(separator: ", ") + " or " + names.last!
    }

    // Conveniences for defaults.
    public static let text = AlertFormat(name: "text")!
    public static let eve = AlertFormat(name: "eve")!
    public static let rfc5424 = AlertFormat(name: "rfc5424")!
    public static let rfc3164 = AlertFormat(name: "rfc3164")!
    public static let local = AlertFormat(name: "local")!
}

/// Facts about the sensor that syslog formats carry.
public struct FormatContext: Sendable {
    public var hostname: String
    public var processID: Int32
    /// Syslog facility number; local4 (20) by default.
    public var facility: Int
    /// The private enterprise number of RFC 5424's SD-ID (`zw@NUMBER`): `sensor.syslog_enterprise_number`.
    public var enterpriseNumber: Int = FormatContext.documentationEnterpriseNumber
    /// The sensor's name (`sensor.name`, else the host name): EVE's `host`.
    public var sensorName: String
    /// RFC 5612's enterprise number for documentation, the default: ZoneWarden has none registered,
    /// and a number of its own would claim someone else's.
    public static let documentationEnterpriseNumber = 32473
    /// The host name as syslog HOSTNAME takes it: printable ASCII, `-` when empty.
    let syslogHostname: String

    public init(hostname: String, processID: Int32, facility: Int = 20, sensorName: String? = nil) {
        self.hostname = hostname
        self.sensorName = sensorName ?? hostname
        self.processID = processID
        self.facility = facility
        let printable = String(String.UnicodeScalarView(hostname.unicodeScalars.filter { $0.value > 32 && $0.value < 127 }))
        syslogHostname = hostname.isEmpty ? "-" : printable
    }
}
