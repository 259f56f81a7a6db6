import Vocabulary

/// VirtualBox teleporting: the target greets with `VirtualBox-Teleporter-1.0`;
/// the source answers with a hash of the teleporter password (replayable) and
/// the machine state follows, with no encryption in the code path.
final class VirtualBoxTeleporterInspector: SimpleStreamInspector {
    static let name = "vbox-teleporter"

    static func recognize(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ hints: FlowHints) -> VirtualBoxTeleporterInspector? {
        guard hints.transport == .tcp, !fromClient, ByteText.hasPrefix(bytes, "VirtualBox-Teleporter-") else { return nil }
        return VirtualBoxTeleporterInspector()
    }

    func consume(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ out: inout InspectionOutput) {
        out.appProtocol = "vbox-teleporter"
        out.events.append(.migration(InfrastructureEvent(
            proto: "vbox-teleporter", product: "virtualbox", detail: "VirtualBox teleporter (password hash and machine state in clear)",
            evidence: [("signature", .text("VirtualBox-Teleporter"))])))
        out.finished = true
    }
}
