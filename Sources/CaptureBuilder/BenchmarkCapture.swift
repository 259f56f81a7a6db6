import Capture
import Decode
import Vocabulary

/// A deterministic pseudo-random generator (xorshift64*), so that a seed always
/// builds the same capture.
public struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }
    public mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}

/// The benchmark capture: a data-centre mix of VLAN-tagged, QinQ, VXLAN and
/// Geneve traffic, IPv4 and IPv6, TCP, UDP and ICMP, with a fixed number of
/// concurrent flows that end and are replaced as the capture goes on. Addresses
/// come from the example site (`config/example.yaml`), so the zone rules run
/// on it as they would on a real site, and about 1% of flows break them.
///
/// Packets of one flow come in trains, as segmentation offload and TCP windows
/// put them on the wire: each time a flow is picked it sends up to `maxBurst`
/// packets (geometric, mean about 3 for the default 16). `maxBurst: 1` picks a
/// random flow for every packet, the worst case for the flow table's caches.
public enum BenchmarkCapture {
    public struct Result: Sendable {
        public var packets: Int
        public var bytes: Int
    }

    enum Shape: CaseIterable {
        case vlanTCP, vlanTCPv6, vlanUDP, vxlanTCP, qinqTCP, untaggedTCP, geneveTCP, icmp
    }

    struct Flow {
        var shape: Shape
        var client: Host
        var server: Host
        var clientPort: UInt16
        var serverPort: UInt16
        var tags: [VLANTag]
        var tunnel: Wire.Tunnel?
        var clientSeq: UInt32 = 1000
        var serverSeq: UInt32 = 5000
        var step = 0
        var length = 0
        var openingSent = false
        /// Whether each side has sent a payload yet (the inspectors have seen both).
        var clientData = false
        var serverData = false
        /// Messages sent after the handshake, before the bulk data (a protocol's opening).
        var dialogue: ProtocolMessages.Dialogue = []
        var dialogueSent = 0
    }

    /// - Parameter distinctMACs: make every other packet an ARP request from a
    ///   MAC address never seen before (a million MACs in two million packets),
    ///   to show that the sensor's memory does not grow with the MACs it sees.
    /// - Parameter openAll: begin with every flow's opening, flow by flow: its
    ///   handshake and packets until both sides have sent data (so the
    ///   inspectors have judged it), and let no flow end. Every packet after
    ///   the opening then belongs to one of exactly `flows` established flows,
    ///   whatever their number: the flow-count sweep of `scripts/bench` times
    ///   those packets, so that only the table's size differs between sizes.
    ///   `packets` then counts the packets after the opening.
    /// - Parameter mix: what the traffic gives the rules and inspectors to do (``Mix``).
    public static func write(path: String, packets: Int, flows flowCount: Int, maxBurst: Int = 16, seed: UInt64,
                             distinctMACs: Bool = false, openAll: Bool = false, mix: Mix = .datacentre) throws(CaptureError) -> Result {
        var rng = SeededRandom(seed: seed)
        let writer = try PcapWriter(path: path)
        let makeFlow = { (index: Int, generation: Int, rng: inout SeededRandom) -> Flow in
            mix == .datacentre ? Self.makeFlow(index: index, generation: generation, rng: &rng)
                               : Self.makeMixFlow(mix, index: index, generation: generation, rng: &rng)
        }
        var flows = (0..<flowCount).map { makeFlow($0, 0, &rng) }
        var generation = 1
        let script = CaptureScript(step: 2_000)  // 500k packets per second of capture time
        var bytes = 0
        var written = 0
        var packets = packets
        func emit(_ frame: [UInt8]) {
            writer.write(timestamp: script.clock, bytes: frame)
            script.clock += script.step
            bytes += frame.count
            written += 1
        }
        if openAll {
            for i in 0..<flowCount {
                flows[i].length = Int.max / 2
                while (!flows[i].clientData || !flows[i].serverData) && flows[i].step < 16 {
                    emit(nextPacket(&flows[i], script: script, rng: &rng, opening: true))
                }
            }
            packets += written  // `packets` counts those after the opening
        }
        while written < packets {
            // A few heavy flows carry much of the traffic, as in real data centres.
            let i = rng.next() % 8 == 0 ? Int(rng.next() % UInt64(min(flowCount, 64))) : Int(rng.next() % UInt64(flowCount))
            var burst = 1
            while burst < maxBurst && rng.next() % 10 < 7 { burst += 1 }
            for _ in 0..<burst where written < packets {
                emit(nextPacket(&flows[i], script: script, rng: &rng))
                if distinctMACs && written < packets {
                    let n = UInt64(written)
                    let sender = Host(mac: MACAddress(rawValue: 0x0600_0000_0000 | n), ip: IPAddress(ipv4: 0xC0A8_6400 | UInt32(n % 1000)))
                    let arp = script.frame(from: sender, to: Host(mac: .broadcast, ip: IPAddress(ipv4: 0xC0A8_6401)), etherType: 0x0806,
                                           payload: Frames.arp(operation: 1, senderMAC: sender.mac, senderIP: sender.ip, targetMAC: .zero, targetIP: IPAddress(ipv4: 0xC0A8_6401)),
                                           wire: .vlan(100 + UInt16(n % 20)))
                    emit(arp)
                }
                if flows[i].step >= flows[i].length && !openAll {
                    flows[i] = makeFlow(i, generation, &rng)
                    generation += 1
                    break
                }
            }
        }
        try writer.close()
        return Result(packets: written, bytes: bytes)
    }

