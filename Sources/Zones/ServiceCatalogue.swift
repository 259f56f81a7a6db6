import Decode
import Vocabulary

/// The purpose a well-known port serves in a virtual infrastructure.
public enum ServiceClass: String, CaseIterable, Sendable {
    /// Administration of hypervisors, managers and BMCs (rules 1004, 1006).
    case management
    /// VM consoles: VNC, SPICE, RDP-based consoles (rule 2005).
    case console
    /// Live migration and fault-tolerance logging (rule 3001).
    case migration
    /// Storage access: iSCSI, NFS, NVMe/TCP, Ceph, SMB, vSAN (rule 4001).
    case storage
}

/// One service of the catalogue.
public struct ServiceEntry: Sendable, Hashable {
    public var spec: ServiceSpec
    /// A short name for alerts (`vmware-authd`, `libvirt-tcp`).
    public var name: String
    /// The product it belongs to (`vmware`, `xen`, `hyper-v`, `kvm`, `proxmox`, ...).
    public var product: String
    public var serviceClass: ServiceClass
    /// Whether only a hypervisor, manager or BMC would serve it. Generic services
    /// (SSH, HTTPS, SNMP, WinRM) are management services on a management host,
    /// but guests serve them too, so rule 1006 ignores them.
    public var distinctive: Bool

    public init(_ spec: ServiceSpec, name: String, product: String, class serviceClass: ServiceClass, distinctive: Bool) {
        self.spec = spec
        self.name = name
        self.product = product
        self.serviceClass = serviceClass
        self.distinctive = distinctive
    }
}

/// Well-known ports of each hypervisor product, by class, with built-in defaults
/// from the vendors' port tables; the zone config's `services:` section adds to
/// or replaces a class. Lookups run once per flow (several rules ask at a flow's
/// start), so they probe a small open-addressing table with a multiplicative
/// hash instead of hashing through `Dictionary`.
public struct ServiceCatalogue: Sendable {
    public private(set) var entries: [ServiceEntry]
    /// Keys (class, protocol, port; see ``key(_:_:_:)``), 0 for an empty slot.
    private var slotKeys: [UInt32] = []
    /// The entry index of each slot's key.
    private var slotEntries: [Int32] = []
    private var slotShift: UInt32 = 32

    public init(entries: [ServiceEntry]) {
        self.entries = entries
        rebuildIndex()
    }

    /// The built-in catalogue.
    public static let builtIn = ServiceCatalogue(entries: builtInEntries)

    /// The service of `serviceClass` on `proto`/`port`, if the catalogue has one.
    @inline(__always)
    public func lookup(_ serviceClass: ServiceClass, _ proto: IPProtocol, _ port: UInt16) -> ServiceEntry? {
        guard let i = find(Self.key(serviceClass, proto, port)) else { return nil }
        return entries[i]
    }

    /// Adds entries to a class, or replaces the class's entries.
    public mutating func apply(_ serviceClass: ServiceClass, entries added: [ServiceEntry], replace: Bool) {
        if replace { entries.removeAll { $0.serviceClass == serviceClass } }
        entries += added
        rebuildIndex()
    }

    @inline(__always)
    private func find(_ key: UInt32) -> Int? {
        slotKeys.withUnsafeBufferPointer { keys in
            let mask = keys.count - 1
            var slot = Int((key &* 0x9E37_79B1) >> slotShift)
            while true {
                let k = keys[slot]
                if k == key { return Int(slotEntries[slot]) }
                if k == 0 { return nil }
                slot = (slot &+ 1) & mask
            }
        }
    }

    private mutating func rebuildIndex() {
        var keys: [UInt32] = [], owners: [Int32] = []
        var seen = Set<UInt32>()
        for (i, entry) in entries.enumerated() {
            var port = Int(entry.spec.lowPort)
            while port <= Int(entry.spec.highPort) {
                let key = Self.key(entry.serviceClass, entry.spec.proto, UInt16(port))
                if seen.insert(key).inserted {  // first entry wins
                    keys.append(key)
                    owners.append(Int32(i))
                }
                port += 1
            }
        }
        // At most a quarter full: probes stay short.
        var bits: UInt32 = 4
        while (1 << bits) < keys.count * 4 { bits += 1 }
        slotShift = 32 - bits
        slotKeys = [UInt32](repeating: 0, count: 1 << bits)
        slotEntries = [Int32](repeating: 0, count: 1 << bits)
        let mask = (1 << bits) - 1
        for (key, owner) in zip(keys, owners) {
            var slot = Int((key &* 0x9E37_79B1) >> slotShift)
            while slotKeys[slot] != 0 { slot = (slot &+ 1) & mask }
            slotKeys[slot] = key
            slotEntries[slot] = owner
        }
    }

