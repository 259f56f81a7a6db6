import Vocabulary

/// SPICE (spice-protocol `SpiceLinkHeader`): a channel that starts with the
/// `REDQ` magic is a plain channel, not TLS: a VM console whose session is
/// unencrypted.
final class SPICEInspector: SimpleStreamInspector {
    static let name = "spice"

    static func recognize(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ hints: FlowHints) -> SPICEInspector? {
        guard hints.transport == .tcp, fromClient, ByteText.hasPrefix(bytes, "REDQ") else { return nil }
        return SPICEInspector()
    }

    func consume(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ out: inout InspectionOutput) {
        out.appProtocol = "spice"
        var version = "?"
        if bytes.count >= 12 {
            let major = UInt32(bytes[4]) | UInt32(bytes[5]) << 8 | UInt32(bytes[6]) << 16 | UInt32(bytes[7]) << 24
            let minor = UInt32(bytes[8]) | UInt32(bytes[9]) << 8 | UInt32(bytes[10]) << 16 | UInt32(bytes[11]) << 24
            version = "\(major).\(minor)"
        }
        out.events.append(.console(proto: "spice", detail: "SPICE \(version) plain channel"))
        out.events.append(.weakAuthentication(LoginEvent(
            proto: "spice", user: nil, credential: .none("ticket"), method: "SPICE without TLS", success: nil,
            evidence: [("spice_version", .text(version))])))
        out.finished = true
    }
}
