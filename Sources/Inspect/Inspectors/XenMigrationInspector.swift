import Vocabulary

/// Xen migration streams in clear: libxc's stream v2/v3 image header (eight
/// 0xFF bytes, `XENF`), libxl's `LibxlFmt`, XAPI's `XenSavedDomv2-`, and
/// xend's relocation (`receive` then `LinuxGuestRecord`, TCP 8002).
final class XenMigrationInspector: SimpleStreamInspector {
    static let name = "xen-migration"

    static func recognize(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ hints: FlowHints) -> XenMigrationInspector? {
        guard hints.transport == .tcp, fromClient, bytes.count >= 8 else { return nil }
        if bytes.count >= 12, bytes.prefix(8).allSatisfy({ $0 == 0xFF }), bytes[8] == 0x58, bytes[9] == 0x45, bytes[10] == 0x4E, bytes[11] == 0x46 {
            return XenMigrationInspector()
        }
        if ByteText.hasPrefix(bytes, "LibxlFmt") || ByteText.hasPrefix(bytes, "XenSavedDomv2-") || ByteText.hasPrefix(bytes, "receive\n")
            || ByteText.hasPrefix(bytes, "LinuxGuestRecord") {
            return XenMigrationInspector()
        }
        return nil
    }

    func consume(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ out: inout InspectionOutput) {
        out.appProtocol = "xen-migration"
        let (signature, what): (String, String)
        if bytes.first == 0xFF {
            let version = bytes.count >= 16 ? Int(bytes[12]) << 24 | Int(bytes[13]) << 16 | Int(bytes[14]) << 8 | Int(bytes[15]) : 0
            (signature, what) = ("XENF", "libxc migration stream v\(version)")
        } else if ByteText.hasPrefix(bytes, "LibxlFmt") {
            (signature, what) = ("LibxlFmt", "libxl migration stream")
        } else if ByteText.hasPrefix(bytes, "XenSavedDomv2-") {
            (signature, what) = ("XenSavedDomv2-", "XAPI domain image (XenMotion)")
        } else {
            (signature, what) = ("LinuxGuestRecord", "xend relocation")
        }
        out.events.append(.migration(InfrastructureEvent(proto: "xen-migration", product: "xen", detail: what,
                                                         evidence: [("signature", .text(signature))])))
        out.finished = true
    }
}