    /// Class, protocol and port in one word; never 0 (the class's bit is set).
    @inline(__always)
    private static func key(_ serviceClass: ServiceClass, _ proto: IPProtocol, _ port: UInt16) -> UInt32 {
        let c: UInt32
        switch serviceClass {
        case .management: c = 1
        case .console: c = 2
        case .migration: c = 4
        case .storage: c = 8
        }
        return c << 24 | UInt32(proto.rawValue) << 16 | UInt32(port)
    }
}

extension ServiceCatalogue {
    // Sources: ../shared/reference/virtualization-traffic.md §2-3 (vendor port tables).
    static let builtInEntries: [ServiceEntry] = {
        var e: [ServiceEntry] = []
        func add(_ proto: IPProtocol, _ low: UInt16, _ high: UInt16? = nil, _ name: String, _ product: String, _ c: ServiceClass, distinctive: Bool) {
            e.append(ServiceEntry(ServiceSpec(proto: proto, lowPort: low, highPort: high ?? low), name: name, product: product, class: c, distinctive: distinctive))
        }
        // Management: hypervisor-specific services first (distinctive), then generic ones.
        add(.tcp, 902, nil, "vmware-authd", "vmware", .management, distinctive: true)
        add(.udp, 902, nil, "vmware-heartbeat", "vmware", .management, distinctive: true)
        add(.tcp, 5988, nil, "cim-http", "vmware", .management, distinctive: true)
        add(.tcp, 5989, nil, "cim-https", "vmware", .management, distinctive: true)
        add(.tcp, 427, nil, "slp", "vmware", .management, distinctive: true)
        add(.udp, 427, nil, "slp", "vmware", .management, distinctive: true)
        add(.tcp, 8889, nil, "openwsman", "vmware", .management, distinctive: true)
        add(.tcp, 5480, nil, "vcenter-vami", "vmware", .management, distinctive: true)
        add(.tcp, 8892, nil, "xapi-clustering", "xenserver", .management, distinctive: true)
        add(.tcp, 21064, nil, "xapi-clustering", "xenserver", .management, distinctive: true)
        add(.udp, 5404, 5405, "corosync", "xenserver", .management, distinctive: true)
        add(.tcp, 8006, nil, "pveproxy", "proxmox", .management, distinctive: true)
        add(.udp, 5406, 5412, "corosync", "proxmox", .management, distinctive: true)
        add(.tcp, 9363, nil, "xen-api", "xen", .management, distinctive: true)
        add(.tcp, 9367, nil, "xen-api-tls", "xen", .management, distinctive: true)
        add(.tcp, 18083, nil, "vboxwebsrv", "virtualbox", .management, distinctive: true)
        add(.tcp, 16509, nil, "libvirt-tcp", "kvm", .management, distinctive: true)
        add(.tcp, 16514, nil, "libvirt-tls", "kvm", .management, distinctive: true)
        add(.tcp, 54321, nil, "vdsm", "ovirt", .management, distinctive: true)
        add(.tcp, 6100, nil, "ovirt-websocket-proxy", "ovirt", .management, distinctive: true)
        add(.tcp, 2222, nil, "ovirt-serial-console", "ovirt", .management, distinctive: true)
        add(.tcp, 8774, nil, "nova-api", "openstack", .management, distinctive: true)
        add(.tcp, 9696, nil, "neutron-api", "openstack", .management, distinctive: true)
        add(.tcp, 6640, nil, "ovsdb", "openstack", .management, distinctive: true)
        add(.tcp, 6641, 6642, "ovn-db", "openstack", .management, distinctive: true)
        add(.tcp, 6653, nil, "openflow", "openstack", .management, distinctive: true)
        add(.udp, 623, nil, "ipmi-rmcp", "bmc", .management, distinctive: true)
        add(.tcp, 443, nil, "https", "generic", .management, distinctive: false)
        add(.tcp, 80, nil, "http", "generic", .management, distinctive: false)
        add(.tcp, 22, nil, "ssh", "generic", .management, distinctive: false)
        add(.tcp, 23, nil, "telnet", "generic", .management, distinctive: false)
        add(.udp, 161, nil, "snmp", "generic", .management, distinctive: false)
        add(.tcp, 135, nil, "msrpc", "hyper-v", .management, distinctive: false)
        add(.tcp, 5985, nil, "winrm-http", "hyper-v", .management, distinctive: false)
        add(.tcp, 5986, nil, "winrm-https", "hyper-v", .management, distinctive: false)
        add(.tcp, 5000, nil, "keystone", "openstack", .management, distinctive: false)
        add(.tcp, 5671, 5672, "amqp", "openstack", .management, distinctive: false)
        // Consoles.
        add(.tcp, 5900, 5999, "vnc-spice", "generic", .console, distinctive: true)
        add(.tcp, 2179, nil, "vmconnect", "hyper-v", .console, distinctive: true)
        add(.tcp, 3128, nil, "spiceproxy", "proxmox", .console, distinctive: true)
        add(.tcp, 6080, nil, "novnc", "openstack", .console, distinctive: true)
        add(.tcp, 6082, nil, "spice-html5", "openstack", .console, distinctive: true)
        add(.tcp, 3389, nil, "rdp-vrde", "virtualbox", .console, distinctive: false)
        // Migration.
        add(.tcp, 8000, nil, "vmotion", "vmware", .migration, distinctive: true)
        add(.tcp, 8100, nil, "vmware-ft", "vmware", .migration, distinctive: true)
        add(.udp, 8100, nil, "vmware-ft", "vmware", .migration, distinctive: true)
        add(.tcp, 8200, nil, "vmware-ft", "vmware", .migration, distinctive: true)
        add(.udp, 8200, nil, "vmware-ft", "vmware", .migration, distinctive: true)
        add(.tcp, 8300, nil, "vmware-ft", "vmware", .migration, distinctive: true)
        add(.udp, 8300, nil, "vmware-ft", "vmware", .migration, distinctive: true)
        add(.udp, 8301, 8302, "vmware-dvssync", "vmware", .migration, distinctive: true)
        add(.tcp, 6600, nil, "hyperv-live-migration", "hyper-v", .migration, distinctive: true)
        add(.tcp, 49152, 49216, "qemu-migration", "kvm", .migration, distinctive: true)
        add(.tcp, 60000, 60050, "proxmox-insecure-migration", "proxmox", .migration, distinctive: true)
        add(.tcp, 8002, nil, "xend-relocation", "xen", .migration, distinctive: true)
        add(.tcp, 8003, nil, "xend-relocation-ssl", "xen", .migration, distinctive: true)
        add(.tcp, 10809, nil, "nbd", "generic", .migration, distinctive: true)
        // Storage.
        add(.tcp, 3260, nil, "iscsi", "generic", .storage, distinctive: true)
        add(.tcp, 2049, nil, "nfs", "generic", .storage, distinctive: true)
        add(.udp, 2049, nil, "nfs", "generic", .storage, distinctive: true)
        // NFSv3's MOUNT service: Linux's fixed port (rpc.mountd, nfs.conf), which clients call from reserved ports.
        add(.tcp, 20048, nil, "nfs-mountd", "generic", .storage, distinctive: true)
        add(.udp, 20048, nil, "nfs-mountd", "generic", .storage, distinctive: true)
        add(.tcp, 4420, nil, "nvme-tcp", "generic", .storage, distinctive: true)
        add(.tcp, 8009, nil, "nvme-tcp-discovery", "generic", .storage, distinctive: true)
        add(.tcp, 3300, nil, "ceph-mon", "ceph", .storage, distinctive: true)
        add(.tcp, 6789, nil, "ceph-mon", "ceph", .storage, distinctive: true)
        add(.tcp, 6800, 7300, "ceph-osd", "ceph", .storage, distinctive: true)
        add(.tcp, 2233, nil, "vsan-rdt", "vmware", .storage, distinctive: true)
        add(.udp, 12321, nil, "vsan-unicast", "vmware", .storage, distinctive: true)
        add(.udp, 12345, nil, "vsan-cmmds", "vmware", .storage, distinctive: true)
        add(.udp, 23451, nil, "vsan-cmmds", "vmware", .storage, distinctive: true)
        add(.tcp, 445, nil, "smb", "generic", .storage, distinctive: false)
        return e
    }()
}
