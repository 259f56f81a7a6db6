import Vocabulary

/// SMB2/3 (MS-SMB2) over TCP: after a successful SESSION_SETUP, requests that
/// are neither signed (header flag 0x08) nor encrypted (transform header
/// `0xFD SMB`) can be altered in transit. Storage shares used by hypervisors
/// (Hyper-V over SMB 3) should sign or encrypt.
final class SMBInspector: SimpleStreamInspector {
    static let name = "smb"

    /// NetBIOS session framing: a zero byte and a 24-bit length; only the SMB2 header (64 bytes) is read.
    private var client = SMBInspector.framing()
    private var server = SMBInspector.framing()
    private var sessionEstablished = false
    private var announced = false
    private var checked = 0

    static func framing() -> RecordHeads {
        RecordHeads(lengthBytes: 4, keep: 4 + 64) { head in
            head[0] == 0 ? 4 + (Int(head[1]) << 16 | Int(head[2]) << 8 | Int(head[3])) : nil
        }
    }

    static func recognize(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ hints: FlowHints) -> SMBInspector? {
        guard hints.transport == .tcp, fromClient, bytes.count >= 8, bytes[0] == 0,
              bytes[4] == 0xFE || bytes[4] == 0xFF, bytes[5] == 0x53, bytes[6] == 0x4D, bytes[7] == 0x42 else { return nil }
        return SMBInspector()
    }

    func consume(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ out: inout InspectionOutput) {
        out.appProtocol = "smb"
        if !announced {
            announced = true
            out.events.append(.storage(InfrastructureEvent(proto: "smb", product: "generic", detail: "SMB file access")))
        }
        let framed = fromClient ? client.feed(bytes) { head, _ in message(head, &out) } : server.feed(bytes) { head, _ in message(head, &out) }
        if !framed { out.finished = true }
    }

    /// One message's first bytes (NetBIOS header included); false once decided.
    private func message(_ head: [UInt8], _ out: inout InspectionOutput) -> Bool {
        let message = head.dropFirst(4)
        let m = message.startIndex
        if message.count >= 4 && message[m] == 0xFD && message[m + 1] == 0x53 {  // transform header: encrypted
            out.finished = true
            return false
        }
        guard message.count >= 64, message[m] == 0xFE, message[m + 1] == 0x53 else { return true }
        let command = UInt16(message[m + 12]) | UInt16(message[m + 13]) << 8
        let flags = UInt32(message[m + 16]) | UInt32(message[m + 17]) << 8 | UInt32(message[m + 18]) << 16 | UInt32(message[m + 19]) << 24
        let status = UInt32(message[m + 8]) | UInt32(message[m + 9]) << 8 | UInt32(message[m + 10]) << 16 | UInt32(message[m + 11]) << 24
        let isResponse = flags & 1 != 0
        if command == 1 && isResponse && status == 0 { sessionEstablished = true }
        guard sessionEstablished && !isResponse && command > 1 else { return true }
        checked += 1
        if flags & 0x08 == 0 {
            out.events.append(.storageWeakAuthentication(InfrastructureEvent(
                proto: "smb", product: "generic", detail: "SMB session neither signed nor encrypted",
                evidence: [("smb_command", .number(Int(command)))])))
            out.finished = true
            return false
        }
        if checked >= 4 { out.finished = true; return false }
        return true
    }
}
