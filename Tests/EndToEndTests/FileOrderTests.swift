import CaptureBuilder
import Foundation
import Testing
import Zones

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

    /// A folder's files have no given order among themselves: named against
    /// their time order, they are read in time order without a note, and the
    /// summary marks none as read out of the given order. A file named before
    /// the folder but later in time is.
    @Test func aFolderHasNoGivenOrder() throws {
        let dir = temporaryDirectory()
        let folder = dir.appendingPathComponent("rotated")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let source = repoPath("Captures/cleartext-admin-login.pcap")
        // "a" is two days after "b": the names sort against time.
        try Self.shifted(source, by: 2 * 86_400, to: folder.appendingPathComponent("a.pcap").path)
        try Data(contentsOf: URL(fileURLWithPath: source)).write(to: folder.appendingPathComponent("b.pcap"))
        let r = try zonewarden(["analyze", "-c", "config/example.yaml", "--summary", "-o", "/dev/null", folder.path])
        #expect(r.status == 0 && !r.stderr.contains("reading the captures in the order") && !r.stderr.contains("out of the given order"), "\(r.stderr)")
        let late = dir.appendingPathComponent("late.pcap").path
        try Self.shifted(source, by: 4 * 86_400, to: late)
        let mixed = try zonewarden(["analyze", "-c", "config/example.yaml", "--summary", "-o", "/dev/null", late, folder.path])
        let marked = mixed.stderrLines.filter { $0.contains("out of the given order") }
        #expect(mixed.stderr.contains("reading the captures in the order of their first packets") && marked.count == 3, "\(mixed.stderr)")
    }

    /// Time that jumps inside one file: an FTP session from a guest to a
    /// management host, and between its USER and PASS one packet of another
    /// host stamped two days ahead or behind (a capturing host's clock
    /// glitch), the rest of the session five seconds later. The session is
    /// not ended by the glitch: its login is read as without it.
    @Test(arguments: [Int64(2 * 86_400), Int64(-2 * 86_400)])
    func aClockGlitchInsideAFileEndsNoSession(seconds: Int64) throws {
        let session = CaptureScript()
        let guest = CaptureBuilder.Host("192.168.100.10"), mgmt = CaptureBuilder.Host("10.10.0.5")
        session.tcp(client: guest, clientPort: 40_021, server: mgmt, serverPort: 21,
                    messages: ProtocolMessages.ftpLogin(user: "admin", password: "Gl1tch!pw", accepted: true))
        let glitch = CaptureScript()
        glitch.udp(client: CaptureBuilder.Host("192.168.100.20"), clientPort: 123, server: CaptureBuilder.Host("10.50.0.5"), serverPort: 123, request: [0x1B] + [UInt8](repeating: 0, count: 47))
        let pass = try #require(session.packets.firstIndex { String(decoding: $0.bytes, as: UTF8.self).contains("PASS ") })
        let glitched = CaptureScript()
        for (i, p) in session.packets.enumerated() {
            if i == pass {
                glitched.clock = UInt64(Int64(p.timestamp) + seconds * 1_000_000_000)
                glitched.append(glitch.packets[0].bytes)
            }
            glitched.clock = p.timestamp + (i >= pass ? 5_000_000_000 : 0)
            glitched.append(p.bytes)
        }
        let dir = temporaryDirectory()
        let plain = dir.appendingPathComponent("plain.pcap").path, jumpy = dir.appendingPathComponent("glitch.pcap").path
        try session.write(to: plain)
        try glitched.write(to: jumpy)
        let config = try ZoneConfig.load(path: repoPath("config/example.yaml"))
        func logins(_ path: String) throws -> [String] {
            try analyze(config: config, [path]).alerts.filter { $0.sid == 2001 || $0.sid == 1001 }
                .map { "\($0.sid) \($0.sourceIP!) \($0.destinationPort ?? 0) \($0.evidence.map { "\($0.0)=\($0.1)" })" }
        }
        let expected = try logins(plain)
        #expect(expected.contains { $0.hasPrefix("2001 192.168.100.10 21") && $0.contains("succeeded") }, "\(expected)")
        #expect(try logins(jumpy) == expected)
    }
}
