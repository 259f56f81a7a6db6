import Decode
import Vocabulary

extension BenchmarkCapture {
    /// What the traffic gives the rules and inspectors to do. The speed of the
    /// sensor depends on it more than on the packet count, so the benchmark
    /// measures each.
    public enum Mix: String, CaseIterable, Sendable {
        /// A data centre's everyday traffic: bulk TCP on VLANs, overlays and
        /// QinQ, storage and vMotion on their networks, about 1% of flows
        /// breaking the zone rules.
        case datacentre
        /// Every TCP flow opens with a protocol an inspector reads (TLS, SSH,
        /// HTTP, an iSCSI login, NFS, SMB2, LDAP, FTP, telnet, RFB, PostgreSQL
        /// and MySQL logins), every UDP flow is SNMP; between guests, so that
        /// the recognizers and inspectors work (TLS between guests and the
        /// database logins are recognised by none yet and cost the attempt),
        /// and the rules fire on what the inspectors report (cleartext
        /// logins, consoles).
        case inspect
        /// Short flows, about a quarter of them findings (a guest reaching
        /// management or storage, cleartext logins to management hosts, iSCSI
        /// without CHAP) between many distinct hosts, so that throttling hides
        /// few: several findings per thousand packets.
        case alerts
        /// Every flow a guest reaching a management host, each pair of hosts
        /// once: hundreds of thousands of alerts, for the cost of one alert in
        /// each format.
        case storm
    }

    /// The openings of the `inspect` mix: (server port, dialogue). Built once.
    static let inspectedOpenings: [(port: UInt16, dialogue: ProtocolMessages.Dialogue)] = {
        let M = ProtocolMessages.self
        let ssh: ProtocolMessages.Dialogue = [(false, Array("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n".utf8)), (true, Array("SSH-2.0-OpenSSH_9.6\r\n".utf8))]
        // PostgreSQL: a StartupMessage (protocol 3.0), the server asks for a cleartext password.
        let startup = Array("user\0app\0database\0orders\0\0".utf8)
        let postgres: ProtocolMessages.Dialogue = [(true, Frames.be32(UInt32(8 + startup.count)) + Frames.be32(196_608) + startup),
                                                   (false, [0x52] + Frames.be32(8) + Frames.be32(3))]
        // MySQL: the server's handshake v10 greeting.
        let greeting = [10] + Array("8.0.36\0".utf8) + [1, 0, 0, 0] + [UInt8](repeating: 0x41, count: 8) + [0, 0xFF, 0xF7, 0x21, 2, 0, 0xFF, 0x81, 21]
            + [UInt8](repeating: 0, count: 10) + [UInt8](repeating: 0x42, count: 13) + Array("caching_sha2_password\0".utf8)
        let mysql: ProtocolMessages.Dialogue = [(false, [UInt8(greeting.count), 0, 0, 0] + greeting)]
        return [
            (443, M.tlsHandshake(offered: 0x0304, selected: 0x0304)),
            (22, ssh),
            (80, M.httpPage()),
            (3260, M.iscsiLogin(initiator: "iqn.1998-01.com.vmware:esxi1", target: "iqn.2010-06.com.example:san.lun0", auth: "CHAP", accepted: true)),
            (2049, [(true, M.rpcCall(program: 100_003, procedure: 1, flavor: 6))]),
            (445, M.smbSession(signed: true)),
            (389, [(true, M.ldapStartTLS(id: 1)), (false, M.ldapExtendedResponse(id: 1, code: 0))]),
            (21, M.ftpAuthTLS()),
            (23, M.telnetLogin(user: "app", password: "app-password-1", accepted: true)),
            (5900, M.rfb(offered: [19], chosen: 19, accepted: true)),
            (5432, postgres),
            (3306, mysql),
        ]
    }()

    /// A host at an IPv4 address (as a 32-bit number), with a MAC derived from it.
    static func host(_ ipv4: UInt32) -> Host { Host(mac: MACAddress(rawValue: 0x0200_0000_0000 | UInt64(ipv4)), ip: IPAddress(ipv4: ipv4)) }

