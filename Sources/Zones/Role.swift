/// What a zone is for. The role rules (1001-1006) are written in terms of roles,
/// so a site can name its zones freely.
public enum Role: String, CaseIterable, Sendable, Codable {
    /// Hypervisor and manager administration (vCenter, ESXi vmk0, libvirt, BMCs).
    case management
    /// Administrators' workstations and jump hosts.
    case admin
    /// iSCSI, NFS, FCoE, Ceph and other storage networks.
    case storage
    /// Live migration and fault-tolerance logging.
    case migration
    /// Virtual machines' own networks.
    case guest
    /// The underlay that carries VXLAN/Geneve/GRE overlays.
    case transport
    /// Shared infrastructure services (DNS, NTP, directory, backup).
    case service
    /// Everything outside the data centre.
    case external

    /// Position in ``allCases``, for bit sets of roles.
    public var index: Int {
        switch self {
        case .management: 0
        case .admin: 1
        case .storage: 2
        case .migration: 3
        case .guest: 4
        case .transport: 5
        case .service: 6
        case .external: 7
        }
    }
}

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
