import Vocabulary

/// SSH (RFC 4253): the identification string is the last cleartext; the flow is
/// encrypted from the key exchange on, so inspection stops here.
final class SSHInspector: SimpleStreamInspector {
    static let name = "ssh"

    static func recognize(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ hints: FlowHints) -> SSHInspector? {
        guard hints.transport == .tcp, ByteText.hasPrefix(bytes, "SSH-") else { return nil }
        return SSHInspector()
    }

    func consume(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ out: inout InspectionOutput) {
        out.appProtocol = "ssh"
        out.finished = true
    }
}
