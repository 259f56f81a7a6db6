import Alerting
import Decode
import Detect
import Flows
import Inspect
import Vocabulary
#if canImport(Glibc)
import Glibc
#endif

/// Keeps the packets behind every alert (`--evidence`): each flow's first two
/// packets, and all of them while an inspector follows the flow, in a ring
/// (``PacketArena``); when an alert is written, its file is named at once
/// (the alert carries the name) and gathers the flow's last `packetsPerFlow`
/// packets so far, the alert's own, and up to `packetsPerFlow` that follow; it
/// is handed to the directory's writer when the flow ends (or the bound is
/// reached and the flow's inspection is over), which masks every secret an
/// inspector recognised on the flow (``SecretMasking``) and writes it. Files are named from the
/// flow's first packet time, the rule and the flow's endpoints, so analysing
/// the same captures again writes the same files.
///
/// Memory: the ring (`memoryBytes`), a record per flow slot, and files
/// waiting for their flow to end (at most half the ring; beyond, the oldest
/// is written early, its payload withheld when its flow may still show a secret).
///
/// Not thread-safe: one per pipeline (the directory is shared).
public final class EvidenceRecorder: AlertEvidence {
    public let directory: EvidenceDirectory
    /// Packets kept of a flow before its alert, and taken after it.
    public let packetsPerFlow: Int
    /// The ring's size.
    public var memoryBytes: Int { arena.capacity }
    /// The link type of the packets being recorded (pcap's `LINKTYPE_` number).
    public var linkType: Int32 = 1

    /// What the recorder has done (what became of the files: ``EvidenceDirectory/statistics``).
    public struct Statistics: Sendable {
        /// Alerts given an evidence file.
        public var alerts = 0
        /// Files handed to the directory.
        public var files = 0
        /// Files written before their flow ended because waiting files filled their memory.
        public var writtenEarly = 0
        /// Packets kept in the ring, and their bytes.
        public var packetsKept = 0
        public var bytesKept = 0
        /// Packets copied into waiting files.
        public var packetsAppended = 0
    }
    public private(set) var statistics = Statistics()

    private struct Slot {
        var flowID: UInt64 = 0
        /// The ring offset of the flow's last kept packet, plus one (0: none; a slot is all zeros until used).
        var head: Int64 = 0
        var firstTimestamp: UInt64 = 0
        var state: UInt16 = 0
        var hasPending = false
        /// Whether `secrets` or `sidsUsed` may hold an entry for the slot (a new flow clears them
        /// only then: a dictionary removal for every flow showed in the profile).
        var hasSecrets = false
        var hasSids = false
    }

    /// A file waiting for its flow's next packets: the packets so far in one buffer (no allocation per packet).
    private final class PendingFile {
        let name: String
        let index: Int32
        let flowID: UInt64
        var packets = PacketList()
        var remaining: Int
        var done = false
        var bytes: Int { packets.data.count + packets.headers.count * 16 }
        init(name: String, index: Int32, flowID: UInt64, remaining: Int) {
            self.name = name
            self.index = index
            self.flowID = flowID
            self.remaining = remaining
        }
    }

    private var arena: PacketArena
    private let slots: UnsafeMutablePointer<Slot>
    private let capacity: Int
    private var pending: [Int32: [PendingFile]] = [:]
    private var queue: [PendingFile] = []
    private var queueHead = 0
    private var pendingBytes = 0
    private let pendingLimit: Int
    private var secrets: [Int32: FlowSecrets] = [:]
    /// The sids of the files made for each flow slot so far (for their names).
    private var sidsUsed: [Int32: [Int]] = [:]

