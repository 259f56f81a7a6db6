import Vocabulary

/// One accepted risk from the `exceptions:` list: findings of `rules`
/// between `from` and `to` (on `services`, by `user`) are not written but
/// counted under this entry, with its reason, until it expires. The alert
/// stage matches them (``Alerting/AlertExceptions``); rule names are checked
/// against the catalogue there.
public struct ExceptionSetting: Sendable {
    /// One end of a finding: a zone, an address, a prefix, a MAC, or a name the inventory gives (a VM, a host).
    public enum End: Sendable, Equatable, CustomStringConvertible {
        case zone(String)
        case address(IPAddress)
        case prefix(IPPrefix)
        case mac(MACAddress)
        case name(String)

        public var description: String {
            switch self {
            case .zone(let name): return name
            case .address(let a): return a.description
            case .prefix(let p): return p.description
            case .mac(let m): return m.description
            case .name(let n): return n
            }
        }
    }

    /// Rule names or sids as written, with where each is.
    public var rules: [(key: String, position: SourcePosition)] = []
    /// nil: any source (or destination).
    public var from: [End]?
    public var to: [End]?
    /// nil: any service.
    public var services: [ServiceSpec]?
    /// A login's user name (the finding's `user` evidence); nil: any.
    public var user: String?
    public var reason: String = ""
    /// The last day it applies (`YYYY-MM-DD`, through the end of that day UTC); nil: no expiry.
    public var expires: String?
    /// Nanoseconds since the Unix epoch at which it stops applying (the day after `expires`, 00:00 UTC).
    public var expiresAt: UInt64?
    public var position: SourcePosition

    public init(position: SourcePosition) { self.position = position }

    /// Whether it has expired at `now` (nanoseconds since the Unix epoch).
    public func isExpired(at now: UInt64) -> Bool { expiresAt.map { now >= $0 } ?? false }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm); nil if it is no date.
    public static func epochDay(_ text: String) -> Int? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
              (1...12).contains(m), d >= 1 else { return nil }
        let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
        guard d <= days else { return nil }
        let yy = m <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
