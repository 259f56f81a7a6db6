import Vocabulary

/// Every application inspector, in the order they are tried on the first
/// bytes each side of a flow sends (the cheapest exact signatures first).
/// A new inspector is one file in `Inspectors/` plus its line in ``all``:
/// recognition per transport, the application protocol ids of flow records,
/// the fuzz harness and the fuzz seeds all derive from this list.
public enum InspectorRegistry {
    static let all: [any StreamInspector.Type] = [
        SNMPInspector.self,
        IPMIInspector.self,
        SSHInspector.self,
        TLSInspector.self,
        RFBInspector.self,
        FTPInspector.self,
        TelnetInspector.self,
        HTTPInspector.self,
        LDAPInspector.self,
        RDPInspector.self,
        SPICEInspector.self,
        LibvirtInspector.self,
        RloginInspector.self,
        RshInspector.self,
        ISCSIInspector.self,
        ONCRPCInspector.self,
        NVMeTCPInspector.self,
        CephInspector.self,
        SMBInspector.self,
        QEMUMigrationInspector.self,
        XenMigrationInspector.self,
        VirtualBoxTeleporterInspector.self,
        NBDInspector.self,
        PostgreSQLInspector.self,
        MySQLInspector.self,
        RedisInspector.self,
    ]

    /// The inspectors tried on TCP and on UDP flows, in ``all`` order.
    static let tcp = all.filter { $0.transports.contains(.tcp) }
    static let udp = all.filter { $0.transports.contains(.udp) }

    static func recognize(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ hints: FlowHints) -> (any StreamInspector)? {
        for inspector in hints.transport == .udp ? udp : tcp {
            if let recognized = recognize(inspector, bytes, fromClient: fromClient, hints) { return recognized }
        }
        return nil
    }

    private static func recognize<T: StreamInspector>(_ type: T.Type, _ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ hints: FlowHints) -> (any StreamInspector)? {
        T.recognize(bytes, fromClient: fromClient, hints)
    }

    /// Every application protocol an inspector reports; a flow record keeps
    /// its position + 1 (``Flows/FlowRecord/appProtocol``, 0: none).
    public static let protocolNames: [String] = all.flatMap { $0.appProtocols }

    static func protocolID(_ name: String) -> UInt8 { protocolIDs[name] ?? 0 }

    /// ``protocolNames`` by name (a search of the list cost hundreds of instructions per inspected packet).
    private static let protocolIDs: [String: UInt8] = Dictionary(
        protocolNames.enumerated().map { ($1, UInt8($0 + 1)) }, uniquingKeysWith: { first, _ in first })

    /// The application protocol name for a flow record's id.
    public static func protocolName(_ id: UInt8) -> String? {
        id == 0 || Int(id) > protocolNames.count ? nil : protocolNames[Int(id) - 1]
    }
}
