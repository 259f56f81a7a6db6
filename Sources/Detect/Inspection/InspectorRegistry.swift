/// Every application inspector, tried in order on the first bytes each side of
/// a flow sends. A new inspector is one file in `Inspectors/` plus its line here.
enum InspectorRegistry {
    typealias Recognizer = @Sendable (UnsafeRawBufferPointer, Bool, FlowHints) -> (any StreamInspector)?

    /// UDP inspectors, in the order they are tried.
    static let udp: [Recognizer] = [
        { SNMPInspector.recognize($0, fromClient: $1, $2) },
        { IPMIInspector.recognize($0, fromClient: $1, $2) },
        { ONCRPCInspector.recognize($0, fromClient: $1, $2) },
    ]

    /// TCP inspectors, in the order they are tried (the cheapest exact signatures first).
    static let tcp: [Recognizer] = [
        { SSHInspector.recognize($0, fromClient: $1, $2) },
        { TLSInspector.recognize($0, fromClient: $1, $2) },
        { RFBInspector.recognize($0, fromClient: $1, $2) },
        { FTPInspector.recognize($0, fromClient: $1, $2) },
        { TelnetInspector.recognize($0, fromClient: $1, $2) },
        { HTTPInspector.recognize($0, fromClient: $1, $2) },
        { LDAPInspector.recognize($0, fromClient: $1, $2) },
        { RDPInspector.recognize($0, fromClient: $1, $2) },
        { SPICEInspector.recognize($0, fromClient: $1, $2) },
        { LibvirtInspector.recognize($0, fromClient: $1, $2) },
        { RloginInspector.recognize($0, fromClient: $1, $2) },
        { RshInspector.recognize($0, fromClient: $1, $2) },
        { ISCSIInspector.recognize($0, fromClient: $1, $2) },
        { ONCRPCInspector.recognize($0, fromClient: $1, $2) },
        { NVMeTCPInspector.recognize($0, fromClient: $1, $2) },
        { CephInspector.recognize($0, fromClient: $1, $2) },
        { SMBInspector.recognize($0, fromClient: $1, $2) },
        { QEMUMigrationInspector.recognize($0, fromClient: $1, $2) },
        { XenMigrationInspector.recognize($0, fromClient: $1, $2) },
        { VirtualBoxTeleporterInspector.recognize($0, fromClient: $1, $2) },
        { NBDInspector.recognize($0, fromClient: $1, $2) },
    ]

    static func recognize(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ hints: FlowHints) -> (any StreamInspector)? {
        for recognizer in hints.transport == 17 ? udp : tcp {
            if let inspector = recognizer(bytes, fromClient, hints) { return inspector }
        }
        return nil
    }

    /// Application protocol names by the small id kept in ``Flows/FlowRecord/appProtocol``.
    static let protocolNames = ["telnet", "rlogin", "rsh", "ftp", "vmauthd", "http", "ldap", "snmp", "spice", "rdp", "tls",
                                "rfb", "ipmi", "libvirt", "ssh", "iscsi", "nfs", "nvme-tcp", "ceph", "smb", "qemu-migration",
                                "xen-migration", "vbox-teleporter", "nbd"]

    static func protocolID(_ name: String) -> UInt8 {
        (protocolNames.firstIndex(of: name).map { UInt8($0 + 1) }) ?? 0
    }

    static func protocolName(_ id: UInt8) -> String? {
        id == 0 || Int(id) > protocolNames.count ? nil : protocolNames[Int(id) - 1]
    }
}