    /// The packet being processed, as the pipeline sets it for every packet (``EvidenceMoment``).
    public let moment: UnsafeMutablePointer<EvidenceMoment>
    private var currentIndex: Int32 { moment.pointee.index }
    private var currentID: UInt64 { moment.pointee.id }
    private var currentPacket: UnsafePointer<DecodedPacket>? { moment.pointee.bytes == nil ? nil : moment.pointee.packet }
    private var currentBytes: UnsafeRawBufferPointer? { moment.pointee.bytes }
    private var currentFromInitiator: Bool { moment.pointee.fromInitiator }
    private var currentStored: Bool { moment.pointee.stored }
    private var currentFlow: UnsafeMutablePointer<FlowRecord>? { moment.pointee.flow }
    /// Flows that left the table in this moment: their alerts find them here; their files are written after.
    private var ending: [Int32] = []
    private var endingByID: [UInt64: Int32] = [:]

    /// - Parameters:
    ///   - capacity: the flow table's capacity (a slot per flow).
    ///   - memoryBytes: the ring of first packets; files waiting for their flow may take half as much again.
    public init(directory: EvidenceDirectory, capacity: Int, packetsPerFlow: Int, memoryBytes: Int) {
        self.directory = directory
        self.capacity = capacity
        self.packetsPerFlow = packetsPerFlow
        arena = PacketArena(capacity: memoryBytes)
        pendingLimit = max(memoryBytes / 2, 1 << 20)
        // Zeroed pages from the system, touched only as flows use them (an empty slot is all zeros).
        slots = calloc(capacity, MemoryLayout<Slot>.stride)!.bindMemory(to: Slot.self, capacity: capacity)
        moment = .allocate(capacity: 1)
        moment.initialize(to: EvidenceMoment())
    }

    deinit {
        moment.deallocate()
        free(slots)
        arena.release()
    }

    // MARK: Packets

    /// Packets kept of every flow's start, whatever happens to it (copying more of every flow costs more than it is worth).
    public static let headPackets: UInt64 = 2
    /// A flow's kept packets go into its file whole when they are at most this many times packets_per_flow.
    static let wholeFlowFactor = 8

    /// Whether the recorder must see a packet of a flow (``record()``): a
    /// flow's first packets (its handshake), every packet while an inspector
    /// follows the flow (a login comes late in a dialogue; the packet an
    /// inspector recognised the flow by comes from ``recognised()``), and the
    /// packets a waiting file takes. The rest (most packets: most alerts come
    /// at a flow's first packet or reply) are judged here from the flow's
    /// record alone, inline in the pipeline.
    @inlinable @inline(__always)
    public static func wants(_ flow: UnsafeMutablePointer<FlowRecord>) -> Bool {
        flow.pointee.state & (FlowState.inspecting | FlowState.evidencePending) != 0
            || flow.pointee.packetsFromInitiator &+ flow.pointee.packetsFromResponder <= headPackets
    }

    /// An inspector has just recognised the flow of the packet being processed:
    /// that packet (a request with a login, a banner) is kept too.
    public func recognised() {
        guard !moment.pointee.stored else { return }
        record()
    }

    /// A packet ``wants(_:)`` chose, described by ``moment``.
    public func record() {
        if !ending.isEmpty { flushEnded() }
        guard let flow = moment.pointee.flow, let p = moment.pointee.packet, let bytes = moment.pointee.bytes else { return }
        let index = moment.pointee.index, id = moment.pointee.id
        let state = flow.pointee.state
        let s = slots + Int(index)
        if s.pointee.flowID != id { reset(index, id: id, at: p.pointee.timestamp) }
        s.pointee.state = state
        let keep = state & FlowState.inspecting != 0 || flow.pointee.packetsFromInitiator &+ flow.pointee.packetsFromResponder <= Self.headPackets
        if keep, let offset = arena.append(header(p, bytes, fromInitiator: moment.pointee.fromInitiator, previous: s.pointee.head - 1, id: id), bytes: bytes) {
            s.pointee.head = offset + 1
            moment.pointee.stored = true
            statistics.packetsKept &+= 1
            statistics.bytesKept &+= bytes.count
        }
        if s.pointee.hasPending {
            // Once per packet: a packet an inspector recognised the flow by is recorded twice (``recognised()``).
            if !moment.pointee.appended {
                moment.pointee.appended = true
                appendToPending(index)
            }
        } else if state & FlowState.evidencePending != 0 {
            flow.pointee.state &= ~FlowState.evidencePending  // its files were written (or it is a new flow in the record)
        }
    }