    static func makeFlow(index: Int, generation: Int, rng: inout SeededRandom) -> Flow {
        let roll = rng.next() % 100
        let shape: Shape
        switch roll {
        case 0..<50: shape = .vlanTCP
        case 50..<60: shape = .vlanTCPv6
        case 60..<70: shape = .vlanUDP
        case 70..<82: shape = .vxlanTCP
        case 82..<88: shape = .qinqTCP
        case 88..<93: shape = .untaggedTCP
        case 93..<97: shape = .geneveTCP
        default: shape = .icmp
        }
        let n = UInt32(index)
        let guest = Host(mac: MACAddress(rawValue: 0x0250_0000_0000 | UInt64(n)), ip: IPAddress(ipv4: 0xC0A8_6400 | (n % 1000)))  // 192.168.100.0/22
        // Distinct keys for up to a million flows: the peer runs through all
        // thousand addresses for each guest (n = 1000q + r: peer 7r + q), and the
        // client port moves on after every 60,000 flows.
        let guestPeer = Host(mac: MACAddress(rawValue: 0x0251_0000_0000 | UInt64(n)), ip: IPAddress(ipv4: 0xC0A8_6500 | ((n % 1000 * 7 + n / 1000) % 1000)))
        let clientPort = UInt16(1024 + (index * 13 + index / 60000 * 17 + generation * 7) % 60000)
        var flow: Flow
        switch shape {
        case .vlanTCP:
            // Mostly guest-to-guest and guest-to-Internet web traffic, with management,
            // storage and vMotion flows on their own VLANs.
            switch rng.next() % 10 {
            case 9 where rng.next() % 10 == 0:
                // A guest reaching vCenter or the SAN: rules 1001/1002 (about 1% of flows).
                flow = Flow(shape: shape, client: guest, server: rng.next() % 2 == 0 ? Lab.vcenter : Lab.san, clientPort: clientPort,
                            serverPort: 443, tags: [Frames.dot1q(100 + UInt16(n % 20))])
            case 0:
                // Administration through the firewall: seen on the management VLAN with its MAC.
                flow = Flow(shape: shape, client: Host(mac: Lab.firewall.mac, ip: Lab.adminWorkstation.ip), server: Host(mac: MACAddress(rawValue: 0x0210_0000_0000 | UInt64(n % 64)), ip: IPAddress(ipv4: 0x0A0A_0000 | (n % 64))), clientPort: clientPort, serverPort: 443, tags: [Frames.dot1q(10)])
            case 1:
                // iSCSI (a login, then bulk blocks) and NFSv3 (a WRITE call per segment), for the storage inspectors.
                flow = Flow(shape: shape, client: Lab.esxi1Storage, server: n % 2 == 0 ? Lab.san : Lab.nas, clientPort: clientPort,
                            serverPort: n % 2 == 0 ? 3260 : 2049, tags: [Frames.dot1q(20)])
            case 2:
                flow = Flow(shape: shape, client: Lab.esxi1VMotion, server: Lab.esxi2VMotion, clientPort: clientPort, serverPort: 8000, tags: [Frames.dot1q(30)])
            case 3, 4:
                flow = Flow(shape: shape, client: guest, server: Host(mac: Lab.firewall.mac, ip: IPAddress(ipv4: 0xCB00_7100 | (n % 256))), clientPort: clientPort, serverPort: 443, tags: [Frames.dot1q(100 + UInt16(n % 20))])
            default:
                flow = Flow(shape: shape, client: guest, server: guestPeer, clientPort: clientPort, serverPort: [80, 443, 5432, 3306, 8080][Int(n % 5)], tags: [Frames.dot1q(100 + UInt16(n % 20))])
            }
        case .vlanTCPv6:
            let a = Host(mac: guest.mac, ip: IPAddress(high: 0xFD00_0100_0000_0000, low: UInt64(n) + 1))
            let b = Host(mac: guestPeer.mac, ip: IPAddress(high: 0xFD00_0100_0000_0000, low: UInt64(n) + 0x10_0000))
            flow = Flow(shape: shape, client: a, server: b, clientPort: clientPort, serverPort: 443, tags: [Frames.dot1q(100 + UInt16(n % 20))])
        case .vlanUDP:
            flow = Flow(shape: shape, client: Host(mac: Lab.firewall.mac, ip: guestPeer.ip), server: Lab.dns, clientPort: clientPort, serverPort: 53, tags: [Frames.dot1q(50)])
        case .vxlanTCP:
            flow = Flow(shape: shape, client: guest, server: guestPeer, clientPort: clientPort, serverPort: 8080, tags: [],
                        tunnel: .vxlan(vni: 5000, from: Lab.vtep1, to: Lab.vtep2, tags: [Frames.dot1q(40)]))
        case .qinqTCP:
            flow = Flow(shape: shape, client: guest, server: guestPeer, clientPort: clientPort, serverPort: 443,
                        tags: [Frames.dot1ad(200), Frames.dot1q(100 + UInt16(n % 20))])
        case .untaggedTCP:
            flow = Flow(shape: shape, client: Host(mac: Lab.firewall.mac, ip: Lab.backup.ip), server: Host(mac: guestPeer.mac, ip: guestPeer.ip), clientPort: clientPort, serverPort: 873, tags: [])
        case .geneveTCP:
            flow = Flow(shape: shape, client: guest, server: guestPeer, clientPort: clientPort, serverPort: 443, tags: [],
                        tunnel: .geneve(vni: 5000, from: Lab.vtep1, to: Lab.vtep2, tags: [Frames.dot1q(40)]))
        case .icmp:
            flow = Flow(shape: shape, client: guest, server: guestPeer, clientPort: UInt16(n % 65535), serverPort: 0, tags: [Frames.dot1q(100 + UInt16(n % 20))])
        }
        flow.length = shape == .vlanUDP || shape == .icmp ? 2 * Int(1 + rng.next() % 4) : Int(8 + rng.next() % 120)
        return flow
    }

