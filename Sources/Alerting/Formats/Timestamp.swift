/// Formats packet times (nanoseconds since the Unix epoch, UTC) without
/// Foundation's date formatters, which are slow and locale-dependent.
public enum Timestamp {
    /// The civil date and time of a timestamp, in UTC.
    public struct Civil: Equatable {
        public var year: Int, month: Int, day: Int
        public var hour: Int, minute: Int, second: Int
        public var microsecond: Int
    }

    public static func civil(_ nanoseconds: UInt64) -> Civil {
        let seconds = Int(nanoseconds / 1_000_000_000)
        let micro = Int((nanoseconds % 1_000_000_000) / 1000)
        let days = seconds / 86_400
        let secondOfDay = seconds % 86_400
        // Days to civil date (Howard Hinnant's algorithm, proleptic Gregorian).
        let z = days + 719_468
        let era = z / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return Civil(year: year, month: month, day: day, hour: secondOfDay / 3600, minute: secondOfDay % 3600 / 60,
                     second: secondOfDay % 60, microsecond: micro)
    }

    /// `2026-11-26T14:17:19.123456+0000`, as Suricata's EVE writes it.
    public static func eve(_ ns: UInt64) -> String { text { $0.append(eveTimestamp: ns) } }

    /// `2026-11-26T14:17:19.123456Z` (RFC 5424 / RFC 3339).
    public static func rfc3339(_ ns: UInt64) -> String { text { $0.append(rfc3339Timestamp: ns) } }

    /// `Nov 26 14:17:19` (RFC 3164: day space-padded).
    public static func rfc3164(_ ns: UInt64) -> String { text { $0.append(rfc3164Timestamp: ns) } }

    private static func text(_ write: (inout OutputBuffer) -> Void) -> String {
        var b = OutputBuffer(capacity: 32)
        write(&b)
        return b.text
    }

    static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
}

extension OutputBuffer {
    /// `2026-11-26T14:17:19.123456`, the part EVE and RFC 3339 share.
    private mutating func appendDateTime(_ c: Timestamp.Civil) {
        append(padded: c.year, width: 4)
        append(byte: 0x2D)
        append(padded: c.month, width: 2)
        append(byte: 0x2D)
        append(padded: c.day, width: 2)
        append(byte: 0x54)
        appendClock(c)
        append(byte: 0x2E)
        append(padded: c.microsecond, width: 6)
    }

    /// `14:17:19`.
    private mutating func appendClock(_ c: Timestamp.Civil) {
        append(padded: c.hour, width: 2)
        append(byte: 0x3A)
        append(padded: c.minute, width: 2)
        append(byte: 0x3A)
        append(padded: c.second, width: 2)
    }

    /// `2026-11-26T14:17:19.123456+0000`, as Suricata's EVE writes it.
    public mutating func append(eveTimestamp ns: UInt64) {
        appendDateTime(Timestamp.civil(ns))
        append("+0000" as StaticString)
    }

    /// `2026-11-26T14:17:19.123456Z` (RFC 5424 / RFC 3339).
    public mutating func append(rfc3339Timestamp ns: UInt64) {
        appendDateTime(Timestamp.civil(ns))
        append(byte: 0x5A)
    }

    /// `Nov 26 14:17:19` (RFC 3164: day space-padded).
    public mutating func append(rfc3164Timestamp ns: UInt64) {
        let c = Timestamp.civil(ns)
        append(Timestamp.monthNames[c.month - 1])
        append(byte: 0x20)
        if c.day < 10 { append(byte: 0x20) }
        append(decimal: c.day)
        append(byte: 0x20)
        appendClock(c)
    }
}
