import Vocabulary

/// NBD (the disk copy of QEMU, libvirt and XAPI storage migration): the server
/// greets with `NBDMAGIC`; the newstyle handshake (`IHAVEOPT`) lets the client
/// ask for STARTTLS (option 5). Without it, the disk's blocks travel in clear.
final class NBDInspector: SimpleStreamInspector {
    static let name = "nbd"

    private var client: [UInt8] = []
    private var reported = false

    static func recognize(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ hints: FlowHints) -> NBDInspector? {
        guard hints.transport == .tcp, !fromClient, ByteText.hasPrefix(bytes, "NBDMAGIC") else { return nil }
        return NBDInspector()
    }

    func consume(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ out: inout InspectionOutput) {
        out.appProtocol = "nbd"
        guard fromClient else { return }
        client += bytes
        // Client flags (4 bytes), then options: "IHAVEOPT", option (4), length (4), data.
        var o = 4
        while client.count >= o + 16 {
            guard client[o..<(o + 8)].elementsEqual("IHAVEOPT".utf8) else { break }
            let option = UInt32(client[o + 8]) << 24 | UInt32(client[o + 9]) << 16 | UInt32(client[o + 10]) << 8 | UInt32(client[o + 11])
            let length = Int(UInt32(client[o + 12]) << 24 | UInt32(client[o + 13]) << 16 | UInt32(client[o + 14]) << 8 | UInt32(client[o + 15]))
            if option == 5 {  // NBD_OPT_STARTTLS
                out.finished = true
                return
            }
            o += 16 + length
            if !reported {
                reported = true
                out.events.append(.migration(InfrastructureEvent(proto: "nbd", product: "generic", detail: "NBD disk export without STARTTLS",
                                                                 evidence: [("signature", .text("NBDMAGIC")), ("nbd_option", .number(Int(option)))])))
                out.finished = true
                return
            }
        }
        if client.count > 4096 { out.finished = true }
    }
}
