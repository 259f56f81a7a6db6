import CaptureBuilder
import Decode
import Flows
import Testing
import Vocabulary

let client = IPAddress("192.168.100.10")!
let server = IPAddress("10.10.0.5")!

/// A decoded TCP/UDP/ICMP packet built from parameters.
func packet(_ src: IPAddress, _ dst: IPAddress, proto: UInt8 = 6, sport: UInt16, dport: UInt16, flags: UInt8 = 0x10,
            vlans: [VLANTag] = [], time: UInt64 = 1_000_000_000, icmpType: UInt8 = 8) -> DecodedPacket {
    let transport: [UInt8]
    switch proto {
    case 6: transport = Frames.tcp(source: src, destination: dst, sourcePort: sport, destinationPort: dport, sequence: 1, acknowledgement: 1, flags: flags)
    case 17: transport = Frames.udp(source: src, destination: dst, sourcePort: sport, destinationPort: dport, payload: [1])
    default: transport = Frames.icmp(type: icmpType, code: 0, rest: 1)
    }
    let frame = Frames.ethernet(source: MACAddress(rawValue: 1), destination: MACAddress(rawValue: 2), tags: vlans, etherType: 0x0800,
                                payload: Frames.ipv4(source: src, destination: dst, proto: proto, payload: transport))
    var p = DecodedPacket()
    p.reset(timestamp: time, capturedLength: frame.count, wireLength: frame.count)
    frame.withUnsafeBytes { PacketDecoder().decode(ByteView($0), link: .ethernet, into: &p) }
    return p
}

@Suite("Flow table")
struct FlowTableTests {
    @Test func bothDirectionsShareAFlow() throws {
        let table = FlowTable(capacity: 1024, seed: 1)
        let syn = try #require(table.track(packet(client, server, sport: 40000, dport: 443, flags: TCPFlags.syn)))
        #expect(syn.isNew && syn.fromInitiator && !syn.isFirstReply)
        let synAck = try #require(table.track(packet(server, client, sport: 443, dport: 40000, flags: TCPFlags.syn | TCPFlags.ack)))
        #expect(!synAck.isNew && !synAck.fromInitiator && synAck.isFirstReply && synAck.index == syn.index)
        let ack = try #require(table.track(packet(client, server, sport: 40000, dport: 443)))
        #expect(ack.fromInitiator && !ack.isFirstReply)
        let r = table.record(syn.index).pointee
        #expect(r.initiatorAddress == client && r.responderAddress == server && r.responderPort == 443)
        #expect(r.packetsFromInitiator == 2 && r.packetsFromResponder == 1)
        #expect(r.has(FlowState.synSeen) && r.has(FlowState.replySeen))
        #expect(table.count == 1)
    }

    /// Removing every flow (the end of a capture) reports each once, in
    /// the order the timing wheel files them, and leaves a table that works
    /// as new: the same flows come back as new ones, and fill it again.
    @Test func removeAllReportsEveryFlowAndLeavesAnEmptyTable() throws {
        let table = FlowTable(capacity: 256, seed: 1)
        var removed: [Int32] = []
        table.onRemove = { index, _, evicted in
            #expect(!evicted)
            removed.append(index)
        }
        var indices = Set<Int32>()
        for i in 0..<200 {
            let u = try #require(table.track(packet(client, server, sport: UInt16(20_000 + i), dport: 443, time: 1_000_000_000 + UInt64(i % 7) * 1_000_000_000)))
            indices.insert(u.index)
        }
        var wheelOrder: [Int32] = []
        table.forEachRecord { r in wheelOrder.append(Int32(r - table.record(0))) }
        table.removeAll()
        #expect(table.count == 0 && removed.count == 200 && Set(removed) == indices)
        #expect(removed == wheelOrder, "in the wheel's order")
        table.removeAll()
        #expect(removed.count == 200, "nothing twice")
        for round in 0..<2 {
            for i in 0..<256 {
                let u = try #require(table.track(packet(client, server, sport: UInt16(20_000 + i), dport: 443, time: 10_000_000_000)))
                #expect(u.isNew == (round == 0), "flow \(i) in round \(round)")
            }
        }
        #expect(table.count == 256)
    }

