import Capture
import Decode
import Vocabulary

/// A host on the wire: MAC and IP address.
public struct Host: Sendable {
    public var mac: MACAddress
    public var ip: IPAddress

    public init(mac: MACAddress, ip: IPAddress) {
        self.mac = mac
        self.ip = ip
    }

    /// A host with address `ip`; its MAC is derived from the address unless given.
    public init(_ ip: String, mac: String? = nil) {
        let address = IPAddress(ip)!
        self.ip = address
        if let mac { self.mac = MACAddress(mac)! } else {
            // Locally administered, unicast: 02:00 + the low 32 bits of the address.
            self.mac = MACAddress(rawValue: 0x0200_0000_0000 | (address.low & 0xFFFF_FFFF))
        }
    }
}

/// How frames travel between two hosts: VLAN tags and, optionally, a tunnel.
public struct Wire: Sendable {
    public enum Tunnel: Sendable {
        /// VXLAN between two VTEPs; `tags` are the underlay frame's VLAN tags.
        case vxlan(vni: UInt32, from: Host, to: Host, tags: [VLANTag])
        case geneve(vni: UInt32, from: Host, to: Host, tags: [VLANTag])
        /// GRE with transparent Ethernet bridging (NVGRE when `key` is set).
        case greEthernet(key: UInt32?, from: Host, to: Host, tags: [VLANTag])
        /// ERSPAN type II mirror session carrying copies of the frames.
        case erspan2(session: UInt16, vlan: UInt16, from: Host, to: Host)
    }

    /// Tags of the frame itself (inside the tunnel, if there is one).
    public var tags: [VLANTag]
    public var tunnel: Tunnel?
    /// Routed traffic seen on `local`'s segment: every frame is between `local`
    /// and the router, whose MAC stands in for the remote party's.
    public var routing: (router: MACAddress, local: MACAddress)?

    public init(tags: [VLANTag] = [], tunnel: Tunnel? = nil) {
        self.tags = tags
        self.tunnel = tunnel
    }

    /// The same wire, for traffic that `router` forwards to and from `local`.
    public func routed(via router: Host, for local: Host) -> Wire {
        var w = self
        w.routing = (router.mac, local.mac)
        return w
    }

    /// The MACs of a frame from `source` to `destination` on this wire.
    func macs(_ source: Host, _ destination: Host) -> (MACAddress, MACAddress) {
        guard let (router, local) = routing else { return (source.mac, destination.mac) }
        return (source.mac == local ? local : router, destination.mac == local ? local : router)
    }

    /// Untagged.
    public static let plain = Wire()
    /// One 802.1Q tag.
    public static func vlan(_ id: UInt16) -> Wire { Wire(tags: [Frames.dot1q(id)]) }
}

/// Writes a deterministic capture: conversations between hosts become frames
/// with timestamps that advance by a fixed step.
public final class CaptureScript {
    public private(set) var packets: [(timestamp: UInt64, bytes: [UInt8])] = []
    /// The next packet's time, nanoseconds since the epoch.
    public var clock: UInt64
    /// Time between consecutive packets.
    public var step: UInt64
    private var nextIPID: UInt16 = 1

    /// 2026-11-26 14:00:00 UTC.
    public static let defaultStart: UInt64 = 1_795_701_600 * 1_000_000_000

    public init(start: UInt64 = CaptureScript.defaultStart, step: UInt64 = 1_000_000) {
        self.clock = start
        self.step = step
    }

    /// Appends raw link-layer bytes.
    public func append(_ bytes: [UInt8]) {
        packets.append((clock, bytes))
        clock += step
    }

    /// Waits `seconds` of capture time.
    public func wait(seconds: Double) { clock += UInt64(seconds * 1e9) }

    // MARK: Frames

    /// An Ethernet frame from `source` to `destination` carried as `wire` says.
    public func frame(from source: Host, to destination: Host, etherType: UInt16, payload: [UInt8], wire: Wire) -> [UInt8] {
        let (sourceMAC, destinationMAC) = wire.macs(source, destination)
        let inner = Frames.ethernet(source: sourceMAC, destination: destinationMAC, tags: wire.tags, etherType: etherType, payload: payload)
        guard let tunnel = wire.tunnel else { return inner }
        switch tunnel {
        case .vxlan(let vni, let a, let b, let tags):
            return underlay(a, b, tags, proto: 17, payload: Frames.udp(source: a.ip, destination: b.ip, sourcePort: 49152 &+ UInt16(truncatingIfNeeded: vni), destinationPort: 4789, payload: Frames.vxlan(vni: vni, inner: inner)))
        case .geneve(let vni, let a, let b, let tags):
            return underlay(a, b, tags, proto: 17, payload: Frames.udp(source: a.ip, destination: b.ip, sourcePort: 50000, destinationPort: 6081, payload: Frames.geneve(vni: vni, inner: inner)))
        case .greEthernet(let key, let a, let b, let tags):
            return underlay(a, b, tags, proto: 47, payload: Frames.gre(protocolType: 0x6558, key: key, payload: inner))
        case .erspan2(let session, let vlan, let a, let b):
            let mirrored = Frames.ethernet(source: sourceMAC, destination: destinationMAC, tags: wire.tags, etherType: etherType, payload: payload)
            return underlay(a, b, [], proto: 47, payload: Frames.gre(protocolType: 0x88BE, sequence: UInt32(packets.count), payload: Frames.erspan2(vlan: vlan, session: session, inner: mirrored)))
        }
    }