    private func header(_ p: UnsafePointer<DecodedPacket>, _ bytes: UnsafeRawBufferPointer, fromInitiator: Bool, previous: Int64, id: UInt64) -> PacketArena.Header {
        var flags: UInt8 = fromInitiator ? StoredPacket.Flags.fromInitiator : 0
        if p.pointee.ipProtocol == .tcp {
            flags |= StoredPacket.Flags.tcp
            if p.pointee.tcpFlags & 0x02 != 0 { flags |= StoredPacket.Flags.syn }
        } else if p.pointee.ipProtocol == .udp { flags |= StoredPacket.Flags.udp }
        let payloadLength = p.pointee.isIP ? p.pointee.payloadLength : 0
        return PacketArena.Header(previous: previous, flowID: id, timestamp: p.pointee.timestamp, capturedLength: UInt32(bytes.count),
                                  wireLength: UInt32(p.pointee.wireLength), payloadOffset: UInt32(p.pointee.payloadOffset),
                                  payloadLength: UInt32(payloadLength), sequence: p.pointee.tcpSequence, linkType: linkType, flags: flags)
    }

    /// A new flow in a slot: the last one's waiting files are written first.
    private func reset(_ index: Int32, id: UInt64, at timestamp: UInt64) {
        if slots[Int(index)].hasPending { flushFiles(of: index) }
        clearNames(index)
        slots[Int(index)] = Slot(flowID: id, firstTimestamp: timestamp)
    }

    /// Forgets the secrets and file names of the flow in a slot.
    private func clearNames(_ index: Int32) {
        let slot = slots[Int(index)]
        if slot.hasSecrets { secrets[index] = nil }
        if slot.hasSids { sidsUsed[index] = nil }
    }

    private func appendToPending(_ index: Int32) {
        guard let files = pending[index], let p = currentPacket, let bytes = currentBytes else { return }
        let state = slots[Int(index)].state
        let h = header(p, bytes, fromInitiator: currentFromInitiator, previous: -1, id: currentID)
        for file in files where !file.done {
            if file.remaining > 0 {
                file.packets.append(h, bytes)
                statistics.packetsAppended &+= 1
                file.remaining -= 1
                pendingBytes += bytes.count + 16
            }
            // Full, and no inspector can name another secret of the flow (any more): written now,
            // and the flow's later packets need not come here.
            if file.remaining == 0 && state & FlowState.inspecting == 0 { write(file, early: false) }
        }
        prune(index)
        relievePressure()
    }

    // MARK: Secrets

    /// What an inspector reported on a flow: the secrets it saw, and logins
    /// that sent one (a login whose secret's bytes are unknown withholds the
    /// initiator's payload from the flow's evidence).
    public func noteInspection(index: Int32, _ output: InspectionOutput) {
        slots[Int(index)].hasSecrets = true
        for s in output.secrets { secrets[index, default: FlowSecrets()].add(s) }
        for event in output.events {
            let login: LoginEvent
            switch event {
            case .login(let e), .anonymousAccess(let e), .weakAuthentication(let e): login = e
            default: continue
            }
            for s in login.wireSecrets { secrets[index, default: FlowSecrets()].add(s) }
            guard login.sentSecret else { continue }
            if login.credential == .cleartextUnattributed || (secrets[index]?.values.isEmpty ?? true) {
                secrets[index, default: FlowSecrets()].withholdInitiator = true
            }
        }
    }

    // MARK: Alerts