    /// A flow first seen at its SYN-ACK (its SYN's flow expired) knows the
    /// responder's SYN sequence alone: never the one its table slot's previous
    /// flow left (a client stream reassembled from there misses its login).
    @Test func aFlowFirstSeenAtItsSYNACKKnowsNoInitiatorSequence() throws {
        let table = FlowTable(capacity: 1, seed: 1)
        let first = try #require(table.track(packet(client, server, sport: 40000, dport: 23, flags: TCPFlags.syn, time: 1_000_000_000)))
        #expect(table.synSequence(first.index, initiator: true) == 1 && table.synSequence(first.index, initiator: false) == nil)
        table.expire(now: 100_000_000_000)
        #expect(table.count == 0)
        let second = try #require(table.track(packet(server, client, sport: 23, dport: 40001, flags: TCPFlags.syn | TCPFlags.ack, time: 100_000_000_000)))
        #expect(second.index == first.index && second.isNew, "the same slot, a new flow")
        #expect(table.synSequence(second.index, initiator: true) == nil, "the previous flow's SYN is not this flow's")
        #expect(table.synSequence(second.index, initiator: false) == 1)
    }

    /// Flow ids are derived from the flow (EVE's 51-bit `flow_id`): the same flow has the
    /// same id in any table (two workers, a reload, another interface), both directions
    /// alike; different flows differ (30,000 flows, no collision), and no id is 0.
    @Test func flowIDsAreDerivedFromTheFlow() throws {
        let a = FlowTable(capacity: 64, seed: 1), b = FlowTable(capacity: 64, seed: 99)
        let forward = try #require(a.track(packet(client, server, sport: 40000, dport: 443)))
        let same = try #require(b.track(packet(client, server, sport: 40000, dport: 443)))
        #expect(a.id(forward.index) == b.id(same.index), "another table (another seed) gives the same flow the same id")
        let reply = try #require(a.track(packet(server, client, sport: 443, dport: 40000, flags: TCPFlags.syn | TCPFlags.ack)))
        #expect(reply.index == forward.index && !reply.isNew, "the reply is the same flow")
        var seen = Set<UInt64>()
        let many = FlowTable(capacity: 32_768, seed: 1)
        for i in 0..<30_000 {
            let u = try #require(many.track(packet(client, server, sport: UInt16(1000 + i % 60_000), dport: UInt16(100 + i / 60_000))))
            let id = many.id(u.index)
            #expect(id > 0 && id < 1 << 51)
            seen.insert(id)
        }
        #expect(seen.count == 30_000)
    }

    @Test func synAckFirstMeansTheReceiverInitiated() throws {
        let table = FlowTable(capacity: 1024, seed: 1)
        let u = try #require(table.track(packet(server, client, sport: 443, dport: 40000, flags: TCPFlags.syn | TCPFlags.ack)))
        #expect(u.isNew && !u.fromInitiator && u.isFirstReply)
        #expect(table.record(u.index).pointee.initiatorAddress == client)
    }

    @Test func midstreamCaptureGuessesTheServerByPort() throws {
        let table = FlowTable(capacity: 1024, seed: 1)
        let u = try #require(table.track(packet(server, client, sport: 443, dport: 51000)))
        let r = table.record(u.index).pointee
        #expect(r.initiatorAddress == client && r.responderPort == 443)
        #expect(r.has(FlowState.midstream) && r.has(FlowState.directionGuessed))
        // Both sides on ephemeral ports: the first sender is taken as the initiator.
        let v = try #require(table.track(packet(server, client, sport: 50001, dport: 51001)))
        #expect(table.record(v.index).pointee.initiatorAddress == server)
    }

    @Test func udpResponseFirst() throws {
        let table = FlowTable(capacity: 1024, seed: 1)
        let u = try #require(table.track(packet(server, client, proto: 17, sport: 53, dport: 40000)))
        #expect(table.record(u.index).pointee.initiatorAddress == client && u.isFirstReply)
    }

