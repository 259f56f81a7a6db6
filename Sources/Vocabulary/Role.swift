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

    /// Whether hypervisor infrastructure lives in zones of this role (management, storage, migration).
    public var isInfrastructure: Bool { self == .management || self == .storage || self == .migration }

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