    public func evidenceFile(for d: Detection) -> String? {
        // A finding about the packet being processed but no flow (a new segment): that packet's flow.
        let id = d.subject.flowID ?? (currentIndex >= 0 && currentPacket?.pointee.timestamp == d.subject.timestamp ? currentID : 0)
        guard id != 0 else { return packetFile(for: d) }
        let index: Int32
        if id == currentID && currentIndex >= 0 {
            index = currentIndex
        } else if let i = endingByID[id] {
            index = i
        } else {
            return nil
        }
        let s = slots + Int(index)
        guard s.pointee.flowID == id else { return nil }
        // The flow's packets kept, oldest first, then the alert's packet if it was not among them: all of
        // them when they reach back to the flow's start within `wholeFlowFactor` × packets_per_flow (a login
        // typed a character per packet is read whole, from its handshake, and no secret is cut by the file's
        // start), else the last packets_per_flow.
        var kept: [Int64] = []
        var keptBytes = 0
        var offset = s.pointee.head - 1
        while kept.count < packetsPerFlow * Self.wholeFlowFactor, let (header, _) = arena.packet(at: offset), header.flowID == id {
            kept.append(offset)
            keptBytes += Int(header.capturedLength)
            offset = header.previous
        }
        if kept.count > packetsPerFlow, let (header, _) = arena.packet(at: offset), header.flowID == id {
            // More than that: the last packets_per_flow only.
            for o in kept[packetsPerFlow...] { keptBytes -= Int(arena.packet(at: o)!.header.capturedLength) }
            kept.removeLast(kept.count - packetsPerFlow)
        }
        var packets = PacketList()
        // Room for a few packets to come (grown packet by packet, the lists were reallocated every few
        // packets), no more than growing would soon take: memory is bounded by the bytes held (relievePressure).
        let remaining = endingByID[id] == nil ? packetsPerFlow : 0
        packets.reserve(packets: kept.count + 1 + min(remaining, 8), bytes: keptBytes + min(keptBytes, 2048))
        for o in kept.reversed() {
            let (header, bytes) = arena.packet(at: o)!
            packets.append(header, bytes)
        }
        if index == currentIndex && !currentStored, let p = currentPacket, let bytes = currentBytes {
            packets.append(header(p, bytes, fromInitiator: currentFromInitiator, previous: -1, id: id), bytes)
        }
        guard !packets.headers.isEmpty else { return nil }
        // The rule's files of this flow so far (a second login on one connection is a second file).
        var sids = sidsUsed[index] ?? []
        sids.append(d.sid)
        sidsUsed[index] = sids
        s.pointee.hasSids = true
        let name = Self.name(time: s.pointee.firstTimestamp, sid: d.sid, subject: d.subject, repeat: sids.count { $0 == d.sid })
        let file = PendingFile(name: name, index: index, flowID: id, remaining: remaining)
        file.packets = packets
        pending[index, default: []].append(file)
        queue.append(file)
        s.pointee.hasPending = true
        // The flow's next packets must reach the file.
        if index == currentIndex, let flow = currentFlow { flow.pointee.state |= FlowState.evidencePending }
        pendingBytes += file.bytes
        statistics.alerts += 1
        relievePressure()
        return "\(directory.path)/\(name)"
    }

    /// A finding about a packet of no flow: that packet alone, payload withheld.
    private func packetFile(for d: Detection) -> String? {
        guard currentIndex < 0, let p = currentPacket, let bytes = currentBytes, p.pointee.timestamp == d.subject.timestamp else { return nil }
        var packet = PacketList()
        packet.append(header(p, bytes, fromInitiator: true, previous: -1, id: 0), bytes)
        var secrets = FlowSecrets()
        secrets.withholdInitiator = true
        let name = Self.name(time: p.pointee.timestamp, sid: d.sid, subject: d.subject, repeat: 1)
        statistics.alerts += 1
        statistics.files += 1
        directory.submit(EvidenceDirectory.Job(name: name, packets: packet, secrets: secrets, cutAtEnd: false))
        return "\(directory.path)/\(name)"
    }

    // MARK: Flows ending

    /// A flow leaves the table: alerts of this moment still find it; its files are written after them.
    public func flowEnding(index: Int32, id: UInt64) {
        guard slots[Int(index)].flowID == id, endingByID.updateValue(index, forKey: id) == nil else { return }
        ending.append(index)
    }

    /// Writes the files of the flows that ended.
    public func flushEnded() {
        for index in ending {
            flushFiles(of: index)
            clearNames(index)
            slots[Int(index)] = Slot()
        }
        ending.removeAll(keepingCapacity: true)
        endingByID.removeAll(keepingCapacity: true)
        trimQueue()
    }