    /// Gives a storage flow's client segment its protocol's framing, at the segment's size.
    static func storageMessage(_ f: inout Flow, into data: inout [UInt8]) {
        switch f.serverPort {
        case 2049:
            let call = ProtocolMessages.rpcCall(program: 100_003, procedure: 7, flavor: 1, xid: UInt32(f.step))
            guard call.count <= data.count else { return }
            data.replaceSubrange(0..<call.count, with: call)
            data.replaceSubrange(0..<4, with: Frames.be32(0x8000_0000 | UInt32(data.count - 4)))
        case 3260 where !f.openingSent:
            let login = ProtocolMessages.iscsiLogin(initiator: "iqn.1998-01.com.vmware:esxi1", target: "iqn.2010-06.com.example:san.lun0",
                                                    auth: "CHAP", accepted: true)[0].1
            guard login.count <= data.count else { return }
            f.openingSent = true
            data = login + [UInt8](repeating: 0x5A, count: data.count - login.count)
        default:
            break
        }
    }

    /// - Parameter opening: part of an `openAll` opening (small data packets).
    static func nextPacket(_ f: inout Flow, script: CaptureScript, rng: inout SeededRandom, opening: Bool = false) -> [UInt8] {
        defer { f.step += 1 }
        let wire = Wire(tags: f.tags, tunnel: f.tunnel)
        let fromClient: Bool
        var flags: UInt8 = TCPFlags.ack
        var payload = 0
        switch f.shape {
        case .vlanUDP:
            fromClient = f.step % 2 == 0
            if fromClient { f.clientData = true } else { f.serverData = true }
            // An opening (SNMP) alternates request and response; else DNS-sized blobs.
            let data = f.dialogue.isEmpty ? [UInt8](repeating: 0x42, count: fromClient ? 40 : 120) : f.dialogue[f.step % f.dialogue.count].bytes
            let (src, dst, sp, dp) = fromClient ? (f.client, f.server, f.clientPort, f.serverPort) : (f.server, f.client, f.serverPort, f.clientPort)
            return script.ipPacket(from: src, to: dst, proto: 17, transport: Frames.udp(source: src.ip, destination: dst.ip, sourcePort: sp, destinationPort: dp, payload: data), wire: wire)
        case .icmp:
            fromClient = f.step % 2 == 0
            if fromClient { f.clientData = true } else { f.serverData = true }
            let (src, dst) = fromClient ? (f.client, f.server) : (f.server, f.client)
            let message = Frames.icmp(type: fromClient ? 8 : 0, code: 0, rest: UInt32(f.clientPort) << 16 | UInt32(f.step), payload: [UInt8](repeating: 0x61, count: 56))
            return script.ipPacket(from: src, to: dst, proto: 1, transport: message, wire: wire)
        default:
            switch f.step {
            case 0: fromClient = true; flags = TCPFlags.syn
            case 1: fromClient = false; flags = TCPFlags.syn | TCPFlags.ack
            case 2: fromClient = true
            case f.length - 2: fromClient = true; flags = TCPFlags.fin | TCPFlags.ack
            case f.length - 1: fromClient = false; flags = TCPFlags.fin | TCPFlags.ack
            case _ where f.dialogueSent < f.dialogue.count:
                fromClient = f.dialogue[f.dialogueSent].fromClient
                payload = f.dialogue[f.dialogueSent].bytes.count
                flags |= TCPFlags.psh
            case _ where opening:
                // A short exchange, request then response, keeps the opening small.
                fromClient = !f.clientData
                payload = 64 + Int(rng.next() % 64)
                flags |= TCPFlags.psh
            default:
                fromClient = rng.next() % 3 != 0
                // Sizes: pure ACKs, mid-size requests, full-size data segments.
                switch rng.next() % 10 {
                case 0..<4: payload = 0
                case 4..<6: payload = 200 + Int(rng.next() % 400)
                default: payload = 1380 + Int(rng.next() % 60)
                }
                if payload > 0 { flags |= TCPFlags.psh }
            }
        }
        if payload > 0 {
            if fromClient { f.clientData = true } else { f.serverData = true }
        }
        let (src, dst, sp, dp) = fromClient ? (f.client, f.server, f.clientPort, f.serverPort) : (f.server, f.client, f.serverPort, f.clientPort)
        let seq = fromClient ? f.clientSeq : f.serverSeq
        let ack = fromClient ? f.serverSeq : f.clientSeq
        var data = [UInt8](repeating: 0x5A, count: payload)
        if f.step >= 3 && f.step < f.length - 2 && f.dialogueSent < f.dialogue.count {
            data = f.dialogue[f.dialogueSent].bytes
            f.dialogueSent += 1
        } else if fromClient && payload > 0 {
            storageMessage(&f, into: &data)
        }
        let segment = Frames.tcp(source: src.ip, destination: dst.ip, sourcePort: sp, destinationPort: dp, sequence: seq,
                                 acknowledgement: flags & TCPFlags.ack != 0 ? ack : 0, flags: flags, payload: data)
        let consumed = UInt32(payload) + (flags & (TCPFlags.syn | TCPFlags.fin) != 0 ? 1 : 0)
        if fromClient { f.clientSeq &+= consumed } else { f.serverSeq &+= consumed }
        return script.ipPacket(from: src, to: dst, proto: 6, transport: segment, wire: wire)
    }
}
