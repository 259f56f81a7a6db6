import Vocabulary

/// NVMe/TCP (NVMe over Fabrics TCP transport): the host's Initialize
/// Connection Request PDU (type 0x00, header length 128, PDU data offset 0,
/// PDU length 128) opens every connection.
final class NVMeTCPInspector: SimpleStreamInspector {
    static let name = "nvme-tcp"

    static func recognize(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ hints: FlowHints) -> NVMeTCPInspector? {
        guard hints.transport == .tcp, fromClient, bytes.count >= 10, bytes[0] == 0x00, bytes[2] == 0x80, bytes[3] == 0x00,
              bytes[4] == 0x80, bytes[5] == 0, bytes[6] == 0, bytes[7] == 0, bytes[8] == 0, bytes[9] == 0 else { return nil }
        return NVMeTCPInspector()
    }

    func consume(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ out: inout InspectionOutput) {
        out.appProtocol = "nvme-tcp"
        out.events.append(.storage(InfrastructureEvent(proto: "nvme-tcp", product: "generic", detail: "NVMe/TCP connection (ICReq)")))
        out.finished = true
    }
}
