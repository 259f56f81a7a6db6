import Vocabulary

/// rsh (TCP 514): the client sends `stderr-port\0client-user\0server-user\0command\0`
/// and the server answers `\0` (accepted, by host trust alone) or `\1message`.
/// No password travels; the user names and the command do, in clear.
final class RshInspector: SimpleStreamInspector {
    static let name = "rsh"

    private var fields: [[UInt8]] = [[]]
    private var complete = false
    private var reported = false

    /// Port 514, and the client starts with the decimal stderr port and a NUL.
    static func recognize(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ hints: FlowHints) -> RshInspector? {
        guard hints.transport == .tcp, hints.serverPort == 514, fromClient else { return nil }
        let digits = bytes.prefix { $0 >= 48 && $0 <= 57 }
        guard digits.count <= 5, bytes.count > digits.count, bytes[digits.count] == 0 else { return nil }
        return RshInspector()
    }

    func consume(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ out: inout InspectionOutput) {
        out.appProtocol = "rsh"
        if fromClient {
            for b in bytes where !complete {
                if b == 0 {
                    if fields.count == 4 { complete = true } else { fields.append([]) }
                } else if fields[fields.count - 1].count < 1024 {
                    fields[fields.count - 1].append(b)
                }
            }
        } else if let first = bytes.first, complete {
            report(success: first == 0, &out)
        }
    }

    private func report(success: Bool?, _ out: inout InspectionOutput) {
        guard !reported, fields.count >= 3 else { return }
        reported = true
        out.events.append(.login(LoginEvent(
            proto: "rsh", user: ByteText.string(fields[2]), credential: .none("host trust (.rhosts)"),
            method: "rsh", success: success,
            evidence: [("client_user", .text(ByteText.string(fields[1]))), ("command_length", .number(fields.count >= 4 ? fields[3].count : 0))])))
        out.finished = true
    }

    func finish(_ out: inout InspectionOutput) {
        if complete { report(success: nil, &out) }
    }
}
