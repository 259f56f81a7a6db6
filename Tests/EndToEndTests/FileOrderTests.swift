import Foundation
import Testing

/// `analyze` reads its files in the order of their first packets.
@Suite("Files in time order")
struct FileOrderTests {
    /// A copy of a (nanosecond) pcap file with every packet `seconds` later.
    static func shifted(_ path: String, by seconds: UInt32, to copy: String) throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(bytes.count > 24 && bytes[0..<4] == [0x4D, 0x3C, 0xB2, 0xA1], "a little-endian nanosecond pcap")
        var offset = 24
        while offset + 16 <= bytes.count {
            let seconds0 = UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
            let moved = seconds0 &+ seconds
            for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: moved >> (8 * UInt32(i))) }
            let length = Int(bytes[offset + 8]) | Int(bytes[offset + 9]) << 8 | Int(bytes[offset + 10]) << 16 | Int(bytes[offset + 11]) << 24
            offset += 16 + length
        }
        try Data(bytes).write(to: URL(fileURLWithPath: copy))
    }

    /// The same capture and a copy two days later, given in either order: the
    /// same alerts, every login of both read (given late file first, the early
    /// file's flows used to join the late file's open flows unread).
    @Test func filesGivenOutOfOrderAreReadInTimeOrder() throws {
        let dir = temporaryDirectory()
        let early = dir.appendingPathComponent("early.pcap").path, late = dir.appendingPathComponent("late.pcap").path
        try Data(contentsOf: URL(fileURLWithPath: repoPath("Captures/cleartext-admin-login.pcap"))).write(to: URL(fileURLWithPath: early))
        try Self.shifted(early, by: 2 * 86_400, to: late)
        let one = try zonewarden(["analyze", "-c", "config/example.yaml", "--format", "eve", early])
        let logins = one.stdoutLines.filter { $0.contains("\"signature_id\":2001") }.count
        #expect(one.status == 0 && logins >= 3)
        let inOrder = try zonewarden(["analyze", "-c", "config/example.yaml", "--format", "eve", early, late])
        let reversed = try zonewarden(["analyze", "-c", "config/example.yaml", "--format", "eve", late, early])
        #expect(inOrder.status == 0 && inOrder.stderr.isEmpty, "\(inOrder.stderr)")
        #expect(reversed.status == 0 && reversed.stderrLines == ["zonewarden: reading the captures in the order of their first packets: \(early), \(late)"],
                "\(reversed.stderr)")
        #expect(reversed.stdoutLines == inOrder.stdoutLines)
        #expect(reversed.stdoutLines.filter { $0.contains("\"signature_id\":2001") }.count == 2 * logins)
    }
}