    private func underlay(_ a: Host, _ b: Host, _ tags: [VLANTag], proto: UInt8, payload: [UInt8]) -> [UInt8] {
        let ip = Frames.ipv4(source: a.ip, destination: b.ip, proto: proto, payload: payload, identification: ipID())
        return Frames.ethernet(source: a.mac, destination: b.mac, tags: tags, etherType: 0x0800, payload: ip)
    }

    private func ipID() -> UInt16 {
        nextIPID &+= 1
        return nextIPID
    }

    /// An IP packet from `source` to `destination` (IPv4 or IPv6 by address).
    public func ipPacket(from source: Host, to destination: Host, proto: UInt8, transport: [UInt8], wire: Wire) -> [UInt8] {
        if source.ip.isIPv4 {
            let ip = Frames.ipv4(source: source.ip, destination: destination.ip, proto: proto, payload: transport, identification: ipID())
            return frame(from: source, to: destination, etherType: 0x0800, payload: ip, wire: wire)
        }
        let ip = Frames.ipv6(source: source.ip, destination: destination.ip, nextHeader: proto, payload: transport)
        return frame(from: source, to: destination, etherType: 0x86DD, payload: ip, wire: wire)
    }

    // MARK: Conversations

    /// How a TCP conversation begins.
    public enum Opening: Sendable {
        /// SYN, SYN-ACK, ACK.
        case handshake
        /// SYN only: nobody answered.
        case unanswered
        /// SYN answered by RST-ACK: the port is closed.
        case refused
        /// No handshake in the capture: it starts with data.
        case midstream
    }

    /// How a message's bytes are cut into segments and put on the wire.
    public enum Segmentation: Sendable {
        /// One segment per message.
        case whole
        /// Segments of at most `size` bytes, in order.
        case split(Int)
        /// Segments of `size` bytes, each pair sent in reverse order.
        case outOfOrder(Int)
        /// Segments of `size` bytes, each sent twice.
        case retransmitted(Int)
        /// Segments of `size` bytes, each followed by a copy that overlaps the next.
        case overlapping(Int)
    }

    /// A TCP conversation: opening, then `messages` (client when `fromClient`),
    /// each message acknowledged by the peer, then FIN/ACK both ways.
    @discardableResult
    public func tcp(client: Host, clientPort: UInt16, server: Host, serverPort: UInt16, wire: Wire = .plain,
                    opening: Opening = .handshake, messages: [(fromClient: Bool, bytes: [UInt8])] = [], close: Bool = true,
                    segmentation: Segmentation = .whole) -> Self {
        var clientSeq: UInt32 = 0x1000_0000 &+ UInt32(clientPort) &* 7919
        var serverSeq: UInt32 = 0x2000_0000 &+ UInt32(serverPort) &* 104_729
        func segment(fromClient: Bool, flags: UInt8, payload: [UInt8] = []) {
            let (src, dst, sp, dp) = fromClient ? (client, server, clientPort, serverPort) : (server, client, serverPort, clientPort)
            let seq = fromClient ? clientSeq : serverSeq
            let ack = flags & TCPFlags.ack != 0 ? (fromClient ? serverSeq : clientSeq) : 0
            let t = Frames.tcp(source: src.ip, destination: dst.ip, sourcePort: sp, destinationPort: dp, sequence: seq, acknowledgement: ack, flags: flags, payload: payload)
            append(ipPacket(from: src, to: dst, proto: 6, transport: t, wire: wire))
            let consumed = UInt32(payload.count) + (flags & (TCPFlags.syn | TCPFlags.fin) != 0 ? 1 : 0)
            if fromClient { clientSeq &+= consumed } else { serverSeq &+= consumed }
        }
        switch opening {
        case .handshake:
            segment(fromClient: true, flags: TCPFlags.syn)
            segment(fromClient: false, flags: TCPFlags.syn | TCPFlags.ack)
            segment(fromClient: true, flags: TCPFlags.ack)
        case .unanswered:
            segment(fromClient: true, flags: TCPFlags.syn)
            return self
        case .refused:
            segment(fromClient: true, flags: TCPFlags.syn)
            segment(fromClient: false, flags: TCPFlags.rst | TCPFlags.ack)
            return self
        case .midstream:
            break
        }
        /// Sends `payload` at an explicit sequence number without advancing the stream.
        func raw(fromClient: Bool, sequence: UInt32, payload: [UInt8]) {
            let (src, dst, sp, dp) = fromClient ? (client, server, clientPort, serverPort) : (server, client, serverPort, clientPort)
            let ack = fromClient ? serverSeq : clientSeq
            let t = Frames.tcp(source: src.ip, destination: dst.ip, sourcePort: sp, destinationPort: dp, sequence: sequence, acknowledgement: ack,
                               flags: TCPFlags.psh | TCPFlags.ack, payload: payload)
            append(ipPacket(from: src, to: dst, proto: 6, transport: t, wire: wire))
        }
        for m in messages {
            let base = m.fromClient ? clientSeq : serverSeq
            var size = m.bytes.count
            switch segmentation {
            case .whole: break
            case .split(let n), .outOfOrder(let n), .retransmitted(let n), .overlapping(let n): size = max(1, n)
            }
            let chunks = stride(from: 0, to: m.bytes.count, by: max(size, 1)).map { $0..<min($0 + size, m.bytes.count) }
            var order = Array(chunks.indices)
            if case .outOfOrder = segmentation {
                var i = 0
                while i + 1 < order.count { order.swapAt(i, i + 1); i += 2 }
            }
            for i in order {
                let r = chunks[i]
                raw(fromClient: m.fromClient, sequence: base &+ UInt32(r.lowerBound), payload: Array(m.bytes[r]))
                if case .retransmitted = segmentation {
                    raw(fromClient: m.fromClient, sequence: base &+ UInt32(r.lowerBound), payload: Array(m.bytes[r]))
                }
                if case .overlapping = segmentation, i + 1 < chunks.count {
                    // A copy of the second half of this segment and the first half of the next.
                    let from = r.lowerBound + r.count / 2, to = min(chunks[i + 1].lowerBound + chunks[i + 1].count / 2 + 1, m.bytes.count)
                    raw(fromClient: m.fromClient, sequence: base &+ UInt32(from), payload: Array(m.bytes[from..<to]))
                }
            }
            if m.fromClient { clientSeq &+= UInt32(m.bytes.count) } else { serverSeq &+= UInt32(m.bytes.count) }
            segment(fromClient: !m.fromClient, flags: TCPFlags.ack)
        }
        if close {
            segment(fromClient: true, flags: TCPFlags.fin | TCPFlags.ack)
            segment(fromClient: false, flags: TCPFlags.fin | TCPFlags.ack)
            segment(fromClient: true, flags: TCPFlags.ack)
        }
        return self
    }

