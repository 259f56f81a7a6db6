import Decode
import Flows
import Inspect
import Vocabulary
import Zones

/// 4001: storage traffic (iSCSI, NFS, NVMe/TCP, Ceph, SMB, vSAN; FCoE, FIP,
/// AoE by EtherType) outside the storage network. IP protocols count when an
/// infrastructure host takes part (a tenant's own NFS between guests is not the
/// storage network); Ethernet storage always. A guest reaching a storage zone
/// is rule 1002's finding.
public final class StorageOutsideStorageNetworkRule: Rule {
    public static let metadata = RuleMetadata(
        sid: 4001, name: "storage-outside-storage-network", defaultSeverity: .high,
        measurePoint: "storage network separated",
        summary: "iSCSI, NFS/MOUNT (by RPC program), NVMe/TCP, Ceph, SMB and vSAN involving an infrastructure host, or FCoE, FIP and AoE frames, outside a storage zone; a storage VMkernel interface the inventory names seen outside a storage zone")
    public static let hooks: RuleHooks = [.flowStart, .appEvent, .oncePerFlow]
    private let guestRuleBit: UInt64
    static let etherTypes: [EtherType: String] = [.fcoe: "fcoe", .fip: "fip", .aoe: "aoe"]
    /// Catalogue services whose TCP streams an inspector recognises.
    static let inspected: Set<String> = ["iscsi", "nfs", "nfs-mountd", "nvme-tcp", "nvme-tcp-discovery", "ceph-mon", "ceph-osd"]
    /// Those whose UDP datagrams it recognises too: ONC RPC calls, each one whole.
    static let inspectedOverUDP: Set<String> = ["nfs", "nfs-mountd"]

    public init(_ setup: RuleSetup) {
        guestRuleBit = setup.firedBit(sid: GuestToStorageRule.metadata.sid)
    }

    public func flowStarted(_ e: FlowEvent, _ findings: inout [Finding]) {
        InfrastructureTraffic.misplacedVMkernels(e, serving: .storage, wrong: { $0 != .storage }, sid: Self.metadata.sid, network: "storage", &findings)
        if e.isEthernet {
            guard let name = Self.etherTypes[e.etherType] else { return }
            report(InfrastructureEvent(proto: name, product: "generic", detail: "EtherType 0x\(String(e.etherType.rawValue, radix: 16))"), e, &findings)
            return
        }
        guard e.hasPorts, let service = e.zones.services.lookup(.storage, e.ipProtocol, e.responderPort), service.distinctive else { return }
        // Protocols with an inspector are reported by it, with what it read (initiator and
        // target names) and only if the stream really is that protocol; the port decides
        // only for flows seen mid-stream, which are not inspected.
        if e.ipProtocol == .tcp && Self.inspected.contains(service.name) && !e.record.has(FlowState.midstream) { return }
        // Over UDP the inspector reports a flow that opens with a whole RPC call (with its
        // program); the port decides for one seen from its replies, or cut by the snap length.
        if e.ipProtocol == .udp && Self.inspectedOverUDP.contains(service.name) && Self.wholeRPCCall(e.packet) { return }
        report(InfrastructureEvent(proto: service.name, product: service.product, detail: "port \(e.service) (\(service.name))"), e, &findings)
    }

    /// A datagram opening with an RPC call, captured whole and long enough for its
    /// credential (what the inspector reads and announces the flow by).
    static func wholeRPCCall(_ p: UnsafePointer<DecodedPacket>) -> Bool {
        p.pointee.isRPCCall && p.pointee.payloadLength >= 32 && p.pointee.capturedLength >= p.pointee.payloadOffset + p.pointee.payloadLength
    }

    public func appEvent(_ e: FlowEvent, _ app: AppEvent, _ findings: inout [Finding]) {
        guard case .storage(let ev) = app else { return }
        report(ev, e, &findings)
    }

    private func report(_ ev: InfrastructureEvent, _ e: FlowEvent, _ findings: inout [Finding]) {
        guard e.record.firedRules & guestRuleBit == 0 else { return }
        guard e.isEthernet || InfrastructureTraffic.infrastructureEndpoints(e) > 0 else { return }
        guard let outside = InfrastructureTraffic.outside(.storage, e) else { return }
        findings.append(Finding(
            message: "\(ev.proto) storage traffic (\(ev.detail)) between \(e.initiatorEndpoint) and \(e.responderEndpoint) outside the storage network: \(outside)",
            evidence: InfrastructureTraffic.evidence(ev, outside: outside),
            key: InfrastructureTraffic.key(sid: Self.metadata.sid, e)))
    }
}
