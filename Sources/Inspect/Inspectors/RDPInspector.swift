import Vocabulary

/// RDP connection negotiation (MS-RDPBCGR 2.2.1.1/2.2.1.2): the client's X.224
/// Connection Request with its `mstshash` cookie (a user name hint) and
/// requested protocols, the server's Connection Confirm with the selected
/// protocol. Selected protocol 0 (or no negotiation) is standard RDP security:
/// weak. TLS and CredSSP end the inspection.
final class RDPInspector: SimpleStreamInspector {
    static let name = "rdp"

    private var client: [UInt8] = []
    private var server: [UInt8] = []
    private var cookieUser: String?
    private var requested: UInt32?

    static func recognize(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ hints: FlowHints) -> RDPInspector? {
        // TPKT version 3, then an X.224 Connection Request (0xE0).
        guard hints.transport == .tcp, fromClient, bytes.count >= 7, bytes[0] == 3, bytes[1] == 0, bytes[5] & 0xF0 == 0xE0 else { return nil }
        return RDPInspector()
    }

    func consume(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ out: inout InspectionOutput) {
        out.appProtocol = "rdp"
        if fromClient {
            client += bytes
            guard let pdu = Self.tpkt(&client) else { return }
            parseRequest(pdu)
        } else {
            server += bytes
            guard let pdu = Self.tpkt(&server) else { return }
            parseConfirm(pdu, &out)
            out.finished = true
        }
    }

    /// One complete TPKT packet off the front of `buffer`.
    private static func tpkt(_ buffer: inout [UInt8]) -> [UInt8]? {
        guard buffer.count >= 4 else { return nil }
        let length = Int(buffer[2]) << 8 | Int(buffer[3])
        guard length >= 7, length <= 4096 else { buffer.removeAll(); return nil }
        guard buffer.count >= length else { return nil }
        let pdu = Array(buffer[..<length])
        buffer.removeFirst(length)
        return pdu
    }

    private func parseRequest(_ pdu: [UInt8]) {
        // TPKT (4) + X.224 length (1) + CR code (1) + dst ref (2) + src ref (2) + class (1) = 11 bytes.
        var o = 11
        let cookie = Array("Cookie: mstshash=".utf8)
        if pdu.count > o + cookie.count, Array(pdu[o..<(o + cookie.count)]) == cookie {
            let start = o + cookie.count
            if let end = pdu[start...].firstIndex(of: 0x0D) {
                cookieUser = ByteText.string(pdu[start..<end])
                o = end + 2
            }
        } else if let end = Self.lineEnd(pdu, from: o) {
            o = end  // a routing token
        }
        if pdu.count >= o + 8, pdu[o] == 0x01 {
            requested = UInt32(pdu[o + 4]) | UInt32(pdu[o + 5]) << 8 | UInt32(pdu[o + 6]) << 16 | UInt32(pdu[o + 7]) << 24
        }
    }

    private static func lineEnd(_ pdu: [UInt8], from o: Int) -> Int? {
        guard pdu.count > o + 1, pdu[o] != 0x01 else { return nil }
        guard let cr = pdu[o...].firstIndex(of: 0x0D), cr + 1 < pdu.count, pdu[cr + 1] == 0x0A else { return nil }
        return cr + 2
    }

    private func parseConfirm(_ pdu: [UInt8], _ out: inout InspectionOutput) {
        guard pdu.count >= 11, pdu[5] & 0xF0 == 0xD0 else { return }
        var selected: UInt32 = 0  // no negotiation response: standard RDP security
        if pdu.count >= 19 {
            let type = pdu[11]
            if type == 0x03 { return }  // negotiation failure: no session
            if type == 0x02 { selected = UInt32(pdu[15]) | UInt32(pdu[16]) << 8 | UInt32(pdu[17]) << 16 | UInt32(pdu[18]) << 24 }
        }
        out.events.append(.console(proto: "rdp", detail: "RDP, selected protocol \(selected)"))
        if selected == 0 {
            var evidence: Evidence = [("selected_protocol", .number(0))]
            if let requested { evidence.append(("requested_protocols", .number(Int(requested)))) }
            out.events.append(.weakAuthentication(LoginEvent(
                proto: "rdp", user: cookieUser, credential: .none("RDP standard security (RC4)"),
                method: "RDP standard security", success: nil, evidence: evidence)))
        }
    }
}