    /// A flow of `mix` (not `datacentre`, which ``makeFlow(index:generation:rng:)`` makes).
    static func makeMixFlow(_ mix: Mix, index: Int, generation: Int, rng: inout SeededRandom) -> Flow {
        let n = UInt32(index)
        // Each (index, generation) a new pair of hosts: guests run through
        // 192.168.100.0/22, their peers through 192.168.101-103 and the
        // management and storage hosts through their /24s.
        let serial = UInt32(truncatingIfNeeded: generation &* 7_919 &+ index)
        let guest = host(0xC0A8_6400 | (serial % 1024))
        let peer = host(0xC0A8_6500 | ((serial / 1024 + n) % 768))
        let clientPort = UInt16(1024 + (index * 13 + generation * 7) % 60000)
        let guestVLAN = [Frames.dot1q(100 + UInt16(serial % 20))]
        var flow: Flow
        switch mix {
        case .datacentre:
            return makeFlow(index: index, generation: generation, rng: &rng)
        case .inspect:
            if rng.next() % 10 == 0 {
                // SNMP polling from the management network.
                flow = Flow(shape: .vlanUDP, client: host(0x0A0A_0000 | (serial % 200 + 1)), server: peer,
                            clientPort: clientPort, serverPort: 161, tags: guestVLAN)
                flow.dialogue = [(true, ProtocolMessages.snmp(version: 1, community: "monitoring-ro", requestID: Int(serial % 30_000), response: false)),
                                 (false, ProtocolMessages.snmp(version: 1, community: "monitoring-ro", requestID: Int(serial % 30_000), response: true))]
            } else {
                let opening = inspectedOpenings[Int(rng.next() % UInt64(inspectedOpenings.count))]
                flow = Flow(shape: .vlanTCP, client: guest, server: peer, clientPort: clientPort, serverPort: opening.port, tags: guestVLAN)
                flow.dialogue = opening.dialogue
            }
        case .alerts:
            let management = host(0x0A0A_0000 | (serial % 250 + 3))
            switch rng.next() % 16 {
            case 0:
                flow = Flow(shape: .vlanTCP, client: guest, server: management, clientPort: clientPort, serverPort: 443, tags: guestVLAN)
            case 1:
                flow = Flow(shape: .vlanTCP, client: guest, server: host(0x0A14_0000 | (serial % 250 + 3)),
                            clientPort: clientPort, serverPort: 3260, tags: guestVLAN)
            case 2:
                flow = Flow(shape: .vlanTCP, client: host(0x0A63_0000 | (serial % 250 + 3)), server: management,
                            clientPort: clientPort, serverPort: 23, tags: [Frames.dot1q(10)])
                flow.dialogue = ProtocolMessages.telnetLogin(user: "root", password: "Bench-Pass-1", accepted: true)
            case 3:
                flow = Flow(shape: .vlanTCP, client: host(0x0A14_0000 | (serial % 250 + 3)), server: Lab.san,
                            clientPort: clientPort, serverPort: 3260, tags: [Frames.dot1q(20)])
                flow.dialogue = ProtocolMessages.iscsiLogin(initiator: "iqn.1998-01.com.vmware:esxi-\(serial % 250)",
                                                            target: "iqn.2010-06.com.example:san.lun0", auth: "None", accepted: true)
            default:
                let opening = inspectedOpenings[Int(rng.next() % UInt64(inspectedOpenings.count))]
                flow = Flow(shape: .vlanTCP, client: guest, server: peer, clientPort: clientPort, serverPort: opening.port, tags: guestVLAN)
                flow.dialogue = opening.dialogue
            }
        case .storm:
            // Guest g (of 1,024) reaches management host m (of 250): 256,000 distinct pairs.
            let g = serial % 1024, m = (serial / 1024) % 250
            flow = Flow(shape: .vlanTCP, client: host(0xC0A8_6400 | g), server: host(0x0A0A_0000 | (m + 3)),
                        clientPort: clientPort, serverPort: 443, tags: guestVLAN)
        }
        // Long enough for the handshake, the opening, some data and the close.
        switch (mix, flow.shape) {
        case (_, .vlanUDP): flow.length = 2 * Int(1 + rng.next() % 3)
        case (.storm, _): flow.length = 6
        case (.alerts, _): flow.length = flow.dialogue.count + Int(6 + rng.next() % 20)
        default: flow.length = flow.dialogue.count + Int(8 + rng.next() % 100)
        }
        return flow
    }
}
