import Vocabulary

/// TLS handshakes on management services: the versions the client offers and
/// the version the server selects (the `supported_versions` extension for
/// TLS 1.3). A management service that negotiates SSL 3.0, TLS 1.0 or 1.1 is
/// weakly protected.
final class TLSInspector: SimpleStreamInspector {
    static let name = "tls"

    private var client: [UInt8] = []
    private var server: [UInt8] = []
    private var offered: UInt16 = 0

    static func recognize(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ hints: FlowHints) -> TLSInspector? {
        guard hints.transport == .tcp, hints.managementService, fromClient, bytes.count >= 6,
              bytes[0] == 0x16, bytes[1] == 0x03, bytes[5] == 0x01 else { return nil }
        return TLSInspector()
    }

    static func versionName(_ v: UInt16) -> String {
        switch v {
        case 0x0300: return "SSL 3.0"
        case 0x0301: return "TLS 1.0"
        case 0x0302: return "TLS 1.1"
        case 0x0303: return "TLS 1.2"
        case 0x0304: return "TLS 1.3"
        default: return String(format16: v)
        }
    }

    func consume(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ out: inout InspectionOutput) {
        out.appProtocol = "tls"
        if fromClient {
            client += bytes
            if let hello = Self.handshake(&client, type: 0x01) { offered = Self.version(hello, isClient: true) }
        } else {
            server += bytes
            guard let hello = Self.handshake(&server, type: 0x02) else {
                if server.count > 16 * 1024 { out.finished = true }
                return
            }
            let selected = Self.version(hello, isClient: false)
            if selected != 0 && selected < 0x0303 {
                out.events.append(.weakAuthentication(LoginEvent(
                    proto: "tls", user: nil, credential: .none("TLS"), method: "\(Self.versionName(selected)) on a management service",
                    success: nil, evidence: [("tls_version", .text(Self.versionName(selected))), ("client_max_version", .text(Self.versionName(offered)))])))
            }
            out.finished = true
        }
    }

    /// The body of the first handshake message of `type` in the TLS records at the front of `buffer`.
    private static func handshake(_ buffer: inout [UInt8], type: UInt8) -> [UInt8]? {
        guard buffer.count >= 9, buffer[0] == 0x16 else { return nil }
        let recordLength = Int(buffer[3]) << 8 | Int(buffer[4])
        guard buffer.count >= 5 + recordLength, buffer[5] == type else { return nil }
        let length = Int(buffer[6]) << 16 | Int(buffer[7]) << 8 | Int(buffer[8])
        guard 9 + length <= 5 + recordLength else { return nil }  // fragmented across records: rare for hellos
        return Array(buffer[9..<(9 + length)])
    }

    /// The highest version a ClientHello offers, or the one a ServerHello selects.
    private static func version(_ h: [UInt8], isClient: Bool) -> UInt16 {
        guard h.count >= 38 else { return 0 }
        var best = UInt16(h[0]) << 8 | UInt16(h[1])
        var o = 34
        let sessionLength = Int(h[o]); o += 1 + sessionLength
        if isClient {
            guard h.count >= o + 2 else { return best }
            o += 2 + (Int(h[o]) << 8 | Int(h[o + 1]))           // cipher suites
            guard h.count >= o + 1 else { return best }
            o += 1 + Int(h[o])                                    // compression methods
        } else {
            o += 3                                                // cipher suite, compression
        }
        guard h.count >= o + 2 else { return best }
        let end = min(h.count, o + 2 + (Int(h[o]) << 8 | Int(h[o + 1])))
        o += 2
        while o + 4 <= end {
            let type = Int(h[o]) << 8 | Int(h[o + 1]), length = Int(h[o + 2]) << 8 | Int(h[o + 3])
            let body = o + 4
            guard body + length <= end else { break }
            if type == 0x002B {  // supported_versions
                if isClient, length >= 1 {
                    var i = body + 1
                    while i + 1 < body + length {
                        let v = UInt16(h[i]) << 8 | UInt16(h[i + 1])
                        if v & 0x0F0F != 0x0A0A && v > best { best = v }  // ignore GREASE values
                        i += 2
                    }
                } else if !isClient, length == 2 {
                    best = UInt16(h[body]) << 8 | UInt16(h[body + 1])
                }
            }
            o = body + length
        }
        return best
    }
}

extension String {
    init(format16 v: UInt16) {
        self = "0x" + String(v, radix: 16)
    }
}
