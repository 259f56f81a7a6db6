/// Alert severity, highest first.
public enum Severity: Int, CaseIterable, Comparable, Sendable, Codable, CustomStringConvertible {
    case critical = 1
    case high = 2
    case medium = 3
    case low = 4

    /// Lower-case name used in configs, alerts and `--fail-on`.
    public var name: String {
        switch self {
        case .critical: return "critical"
        case .high: return "high"
        case .medium: return "medium"
        case .low: return "low"
        }
    }

    public var description: String { name }

    public init?(name: String) {
        guard let s = Severity.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
        self = s
    }

    /// EVE's numeric severity: critical 1 ... low 4.
    public var eveValue: Int { rawValue }

    /// One level less severe (low stays low).
    public var lowered: Severity { Severity(rawValue: min(rawValue + 1, 4))! }

    /// `a < b` means a is less severe than b.
    public static func < (a: Severity, b: Severity) -> Bool { a.rawValue > b.rawValue }
}
