import Vocabulary

/// iSCSI login (RFC 7143 §11.12-11.13): Login Request and Response PDUs with
/// their text keys. Reports the session (initiator and target names) as
/// storage, and a login that reaches full-feature phase without
/// authentication: `AuthMethod=None` chosen, or a first login that skips the
/// security stage (CSG = operational).
final class ISCSIInspector: SimpleStreamInspector {
    static let name = "iscsi"

    /// The start of a PDU that has not fully arrived, per side (most PDUs arrive whole and are read from the segment).
    private var client: [UInt8] = []
    private var server: [UInt8] = []
    private var initiatorName: String?
    private var targetName: String?
    private var sessionType: String?
    private var firstLoginSeen = false
    private var skippedSecurity = false
    private var chosenAuth: String?
    private var announced = false
    private var decided = false
    static let maximumPDU = 64 * 1024

    /// A Login Request (opcode 0x03, usually with the immediate bit: 0x43).
    static func recognize(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ hints: FlowHints) -> ISCSIInspector? {
        guard hints.transport == .tcp, fromClient, bytes.count >= 48, bytes[0] & 0x3F == 0x03, bytes[4] == 0 else { return nil }
        let dataLength = Int(bytes[5]) << 16 | Int(bytes[6]) << 8 | Int(bytes[7])
        return dataLength < maximumPDU ? ISCSIInspector() : nil
    }

    func consume(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ out: inout InspectionOutput) {
        out.appProtocol = "iscsi"
        if (fromClient ? client : server).isEmpty {
            let used = pdus(bytes, fromClient: fromClient, &out)
            if used < bytes.count && !out.finished {
                if fromClient { client += UnsafeRawBufferPointer(rebasing: bytes[used...]) } else { server += UnsafeRawBufferPointer(rebasing: bytes[used...]) }
            }
        } else if fromClient {
            client += bytes
            let used = client.withUnsafeBytes { pdus($0, fromClient: true, &out) }
            client.removeFirst(used)
        } else {
            server += bytes
            let used = server.withUnsafeBytes { pdus($0, fromClient: false, &out) }
            server.removeFirst(used)
        }
    }

    /// The whole PDUs (48-byte header, AHS, data padded to 4 bytes) at the
    /// front of `bytes`, each handed on; returns the bytes they took. A length
    /// beyond any login PDU means this is not (or no longer) a login phase to
    /// follow: inspection ends.
    private func pdus(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ out: inout InspectionOutput) -> Int {
        var offset = 0
        while !out.finished, bytes.count - offset >= 48 {
            let ahs = Int(bytes[offset + 4]) * 4
            let data = Int(bytes[offset + 5]) << 16 | Int(bytes[offset + 6]) << 8 | Int(bytes[offset + 7])
            let length = 48 + ahs + (data + 3) / 4 * 4
            guard length <= Self.maximumPDU else {
                out.finished = true
                return bytes.count
            }
            guard bytes.count - offset >= length else { break }
            let pdu = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)])
            if fromClient { clientPDU(pdu, &out) } else { serverPDU(pdu, &out) }
            offset += length
        }
        return offset
    }

    /// The `key=value\0` pairs of a PDU's data segment whose key is one of
    /// `wanted`, as strings (the others are skipped without building any).
    private static func textKeys(_ pdu: UnsafeRawBufferPointer, _ wanted: [StaticString], _ found: (Int, String) -> Void) {
        let data = Int(pdu[5]) << 16 | Int(pdu[6]) << 8 | Int(pdu[7])
        let start = 48 + Int(pdu[4]) * 4
        guard start + data <= pdu.count else { return }
        var i = start
        let end = start + data
        while i < end {
            let pairEnd = ByteText.index(of: 0, in: pdu, from: i, to: end) ?? end
            if let eq = ByteText.index(of: 0x3D, in: pdu, from: i, to: pairEnd) {
                let key = pdu[i..<eq]
                if let which = wanted.firstIndex(where: { w in w.withUTF8Buffer { key.elementsEqual($0) } }) {
                    found(which, ByteText.string(pdu[(eq + 1)..<pairEnd]))
                }
            }
            i = pairEnd + 1
        }
    }

    static let clientKeys: [StaticString] = ["InitiatorName", "TargetName", "SessionType"]
    static let serverKeys: [StaticString] = ["AuthMethod"]

    private func clientPDU(_ pdu: UnsafeRawBufferPointer, _ out: inout InspectionOutput) {
        guard pdu[0] & 0x3F == 0x03 else {
            if firstLoginSeen { out.finished = decided }
            return
        }
        let csg = (pdu[1] >> 2) & 3
        if !firstLoginSeen {
            firstLoginSeen = true
            skippedSecurity = csg == 1
        }
        Self.textKeys(pdu, Self.clientKeys) { which, value in
            switch which {
            case 0: initiatorName = value
            case 1: targetName = value
            default: sessionType = value
            }
        }
        if !announced {
            announced = true
            out.events.append(.storage(InfrastructureEvent(proto: "iscsi", product: "generic", detail: "iSCSI login", evidence: names(extra: 0))))
        }
    }

    /// The session's names, with room for `extra` more items (one allocation).
    private func names(extra: Int) -> Evidence {
        var e: Evidence = []
        e.reserveCapacity(3 + extra)
        if let i = initiatorName { e.append(("initiator", .text(i))) }
        if let t = targetName { e.append(("target", .text(t))) }
        e.append(("session_type", .text(sessionType ?? "Normal")))
        return e
    }

    private func serverPDU(_ pdu: UnsafeRawBufferPointer, _ out: inout InspectionOutput) {
        guard pdu[0] & 0x3F == 0x23, !decided else { return }
        Self.textKeys(pdu, Self.serverKeys) { chosenAuth = $1 }
        let transit = pdu[1] & 0x80 != 0
        let nsg = pdu[1] & 3
        let statusClass = pdu[36]
        if statusClass != 0 {
            decided = true  // the target refused the login
            out.finished = true
            return
        }
        guard transit && nsg == 3 else { return }  // not yet in full-feature phase
        decided = true
        let normal = (sessionType ?? "Normal") == "Normal"
        if normal && (skippedSecurity || chosenAuth == "None") {
            var e = names(extra: 1)
            e.append(("auth_method", .text(skippedSecurity ? "none (no security negotiation)" : "None")))
            out.events.append(.storageWithoutAuthentication(InfrastructureEvent(
                proto: "iscsi", product: "generic",
                detail: skippedSecurity ? "iSCSI login skipped the security stage" : "iSCSI login with AuthMethod=None", evidence: e)))
        }
        out.finished = true
    }
}
