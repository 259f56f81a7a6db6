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

    /// Nanoseconds since the epoch of `2026-11-26T14:17:19.123456Z` (as
    /// ``rfc3339(_:)`` writes it; fractions of any length, `Z` or `+00:00`);
    /// nil for anything else.
    public static func parseRFC3339(_ text: String) -> UInt64? {
        let b = Array(text.utf8)
        func number(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= b.count else { return nil }
            var v = 0
            for c in b[from..<(from + count)] {
                guard c >= 0x30 && c <= 0x39 else { return nil }
                v = v * 10 + Int(c - 0x30)
            }
            return v
        }
        // RFC 3339 allows "t" and "z" in lowercase (§5.6).
        guard b.count >= 20, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54 || b[10] == 0x74, b[13] == 0x3A, b[16] == 0x3A,
              let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
              let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
              (1...12).contains(month), hour < 24, minute < 60, second < 61, year >= 1970 else { return nil }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard (1...daysInMonth).contains(day) else { return nil }
        var i = 19, nanos = 0
        if i < b.count && b[i] == 0x2E {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 0x30 && b[i] <= 0x39 {
                if digits < 9 { nanos = nanos * 10 + Int(b[i] - 0x30) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<9 where digits < 9 { nanos *= 10 }
        }
        // The offset: Z, or ±HH:MM (±HHMM too); the moment is counted in UTC.
        let rest = Array(b[i...])
        var offset = 0
        if rest != [0x5A] && rest != [0x7A] {
            let colon = rest.count == 6
            guard (rest.count == 6 && rest[3] == 0x3A) || rest.count == 5, rest[0] == 0x2B || rest[0] == 0x2D,
                  let hours = number(i + 1, 2), let minutes = number(i + (colon ? 4 : 3), 2), hours < 24, minutes < 60 else { return nil }
            offset = (rest[0] == 0x2D ? -1 : 1) * (hours * 3600 + minutes * 60)
        }
        // Days from the civil date (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = y / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        guard seconds >= 0 else { return nil }
        return UInt64(seconds) * 1_000_000_000 + UInt64(nanos)
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
    /// `2026-11-26T14:17:19.123456`, the part EVE and RFC 3339 share: 26
    /// bytes written in place, two digits at a time (every alert and flow
    /// record has one or two). Nanoseconds in a `UInt64` end in the year 2554:
    /// the year always has four digits.
    private mutating func appendDateTime(_ c: Timestamp.Civil) {
        appendInPlace(maxCount: 26) { p in
            Self.putPair(c.year / 100, p)
            Self.putPair(c.year % 100, p + 2)
            p[4] = 0x2D
            Self.putPair(c.month, p + 5)
            p[7] = 0x2D
            Self.putPair(c.day, p + 8)
            p[10] = 0x54
            Self.putPair(c.hour, p + 11)
            p[13] = 0x3A
            Self.putPair(c.minute, p + 14)
            p[16] = 0x3A
            Self.putPair(c.second, p + 17)
            p[19] = 0x2E
            Self.putPair(c.microsecond / 10_000, p + 20)
            Self.putPair(c.microsecond / 100 % 100, p + 22)
            Self.putPair(c.microsecond % 100, p + 24)
            return 26
        }
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