    /// The end of the input or a stop: every waiting file is written.
    public func flushAll() {
        flushEnded()
        for index in Array(pending.keys).sorted() { flushFiles(of: index) }
        queue.removeAll()
        queueHead = 0
    }

    private func flushFiles(of index: Int32) {
        guard let files = pending[index] else { return }
        for file in files where !file.done { write(file, early: false) }
        pending[index] = nil
        slots[Int(index)].hasPending = false
    }

    private func prune(_ index: Int32) {
        guard let files = pending[index], files.contains(where: \.done) else { return }
        let open = files.filter { !$0.done }
        pending[index] = open.isEmpty ? nil : open
        if open.isEmpty { slots[Int(index)].hasPending = false }
    }

    /// Waiting files over their memory: the oldest are written now.
    private func relievePressure() {
        guard pendingBytes > pendingLimit else { return }
        while pendingBytes > pendingLimit / 2 && queueHead < queue.count {
            let file = queue[queueHead]
            queueHead += 1
            if !file.done {
                write(file, early: true)
                prune(file.index)
            }
        }
        trimQueue()
    }

    /// Forgets the written files at the front of the queue (files are mostly written in the order they were made).
    private func trimQueue() {
        while queueHead < queue.count && queue[queueHead].done { queueHead += 1 }
        if queueHead > 1024 && queueHead * 2 > queue.count {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
    }

    /// Masks and writes one file.
    private func write(_ file: PendingFile, early: Bool) {
        file.done = true
        pendingBytes -= file.bytes
        let slot = slots[Int(file.index)]
        var flowSecrets = slot.flowID == file.flowID ? secrets[file.index] ?? FlowSecrets() : FlowSecrets()
        if slot.flowID == file.flowID {
            // A TCP dialogue joined midway could not be followed: where its secrets are is unknown.
            if slot.state & FlowState.midstream != 0 && file.packets.headers.contains(where: { $0.flags & StoredPacket.Flags.tcp != 0 }) {
                flowSecrets.withholdInitiator = true
                flowSecrets.withholdResponder = true
            }
            // Written before the flow's inspection is over: a secret may still be named.
            if early && slot.state & FlowState.inspecting != 0 {
                flowSecrets.withholdInitiator = true
                flowSecrets.withholdResponder = true
            }
        }
        if early { statistics.writtenEarly += 1 }
        statistics.files += 1
        // Masked and written by the directory's writer thread. Cut short by its bound or written
        // early: the flow's bytes went on past the file's last ones.
        directory.submit(EvidenceDirectory.Job(name: file.name, packets: file.packets, secrets: flowSecrets, cutAtEnd: early || file.remaining == 0))
        file.packets = PacketList()
    }

    // MARK: Files

    /// `20191209T101503.123456Z-2001-3fa2c1d9e0b4a6f1.pcap` (`-2`, `-3` ... for a rule's later files of one flow):
    /// the flow's first packet time, the rule's sid, and a hash of the finding's endpoints.
    /// Whether `name` is one ``name(time:sid:subject:repeat:)`` makes:
    /// `YYYYMMDDTHHMMSS.ffffffZ-SID-HEX16[-N].pcap`.
    public static func isEvidenceFileName(_ name: String) -> Bool {
        let b = Array(name.utf8)
        var i = 0
        func digits(_ count: Int?) -> Bool {
            let start = i
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39, count.map({ i - start < $0 }) ?? true { i += 1 }
            return count.map { i - start == $0 } ?? (i > start)
        }
        func byte(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }
        guard digits(8), byte(0x54), digits(6), byte(0x2E), digits(6), byte(0x5A), byte(0x2D), digits(nil), byte(0x2D) else { return false }
        for _ in 0..<16 {
            guard i < b.count, (0x30...0x39).contains(b[i]) || (0x61...0x66).contains(b[i]) else { return false }
            i += 1
        }
        if i < b.count, b[i] == 0x2D {
            i += 1
            guard digits(nil) else { return false }
        }
        return b[i...].elementsEqual(".pcap".utf8)
    }

    static func name(time: UInt64, sid: Int, subject: DetectionSubject, repeat n: Int) -> String {
        var hash = FNV1a()
        if let a = subject.sourceIP { hash.add(a.high); hash.add(a.low) }
        if let a = subject.destinationIP { hash.add(a.high); hash.add(a.low) }
        hash.add(UInt64(subject.sourcePort ?? 0) << 16 | UInt64(subject.destinationPort ?? 0))
        hash.add(UInt64(subject.ipProtocol?.rawValue ?? 0))
        if let m = subject.sourceMAC { hash.add(m.rawValue) }
        if let m = subject.destinationMAC { hash.add(m.rawValue) }
        for id in subject.vlans { hash.add(UInt64(id)) }
        // Written into a buffer on the stack: one allocation (the String), where formatting pieces took eight.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 96) { buffer in
            var i = 0
            func put(_ byte: UInt8) {
                precondition(i < buffer.count, "an evidence file name longer than its buffer")
                buffer[i] = byte
                i += 1
            }
            func digits<T: BinaryInteger>(_ value: T, width: Int) {
                var v = value
                precondition(i + width <= buffer.count, "an evidence file name longer than its buffer")
                for k in stride(from: width - 1, through: 0, by: -1) {
                    buffer[i + k] = 0x30 + UInt8(truncatingIfNeeded: v % 10)
                    v /= 10
                }
                i += width
            }
            func decimal(_ value: Int) {
                var width = 1, v = value
                while v >= 10 { v /= 10; width += 1 }
                digits(value, width: width)
            }
            // RFC 3339 in UTC without its separators, which some file systems and tools mind.
            let c = Timestamp.civil(time)
            digits(c.year, width: 4); digits(c.month, width: 2); digits(c.day, width: 2)
            put(0x54)  // T
            digits(c.hour, width: 2); digits(c.minute, width: 2); digits(c.second, width: 2)
            put(0x2E)
            digits(c.microsecond, width: 6)
            put(0x5A)  // Z
            put(0x2D)
            decimal(max(sid, 0))
            put(0x2D)
            for shift in stride(from: 60, through: 0, by: -4) {
                let nibble = UInt8(truncatingIfNeeded: hash.value >> UInt64(shift)) & 0xF
                put(nibble < 10 ? 0x30 + nibble : 0x57 + nibble)
            }
            if n > 1 { put(0x2D); decimal(n) }
            for byte in ".pcap".utf8 { put(byte) }
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[..<i]), as: UTF8.self)
        }
    }
}

