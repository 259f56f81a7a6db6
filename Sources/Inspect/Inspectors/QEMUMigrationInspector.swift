import Vocabulary

/// QEMU's live-migration stream (libvirt's native migration, Proxmox VE's
/// `insecure` mode, OpenStack without native TLS): `QEVM` and the format
/// version, or a multifd side channel (magic 0x11223344). Seen at all, it is
/// the guest's memory in clear; TLS migration starts with a ClientHello instead.
final class QEMUMigrationInspector: SimpleStreamInspector {
    static let name = "qemu-migration"

    static func recognize(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ hints: FlowHints) -> QEMUMigrationInspector? {
        guard hints.transport == .tcp, fromClient, bytes.count >= 8 else { return nil }
        if ByteText.hasPrefix(bytes, "QEVM") || (bytes[0] == 0x11 && bytes[1] == 0x22 && bytes[2] == 0x33 && bytes[3] == 0x44) {
            return QEMUMigrationInspector()
        }
        return nil
    }

    func consume(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ out: inout InspectionOutput) {
        out.appProtocol = "qemu-migration"
        let version = bytes.count >= 8 ? UInt32(bytes[4]) << 24 | UInt32(bytes[5]) << 16 | UInt32(bytes[6]) << 8 | UInt32(bytes[7]) : 0
        let multifd = bytes.first == 0x11
        out.events.append(.migration(InfrastructureEvent(
            proto: "qemu-migration", product: "kvm",
            detail: multifd ? "QEMU multifd migration channel (magic 0x11223344)" : "QEMU migration stream (QEVM, version \(version))",
            evidence: [("signature", .text(multifd ? "0x11223344" : "QEVM")), ("stream_version", .number(Int(version)))])))
        out.finished = true
    }
}
