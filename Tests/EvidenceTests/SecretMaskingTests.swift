import Inspect
import Testing
@testable import Evidence

/// ``SecretMasking``: what is overwritten in an evidence file, case by case.
@Suite("Secret masking")
struct SecretMaskingTests {
    /// A packet whose bytes are all payload (what masking may touch is the payload alone).
    static func packet(_ text: String, seq: UInt32 = 0, client: Bool = true, tcp: Bool = true, syn: Bool = false, header: Int = 0) -> StoredPacket {
        var flags: UInt8 = client ? StoredPacket.Flags.fromInitiator : 0
        flags |= tcp ? StoredPacket.Flags.tcp : StoredPacket.Flags.udp
        if syn { flags |= StoredPacket.Flags.syn }
        let bytes = [UInt8](repeating: 0x48, count: header) + Array(text.utf8)
        return StoredPacket(header: PacketArena.Header(previous: -1, flowID: 1, timestamp: 0, capturedLength: UInt32(bytes.count),
                                                       wireLength: UInt32(bytes.count), payloadOffset: UInt32(header),
                                                       payloadLength: UInt32(text.utf8.count), sequence: seq, linkType: 1, flags: flags),
                            bytes: bytes)
    }

    static func texts(_ packets: [StoredPacket]) -> [String] {
        packets.map { String(decoding: $0.bytes[$0.payloadRange], as: UTF8.self) }
    }

    static func secrets(_ values: String...) -> FlowSecrets {
        var s = FlowSecrets()
        for v in values { s.add(WireSecret(Array(v.utf8))) }
        return s
    }

    struct Row: CustomTestStringConvertible, Sendable {
        var name: String
        var packets: [StoredPacket]
        var secrets: FlowSecrets
        var cutAtEnd = false
        var expected: [String]
        var withheld = false
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "a PASS line in one segment",
            packets: [packet("", seq: 99, syn: true), packet("USER bob\r\n", seq: 100), packet("331 Password\r\n", client: false), packet("PASS hunter2\r\n", seq: 110)],
            secrets: secrets("hunter2"), expected: ["", "USER bob\r\n", "331 Password\r\n", "PASS *******\r\n"]),
        Row(name: "typed a character per segment, out of order, one retransmitted",
            packets: [packet("p", seq: 10), packet("w", seq: 12), packet("a", seq: 11), packet("w", seq: 12), packet("\r\n", seq: 13)],
            secrets: secrets("paw"), expected: ["*", "*", "*", "*", "\r\n"]),
        Row(name: "the file begins inside a secret typed again later",
            packets: [packet("ier\r\nnapier\r\n", seq: 500)], secrets: secrets("napier"), expected: ["***\r\n******\r\n"]),
        Row(name: "the file holds only a part of the secret: the client's payload is withheld",
            packets: [packet("ier\r\ndir\r\n", seq: 500), packet("C:\\>", client: false)], secrets: secrets("napier"),
            expected: ["**********", "C:\\>"], withheld: true),
        Row(name: "with the SYN kept, a first byte like the secret's last is not a cut secret",
            packets: [packet("", seq: 0, syn: true), packet("0\u{2}\u{1}\u{1}`-x", seq: 1), packet("rdsk/c0t0d0s0", seq: 8)],
            secrets: secrets("rdsk/c0t0d0s0"), expected: ["", "0\u{2}\u{1}\u{1}`-x", "*************"]),
        Row(name: "a file cut inside a secret at its end, the secret whole before",
            packets: [packet("", seq: 0, syn: true), packet("PASS hunter2\r\nPASS hun", seq: 1)], secrets: secrets("hunter2"), cutAtEnd: true,
            expected: ["", "PASS *******\r\nPASS ***"]),
        Row(name: "the flow ended in the file: its last bytes are not a cut secret",
            packets: [packet("", seq: 0, syn: true), packet("PASS hunter2\r\nQUIT h", seq: 1)], secrets: secrets("hunter2"), cutAtEnd: false,
            expected: ["", "PASS *******\r\nQUIT h"]),
        Row(name: "a community in every datagram, both ways, after headers",
            packets: [packet("0..s3cr3t..get", tcp: false, header: 8), packet("0..s3cr3t..resp", client: false, tcp: false, header: 8)],
            secrets: secrets("s3cr3t"), expected: ["0..******..get", "0..******..resp"]),
        Row(name: "a one-character password is masked in what the client sent only",
            packets: [packet("", seq: 0, syn: true), packet("PASS 1\r\n", seq: 1), packet("", seq: 50, client: false, syn: true), packet("530 Login incorrect\r\n", seq: 51, client: false)],
            secrets: secrets("1"), expected: ["", "PASS *\r\n", "", "530 Login incorrect\r\n"]),
        Row(name: "a secret found nowhere withholds the client's payload, not the server's",
            packets: [packet("USER bob\r\n", seq: 1), packet("230 ok\r\n", client: false)],
            secrets: secrets("not-in-file"), expected: ["**********", "230 ok\r\n"], withheld: true),
        Row(name: "both sides withheld (a dialogue joined midway)",
            packets: [packet("AUTH x\r\n", seq: 1), packet("+OK\r\n", client: false)],
            secrets: { var s = FlowSecrets(); s.withholdInitiator = true; s.withholdResponder = true; return s }(),
            expected: ["********", "*****"], withheld: true),
        Row(name: "no secret: nothing changes",
            packets: [packet("GET / HTTP/1.1\r\n", seq: 1)], secrets: FlowSecrets(), expected: ["GET / HTTP/1.1\r\n"]),
    ]

    @Test(arguments: rows)
    func masks(_ row: Row) {
        var packets = row.packets
        let outcome = SecretMasking.mask(&packets, row.secrets, cutAtEnd: row.cutAtEnd)
        #expect(Self.texts(packets) == row.expected)
        #expect(outcome.withheld == row.withheld)
        // Headers (bytes before the payload) are never touched, and every packet keeps its length.
        for (before, after) in zip(row.packets, packets) {
            #expect(after.bytes.count == before.bytes.count)
            #expect(after.bytes[..<after.payloadRange.lowerBound] == before.bytes[..<before.payloadRange.lowerBound])
        }
    }

    /// A secret's bytes are never in what describes it.
    @Test func wireSecretsDoNotPrint() {
        let s = WireSecret(Array("hunter2".utf8))
        var dumped = ""
        dump(s, to: &dumped)
        #expect(!"\(s)".contains("hunter2") && !String(reflecting: s).contains("hunter2") && !dumped.contains("hunter2"), "\(dumped)")
    }
}

