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
    public static func eve(_ ns: UInt64) -> String {
        let c = civil(ns)
        return "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))T\(pad(c.hour, 2)):\(pad(c.minute, 2)):\(pad(c.second, 2)).\(pad(c.microsecond, 6))+0000"
    }

    /// `2026-11-26T14:17:19.123456Z` (RFC 5424 / RFC 3339).
    public static func rfc3339(_ ns: UInt64) -> String {
        let c = civil(ns)
        return "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))T\(pad(c.hour, 2)):\(pad(c.minute, 2)):\(pad(c.second, 2)).\(pad(c.microsecond, 6))Z"
    }

    /// `Nov 26 14:17:19` (RFC 3164: day space-padded).
    public static func rfc3164(_ ns: UInt64) -> String {
        let c = civil(ns)
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let day = c.day < 10 ? " \(c.day)" : "\(c.day)"
        return "\(months[c.month - 1]) \(day) \(pad(c.hour, 2)):\(pad(c.minute, 2)):\(pad(c.second, 2))"
    }

    static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
