/// Feeds a dialogue straight to one inspector, without recognition: the
/// fuzzers reach each stream parser with arbitrary bytes this way, and the
/// regression tests replay what the fuzzers found.
public enum InspectorHarness {
    /// The inspectors, by index.
    public static let names = factories.map(\.name)

    static let factories: [(name: String, transport: UInt8, make: @Sendable () -> any StreamInspector)] = [
        ("telnet", 6, { TelnetInspector() }), ("rlogin", 6, { RloginInspector() }), ("rsh", 6, { RshInspector() }),
        ("ftp", 6, { FTPInspector() }), ("http", 6, { HTTPInspector() }), ("ldap", 6, { LDAPInspector() }),
        ("snmp", 17, { SNMPInspector() }), ("rfb", 6, { RFBInspector() }), ("spice", 6, { SPICEInspector() }),
        ("rdp", 6, { RDPInspector() }), ("tls", 6, { TLSInspector() }), ("ssh", 6, { SSHInspector() }),
        ("ipmi", 17, { IPMIInspector() }), ("libvirt", 6, { LibvirtInspector() }), ("iscsi", 6, { ISCSIInspector() }),
        ("oncrpc-tcp", 6, { ONCRPCInspector(recordMarking: true) }), ("oncrpc-udp", 17, { ONCRPCInspector(recordMarking: false) }),
        ("nvme-tcp", 6, { NVMeTCPInspector() }), ("ceph", 6, { CephInspector() }), ("smb", 6, { SMBInspector() }),
        ("qemu-migration", 6, { QEMUMigrationInspector() }), ("xen-migration", 6, { XenMigrationInspector() }),
        ("vbox-teleporter", 6, { VirtualBoxTeleporterInspector() }), ("nbd", 6, { NBDInspector() }),
    ]

    /// Runs `dialogue` (which side sent each piece) through inspector `index`
    /// (modulo the count), stopping where it says it has finished; returns how
    /// many events it reported.
    @discardableResult
    public static func run(_ index: Int, _ dialogue: [(fromClient: Bool, bytes: [UInt8])]) -> Int {
        let factory = factories[abs(index % factories.count)]
        let inspector = factory.make()
        var out = InspectionOutput()
        var events = 0
        for (fromClient, bytes) in dialogue {
            bytes.withUnsafeBytes { inspector.consume($0, fromClient: fromClient, &out) }
            events += out.events.count
            out.events.removeAll(keepingCapacity: true)
            if out.finished { return events }
        }
        inspector.finish(&out)
        return events + out.events.count
    }

    /// Cuts fuzz input into a dialogue: a byte whose low bit says the side and
    /// a byte giving the length of each piece (0: the rest).
    public static func dialogue(_ input: UnsafeRawBufferPointer) -> [(fromClient: Bool, bytes: [UInt8])] {
        var pieces: [(fromClient: Bool, bytes: [UInt8])] = []
        var i = 0
        while i + 2 <= input.count && pieces.count < 64 {
            let side = input[i] & 1 == 0
            var length = Int(input[i + 1])
            i += 2
            if length == 0 || i + length > input.count { length = input.count - i }
            pieces.append((side, Array(input[i..<(i + length)])))
            i += length
        }
        return pieces
    }
}