/// The packet being processed, written by the pipeline for every packet
/// (plain stores, no call) and read by the recorder when it stores the packet
/// or an alert asks for its flow's evidence.
public struct EvidenceMoment {
    /// The flow's slot in the table, or -1 for a packet of no flow.
    public var index: Int32 = -1
    /// The flow table's ids by slot (``Flows/FlowTable/idsBySlot``), set once: the flow's id is read only when needed.
    public var flowIDs: UnsafePointer<UInt64>?
    /// The flow's id (0 for a packet of no flow).
    public var id: UInt64 {
        guard index >= 0, let flowIDs else { return 0 }
        return flowIDs[Int(index)]
    }
    public var packet: UnsafePointer<DecodedPacket>?
    /// The packet's captured bytes; nil once it has been processed.
    public var bytes: UnsafeRawBufferPointer?
    public var fromInitiator = true
    public var flow: UnsafeMutablePointer<FlowRecord>?
    /// Whether ``EvidenceRecorder/record()`` kept the packet in its ring.
    public var stored = false
    /// Whether it went to the flow's waiting files.
    public var appended = false
    public init() {}
}

/// FNV-1a, 64 bits: a hash that is the same in every run (Swift's `Hasher` is seeded per process).
struct FNV1a {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    mutating func add(_ v: UInt64) {
        var x = v
        for _ in 0..<8 {
            value ^= x & 0xFF
            value = value &* 0x0000_0100_0000_01B3
            x >>= 8
        }
    }
}