    /// An NFS client calls the lock manager or mountd from a reserved port (below
    /// 1024) on a port the catalogue does not know: the call is the client's, and
    /// the port guess would have made the server the initiator.
    @Test func udpRPCCallFromAReservedPortIsTheClients() throws {
        func datagram(_ payload: [UInt8], sport: UInt16, dport: UInt16) -> DecodedPacket {
            let udp = Frames.udp(source: client, destination: server, sourcePort: sport, destinationPort: dport, payload: payload)
            let frame = Frames.ethernet(source: MACAddress(rawValue: 1), destination: MACAddress(rawValue: 2), tags: [], etherType: 0x0800,
                                        payload: Frames.ipv4(source: client, destination: server, proto: 17, payload: udp))
            var p = DecodedPacket()
            p.reset(timestamp: 1_000_000_000, capturedLength: frame.count, wireLength: frame.count)
            frame.withUnsafeBytes { PacketDecoder().decode(ByteView($0), link: .ethernet, into: &p) }
            return p
        }
        // xid, CALL, RPC version 2, program 100021 (nlockmgr), version 4, procedure 0.
        let call: [UInt8] = [0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0x86, 0xB5, 0, 0, 0, 4, 0, 0, 0, 0]
        let table = FlowTable(capacity: 1024, seed: 1)
        let p = datagram(call, sport: 765, dport: 40123)
        #expect(p.isRPCCall)
        let u = try #require(table.track(p))
        #expect(u.fromInitiator && table.record(u.index).pointee.initiatorAddress == client && table.record(u.index).pointee.responderPort == 40123)
        // A reply (message type 1) or other bytes from a reserved port: the port guess stands.
        var reply = call
        reply[7] = 1
        for payload in [reply, Array(call.prefix(12)), [UInt8](repeating: 0, count: 24)] {
            let other = datagram(payload, sport: 765, dport: 40124)
            #expect(!other.isRPCCall)
            let v = try #require(table.track(other))
            #expect(!v.fromInitiator && table.record(v.index).pointee.initiatorAddress == server, "\(payload)")
        }
    }

    @Test func icmpEchoRequestAndReply() throws {
        let table = FlowTable(capacity: 1024, seed: 1)
        let request = try #require(table.track(packet(client, server, proto: 1, sport: 0, dport: 0, icmpType: 8)))
        let reply = try #require(table.track(packet(server, client, proto: 1, sport: 0, dport: 0, icmpType: 0)))
        #expect(request.index == reply.index && reply.isFirstReply)
        let lonelyReply = try #require(FlowTable(capacity: 16, seed: 1).track(packet(server, client, proto: 1, sport: 0, dport: 0, icmpType: 0)))
        #expect(!lonelyReply.fromInitiator)
    }

    @Test func vlanStacksSeparateFlows() throws {
        let table = FlowTable(capacity: 1024, seed: 1)
        let a = try #require(table.track(packet(client, server, sport: 1, dport: 80, vlans: [])))
        let b = try #require(table.track(packet(client, server, sport: 1, dport: 80, vlans: [Frames.dot1q(42)])))
        let c = try #require(table.track(packet(client, server, sport: 1, dport: 80, vlans: [Frames.dot1q(10), Frames.dot1q(20)])))
        #expect(Set([a.index, b.index, c.index]).count == 3)
    }

    @Test func idleFlowsExpirePerProtocol() throws {
        let table = FlowTable(capacity: 1024, timeouts: FlowTimeouts(tcpNew: 5, tcpEstablished: 100, tcpClosed: 5, udp: 10, icmp: 5, other: 5), seed: 1)
        let s: UInt64 = 1_000_000_000
        _ = table.track(packet(client, server, sport: 1, dport: 80, flags: TCPFlags.syn, time: 1 * s))  // unanswered
        _ = table.track(packet(client, server, proto: 17, sport: 2, dport: 53, time: 1 * s))
        _ = table.track(packet(client, server, sport: 3, dport: 22, flags: TCPFlags.syn, time: 1 * s))
        _ = table.track(packet(server, client, sport: 22, dport: 3, flags: TCPFlags.syn | TCPFlags.ack, time: 1 * s))  // established
        var removed: [UInt16] = []
        table.onRemove = { _, r, evicted in
            #expect(!evicted)
            removed.append(r.responderPort)
        }
        table.expire(now: 7 * s)
        #expect(removed == [80])
        table.expire(now: 12 * s)
        #expect(removed == [80, 53])
        table.expire(now: 50 * s)
        #expect(table.count == 1)
        table.expire(now: 102 * s)
        #expect(table.count == 0 && table.statistics.expired == 3)
    }

