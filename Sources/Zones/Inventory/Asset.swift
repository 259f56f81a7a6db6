import Vocabulary

/// What an inventory says an address is (`kind` in the CSV format).
public enum AssetKind: String, CaseIterable, Sendable {
    case vm
    case hypervisor
    case vmkernelManagement = "vmkernel-management"
    case vmkernelVMotion = "vmkernel-vmotion"
    case vmkernelStorage = "vmkernel-storage"
    case vmkernelFT = "vmkernel-ft"
    case bmc
    case manager
    case storageArray = "storage-array"
    case gateway
    case host

    /// The infrastructure role the rules give an address of this kind whatever
    /// zone its subnet is in (rules 1004, 1006, 2003, 3001, 4001, 6001); nil:
    /// the zones decide (a VM, a gateway, any other host).
    public var infrastructureRole: Role? {
        switch self {
        case .hypervisor, .vmkernelManagement, .bmc, .manager: .management
        case .vmkernelVMotion, .vmkernelFT: .migration
        case .vmkernelStorage, .storageArray: .storage
        case .vm, .gateway, .host: nil
        }
    }

    /// Whether it is a hypervisor's VMkernel interface (a service bound to one network).
    public var isVMkernel: Bool {
        switch self {
        case .vmkernelManagement, .vmkernelVMotion, .vmkernelStorage, .vmkernelFT: true
        default: false
        }
    }
}

/// A named thing on the network, as an inventory lists it: a VM, a
/// hypervisor or one of its VMkernel interfaces, a BMC, a manager. Names come
/// from files the sensor does not control: every format escapes them.
public struct Asset: Sendable, Hashable {
    /// The VM's, host's or interface's name (`esx-03 vmk1` for a VMkernel interface).
    public var name: String
    public var kind: AssetKind
    /// The hypervisor a VM runs on (or a VMkernel interface belongs to), when the inventory says.
    public var host: String?
    /// The port group, libvirt network or bridge the address is on, when the inventory says.
    public var network: String?

    public init(name: String, kind: AssetKind, host: String? = nil, network: String? = nil) {
        self.name = name
        self.kind = kind
        self.host = host
        self.network = network
    }

    /// `web-01 on esx-03`, or the name alone.
    public var label: String { host.map { "\(name) on \($0)" } ?? name }
}