/// Kerberos `EncryptedData` found by its DER shape: the cipher is masked in
/// every length form, with or without a key version, cut off by the
/// payload's end too; other DER (a certificate's version) is left alone, and
/// hostile bytes never read out of bounds.
@Suite("Kerberos ciphers")
struct KerberosCipherTests {
    /// `SEQUENCE { [0] etype, [1] kvno?, [2] OCTET STRING cipher }` with `cipher` bytes of 0x5A.
    static func encryptedData(cipher: Int, kvno: Bool = false) -> [UInt8] {
        func length(_ n: Int) -> [UInt8] { n < 0x80 ? [UInt8(n)] : n < 0x100 ? [0x81, UInt8(n)] : [0x82, UInt8(n >> 8), UInt8(n & 0xFF)] }
        let octets = [0x04] + length(cipher) + [UInt8](repeating: 0x5A, count: cipher)
        let content = [0xA0, 0x03, 0x02, 0x01, 0x12] + (kvno ? [0xA1, 0x03, 0x02, 0x01, 0x02] : []) + [0xA2] + length(octets.count) + octets
        return [0x30] + length(content.count) + content
    }

    func mask(_ bytes: [UInt8]) -> (masked: Int, bytes: [UInt8]) {
        var copy = bytes
        let n = copy.withUnsafeMutableBytes { SecretMasking.maskKerberosCiphers($0) }
        return (n, copy)
    }

    @Test(arguments: [(56, false), (56, true), (200, false), (1_000, true), (0x3010, false)])
    func everyLengthForm(cipher: Int, kvno: Bool) {
        // Around it, what a KDC message has: an application tag and other fields.
        let message: [UInt8] = [0x6A, 0x20, 0xA1, 0x03, 0x02, 0x01, 0x05] + Self.encryptedData(cipher: cipher, kvno: kvno) + [0xA4, 0x02, 0x05, 0x00]
        let (n, masked) = mask(message)
        #expect(n == cipher)
        #expect(!masked.contains(0x5A), "every cipher byte masked")
        #expect(Array(masked.suffix(4)) == [0xA4, 0x02, 0x05, 0x00] && Array(masked.prefix(7)) == Array(message.prefix(7)))
    }

    @Test func cutByThePayloadsEnd() {
        let whole = Self.encryptedData(cipher: 100)
        let (n, masked) = mask(Array(whole.prefix(60)))
        #expect(n > 0 && !masked.contains(0x5A))
    }

    @Test func otherDERIsLeftAlone() {
        // A certificate's TBSCertificate: version [0] INTEGER 2, then the serial (an INTEGER, not [1] or [2]).
        let certificate: [UInt8] = [0x30, 0x0C, 0xA0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x05, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A]
        #expect(mask(certificate).masked == 0)
        // The shape, but lengths that do not add up.
        var wrong = Self.encryptedData(cipher: 20)
        wrong[1] &+= 1
        #expect(mask(wrong).masked == 0)
    }

    @Test func hostileBytes() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            var bytes = (0..<Int.random(in: 0...96, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Seed the pattern somewhere so the parser runs past it.
            if bytes.count > 8 { bytes.replaceSubrange(2..<6, with: [0xA0, 0x03, 0x02, 0x01]) }
            _ = mask(bytes)
        }
    }
}