    /// A UDP request and, if `response` is given, its answer.
    @discardableResult
    public func udp(client: Host, clientPort: UInt16, server: Host, serverPort: UInt16, wire: Wire = .plain,
                    request: [UInt8], response: [UInt8]? = nil) -> Self {
        append(ipPacket(from: client, to: server, proto: 17,
                        transport: Frames.udp(source: client.ip, destination: server.ip, sourcePort: clientPort, destinationPort: serverPort, payload: request), wire: wire))
        if let response {
            append(ipPacket(from: server, to: client, proto: 17,
                            transport: Frames.udp(source: server.ip, destination: client.ip, sourcePort: serverPort, destinationPort: clientPort, payload: response), wire: wire))
        }
        return self
    }

    /// An ICMP (or ICMPv6) echo request and reply.
    @discardableResult
    public func ping(from a: Host, to b: Host, wire: Wire = .plain, id: UInt16 = 1, answered: Bool = true) -> Self {
        let v6 = !a.ip.isIPv4
        let proto: UInt8 = v6 ? 58 : 1
        let payload = [UInt8](repeating: 0x61, count: 32)
        append(ipPacket(from: a, to: b, proto: proto, transport: Frames.icmp(type: v6 ? 128 : 8, code: 0, rest: UInt32(id) << 16 | 1, payload: payload, v6: v6, source: a.ip, destination: b.ip), wire: wire))
        if answered {
            append(ipPacket(from: b, to: a, proto: proto, transport: Frames.icmp(type: v6 ? 129 : 0, code: 0, rest: UInt32(id) << 16 | 1, payload: payload, v6: v6, source: b.ip, destination: a.ip), wire: wire))
        }
        return self
    }

    /// An ARP request from `a` for `b`'s address and `b`'s reply.
    @discardableResult
    public func arp(from a: Host, for b: Host, wire: Wire = .plain) -> Self {
        append(frame(from: a, to: Host(mac: .broadcast, ip: b.ip), etherType: 0x0806,
                     payload: Frames.arp(operation: 1, senderMAC: a.mac, senderIP: a.ip, targetMAC: .zero, targetIP: b.ip), wire: wire))
        append(frame(from: b, to: a, etherType: 0x0806,
                     payload: Frames.arp(operation: 2, senderMAC: b.mac, senderIP: b.ip, targetMAC: a.mac, targetIP: a.ip), wire: wire))
        return self
    }

    // MARK: Output

    /// Writes the packets to a pcap file through libpcap.
    public func write(to path: String, linkType: LinkType = .ethernet) throws(CaptureError) {
        let writer = try PcapWriter(path: path, linkType: linkType)
        for p in packets { writer.write(timestamp: p.timestamp, bytes: p.bytes) }
        try writer.close()
    }
}
