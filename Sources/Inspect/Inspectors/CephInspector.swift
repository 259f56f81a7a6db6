import Vocabulary

/// Ceph's messenger: the banner `ceph v027` (msgr1, never encrypted) or
/// `ceph v2\n` (msgr2, `crc` or `secure` mode) opens every connection.
final class CephInspector: SimpleStreamInspector {
    static let name = "ceph"

    static func recognize(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ hints: FlowHints) -> CephInspector? {
        guard hints.transport == .tcp, ByteText.hasPrefix(bytes, "ceph v") else { return nil }
        return CephInspector()
    }

    func consume(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ out: inout InspectionOutput) {
        out.appProtocol = "ceph"
        let v1 = ByteText.hasPrefix(bytes, "ceph v027")
        out.events.append(.storage(InfrastructureEvent(
            proto: "ceph", product: "ceph", detail: v1 ? "Ceph messenger v1 (never encrypted)" : "Ceph messenger v2",
            evidence: [("messenger", .text(v1 ? "msgr1" : "msgr2"))])))
        out.finished = true
    }
}
