import Vocabulary

/// libvirt RPC in clear (libvirtd's TCP listener, 16509): every message carries
/// a length, a program number and a procedure. Readable program numbers mean
/// the connection has no TLS and no SASL encryption layer. An AUTH_LIST reply
/// offering only NONE means the daemon accepts clients without authentication.
final class LibvirtInspector: SimpleStreamInspector {
    static let name = "libvirt"

    private var client: [UInt8] = []
    private var server: [UInt8] = []
    private var announced = false
    private var authListSerial: UInt32?
    private var reportedNone = false

    static let programs: Set<UInt32> = [0x2000_8086, 0x2000_8087, 0x0006_8000, 0x0690_0690, 0x6B65_6570]
    static let procAuthList: UInt32 = 66

    static func recognize(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ hints: FlowHints) -> LibvirtInspector? {
        guard hints.transport == .tcp, bytes.count >= 28 else { return nil }
        let program = UInt32(bytes[4]) << 24 | UInt32(bytes[5]) << 16 | UInt32(bytes[6]) << 8 | UInt32(bytes[7])
        return programs.contains(program) ? LibvirtInspector() : nil
    }

    func consume(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ out: inout InspectionOutput) {
        out.appProtocol = "libvirt"
        if !announced {
            announced = true
            out.events.append(.cleartextService(proto: "libvirt", detail: "libvirt RPC without TLS or SASL encryption"))
        }
        if fromClient {
            client += bytes
            while let message = Self.next(&client) { handle(message, fromClient: true, &out) }
        } else {
            server += bytes
            while let message = Self.next(&server) { handle(message, fromClient: false, &out) }
        }
    }

    private static func u32(_ b: [UInt8], _ o: Int) -> UInt32 {
        UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3])
    }

    /// One message (u32 length including itself) off the front of `buffer`.
    private static func next(_ buffer: inout [UInt8]) -> [UInt8]? {
        guard buffer.count >= 4 else { return nil }
        let length = Int(u32(buffer, 0))
        guard length >= 28, length <= 1 << 20 else { buffer.removeAll(); return nil }
        guard buffer.count >= length else { return nil }
        let message = Array(buffer[..<length])
        buffer.removeFirst(length)
        return message
    }

    private func handle(_ m: [UInt8], fromClient: Bool, _ out: inout InspectionOutput) {
        let program = Self.u32(m, 4), procedure = Self.u32(m, 12), type = Self.u32(m, 16), serial = Self.u32(m, 20), status = Self.u32(m, 24)
        guard program == 0x2000_8086 else { return }
        if fromClient && type == 0 && procedure == Self.procAuthList {
            authListSerial = serial
        } else if !fromClient && type == 1 && status == 0 && procedure == Self.procAuthList && serial == authListSerial, m.count >= 32 {
            let count = Int(Self.u32(m, 28))
            guard count >= 0, count <= 16, m.count >= 32 + 4 * count else { return }
            let types = (0..<count).map { Self.u32(m, 32 + 4 * $0) }
            if (types.isEmpty || types.allSatisfy { $0 == 0 }) && !reportedNone {
                reportedNone = true
                out.events.append(.anonymousAccess(LoginEvent(
                    proto: "libvirt", user: nil, credential: .none("auth type none"), method: "libvirt without authentication",
                    success: true, evidence: [("auth_types", .list(types.map(String.init)))])))
            }
        }
    }
}