    @Test func fullTableEvictsTheLeastRecentlySeen() throws {
        let table = FlowTable(capacity: 1024, seed: 1)
        for i in 0..<1024 { _ = table.track(packet(client, server, proto: 17, sport: UInt16(1000 + i), dport: 53, time: UInt64(i + 1))) }
        _ = table.track(packet(client, server, proto: 17, sport: 1000, dport: 53, time: 5000))  // refresh the oldest
        var evictedPorts: [UInt16] = []
        table.onRemove = { _, r, evicted in if evicted { evictedPorts.append(r.initiatorPort) } }
        _ = table.track(packet(client, server, proto: 17, sport: 9999, dport: 53, time: 6000))
        #expect(evictedPorts == [1001])
        #expect(table.count == 1024 && table.statistics.evicted == 1)
    }

    /// Random inserts, lookups and expiries against a dictionary model: the
    /// open-addressing index with backward-shift deletion loses no flow, and the
    /// timing wheel expires each flow within a second of its deadline.
    @Test func indexAndWheelAgreeWithModel() throws {
        var rng = SeededRandom(seed: 99)
        let timeout: UInt64 = 3_000_000_000
        let table = FlowTable(capacity: 4096, timeouts: FlowTimeouts(tcpNew: 1, tcpEstablished: 1, tcpClosed: 1, udp: 3, icmp: 1, other: 1), seed: 3)
        var lastSeen: [UInt16: UInt64] = [:]  // source port → last packet time, for flows the table may hold
        var now: UInt64 = 1_000_000_000
        for step in 0..<80_000 {
            now += UInt64(1 + rng.next() % 100_000_000)
            table.expire(now: now)  // as the pipeline does once per second of packet time
            let port = UInt16(1 + rng.next() % 3000)
            // Must still be there: seen within the timeout. Must be gone: idle for the timeout plus a second.
            let mustExist = lastSeen[port].map { $0 + timeout >= now } ?? false
            let mayExist = lastSeen[port].map { $0 + timeout + 1_000_000_000 >= now } ?? false
            let u = try #require(table.track(packet(client, server, proto: 17, sport: port, dport: 53, time: now)))
            if mustExist { #expect(!u.isNew, "step \(step): port \(port) lost") }
            if !mayExist { #expect(u.isNew, "step \(step): port \(port) not expired") }
            lastSeen[port] = now
            lastSeen = lastSeen.filter { $0.value + timeout + 1_000_000_000 >= now }
            let strict = lastSeen.values.filter { $0 + timeout >= now }.count
            #expect(table.count >= strict && table.count <= lastSeen.count)
        }
    }

    @Test func classChangeRefilesTheFlow() throws {
        let s: UInt64 = 1_000_000_000
        let table = FlowTable(capacity: 64, timeouts: FlowTimeouts(tcpNew: 30, tcpEstablished: 3600, tcpClosed: 5, udp: 60, icmp: 30, other: 60), seed: 1)
        _ = table.track(packet(client, server, sport: 7, dport: 22, flags: TCPFlags.syn, time: 10 * s))
        _ = table.track(packet(server, client, sport: 22, dport: 7, flags: TCPFlags.syn | TCPFlags.ack, time: 10 * s))
        table.expire(now: 100 * s)
        #expect(table.count == 1, "established: 3600 s")
        _ = table.track(packet(client, server, sport: 7, dport: 22, flags: TCPFlags.fin | TCPFlags.ack, time: 200 * s))
        table.expire(now: 204 * s)
        #expect(table.count == 1)
        table.expire(now: 207 * s)
        #expect(table.count == 0, "closed: 5 s after the FIN, not an hour")
    }

    @Test func longGapsInPacketTime() throws {
        let s: UInt64 = 1_000_000_000
        let table = FlowTable(capacity: 64, seed: 1)
        _ = table.track(packet(client, server, proto: 17, sport: 1, dport: 53, time: 10 * s))
        table.expire(now: 100_000 * s)
        #expect(table.count == 0)
        _ = table.track(packet(client, server, proto: 17, sport: 2, dport: 53, time: 100_001 * s))
        table.expire(now: 100_002 * s)
        #expect(table.count == 1)
    }
}

@Suite("Flow record layout")
struct FlowRecordLayoutTests {
    /// The per-packet fields fit one 128-byte, 128-aligned pair of cache lines.
    @Test func recordIsOneCacheLinePair() {
        #expect(MemoryLayout<FlowRecord>.size <= 128)
        #expect(MemoryLayout<FlowRecord>.stride == 128)
        #expect(MemoryLayout<FlowKey>.size == 56)
    }
}
