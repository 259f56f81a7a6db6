import Vocabulary

/// ONC RPC (RFC 5531) calls to NFS (program 100003) and MOUNT (100005), over
/// TCP with record marking or over UDP. Reports NFS as storage, by program
/// number rather than port, and calls that carry only AUTH_SYS or AUTH_NONE
/// credentials (no RPCSEC_GSS, no RPC-over-TLS): the server trusts the uid
/// the client claims.
final class ONCRPCInspector: StreamInspector {
    static let name = "oncrpc"
    static let transports: [IPProtocol] = [.tcp, .udp]
    static let appProtocols = ["nfs"]

    private let recordMarking: Bool
    /// Record marking: 4 bytes (last-fragment bit, 31-bit length); only a call's header and credential are read.
    private var records = RecordHeads(lengthBytes: 4, keep: 4 + callHead) { head in
        let length = Int(ONCRPCInspector.u32(head, 0) & 0x7FFF_FFFF)
        return length <= 1 << 24 ? 4 + length : nil
    }
    private var announced = false
    /// Whether a call other than NULL has shown the credential flavour.
    private var decided = false
    private var calls = 0
    /// A call's header, verifier-free part: 32 bytes, then the credential (AUTH_SYS: at most 400 bytes).
    static let callHead = 32 + 400 + 8
    static let programs: [UInt32: String] = [100_003: "NFS", 100_005: "MOUNT"]

    init(recordMarking: Bool) { self.recordMarking = recordMarking }

    /// Record marking over TCP, none over UDP.
    static func make(transport: IPProtocol) -> ONCRPCInspector { ONCRPCInspector(recordMarking: transport == .tcp) }

    static func recognize(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ hints: FlowHints) -> ONCRPCInspector? {
        guard fromClient else { return nil }
        let tcp = hints.transport == .tcp
        let o = tcp ? 4 : 0
        guard bytes.count >= o + 24 else { return nil }
        let msgType = u32(bytes, o + 4), rpcVersion = u32(bytes, o + 8), program = u32(bytes, o + 12)
        guard msgType == 0, rpcVersion == 2, programs[program] != nil else { return nil }
        if tcp && u32(bytes, 0) & 0x7FFF_FFFF > 1 << 20 { return nil }
        return ONCRPCInspector(recordMarking: tcp)
    }

    static func u32(_ b: UnsafeRawBufferPointer, _ o: Int) -> UInt32 {
        UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3])
    }

    static func u32(_ b: [UInt8], _ o: Int) -> UInt32 {
        UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3])
    }

    func consume(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ out: inout InspectionOutput) {
        out.appProtocol = "nfs"
        guard fromClient else { return }
        guard recordMarking else {
            call(UnsafeRawBufferPointer(rebasing: bytes.prefix(Self.callHead)), &out)
            if decided || calls >= 64 { out.finished = true }
            return
        }
        let framed = records.feed(bytes) { head, _ in
            head.withUnsafeBytes { call(UnsafeRawBufferPointer(rebasing: $0.dropFirst(4)), &out) }
            return !decided && calls < 64
        }
        if !framed || decided || calls >= 64 { out.finished = true }
    }

    /// One call's first bytes: xid, type, RPC version, program, version, procedure, credential.
    private func call(_ m: UnsafeRawBufferPointer, _ out: inout InspectionOutput) {
        guard m.count >= 32, Self.u32(m, 4) == 0, Self.u32(m, 8) == 2, let name = Self.programs[Self.u32(m, 12)] else { return }
        calls += 1
        if !announced {
            announced = true
            out.events.append(.storage(InfrastructureEvent(proto: "nfs", product: "generic", detail: "ONC RPC to \(name) (program \(Self.u32(m, 12)))",
                                                           evidence: [("rpc_program", .text(name)), ("rpc_version", .number(Int(Self.u32(m, 16))))])))
        }
        // Procedure 0 (NULL) is a ping, sent without credentials by every client.
        guard Self.u32(m, 20) != 0 else { return }
        // The first real call shows the flavour the client mounted with: the rest of the flow uses it too.
        decided = true
        let flavor = Self.u32(m, 24)
        let credentialLength = Int(Self.u32(m, 28))
        guard flavor <= 1 else { return }
        var evidence: Evidence = [("rpc_program", .text(name)), ("credential_flavor", .text(flavor == 0 ? "AUTH_NONE" : "AUTH_SYS"))]
        if flavor == 1, credentialLength >= 20, m.count >= 32 + credentialLength {
            // AUTH_SYS: stamp, machine name (string), uid, gid, gids.
            let nameLength = Int(Self.u32(m, 36))
            let padded = (nameLength + 3) / 4 * 4
            if nameLength < 256, 40 + padded + 8 <= m.count {
                evidence.append(("machine_name", .text(ByteText.string(UnsafeRawBufferPointer(rebasing: m[40..<(40 + nameLength)])))))
                evidence.append(("uid", .number(Int(Self.u32(m, 40 + padded)))))
            }
        }
        out.events.append(.storageWeakAuthentication(InfrastructureEvent(
            proto: "nfs", product: "generic", detail: "\(name) calls with \(flavor == 0 ? "AUTH_NONE" : "AUTH_SYS") only", evidence: evidence)))
    }
}
