import Decode
import Flows
import Vocabulary

/// Inspection state of one flow: both directions' reassembly, the inspector
/// once recognised, and a copy of the first inspected packet (its tags and
/// tunnels, for events reported when the flow ends).
final class FlowInspection {
    var client: TCPStreamDirection
    var server: TCPStreamDirection
    var inspector: (any StreamInspector)? {
        didSet { inspectorName = inspector.map { Self.name(of: $0) } ?? "" }
    }
    /// The inspector's registry name (for the dialogue recorder).
    private(set) var inspectorName = ""

    static func name<T: StreamInspector>(of inspector: T) -> String { T.name }
    var clientTried = false
    var serverTried = false
    /// First bytes of each side held until they are enough to recognise the protocol.
    var clientHead: [UInt8] = []
    var serverHead: [UInt8] = []
    /// Which side's held bytes came first (they are replayed in that order once recognised).
    var clientHeadFirst = true
    var datagrams = 0
    var context: DecodedPacket

    init(window: Int, context: DecodedPacket) {
        client = TCPStreamDirection(window: window)
        server = TCPStreamDirection(window: window)
        self.context = context
    }

    deinit {
        client.release()
        server.release()
    }
}

/// Runs application inspectors on the flows that need them.
///
/// A flow is looked at only while it may still matter: its first payload on
/// each side is offered to ``InspectorRegistry`` straight from the packet (no
/// state, no copy); unless an inspector recognises it, the flow is marked done
/// and its later packets skip inspection with one bit test. A recognised flow
/// gets a ``FlowInspection`` (one allocation per flow) and its first `window`
/// bytes each way, reassembled in order, go to its inspector.
///
/// Not thread-safe: one per pipeline.
public final class ApplicationInspection {
    public let window: Int
    /// Per flow slot (a buffer, not an array: no uniqueness check on every store).
    private let entries: UnsafeMutablePointer<FlowInspection?>
    private let capacity: Int
    /// What the last call found: the events, the protocol, whether the flow is done.
    public private(set) var output = InspectionOutput()
    /// Called with every chunk of bytes an inspector consumes (the flow's id,
    /// the inspector and transport, the side): `zw-capgen fuzz-seeds` records
    /// the dialogues of real captures this way. Nil in normal operation.
    public var recorder: ((_ flowID: UInt64, _ inspector: String, _ transport: IPProtocol, _ fromClient: Bool, _ bytes: UnsafeRawBufferPointer) -> Void)?
    /// The captured bytes of the packet being processed.
    private var packetBytes = UnsafeRawBufferPointer(start: nil, count: 0)
    /// The flow being inspected: its table and slot (its id for the recorder,
    /// read only then: the table's array of ids is cold, a miss per packet).
    private unowned(unsafe) var currentTable: FlowTable?
    private var currentIndex: Int32 = 0
    /// Datagrams of one UDP flow inspected at most.
    static let maximumDatagrams = 64
    /// A side's first bytes are held until this many have arrived before they
    /// are judged unrecognisable (a login typed a character per segment, a
    /// message split into small segments).
    static let recognitionBytes = 64

    public init(capacity: Int, window: Int) {
        self.window = window
        self.capacity = capacity
        entries = .allocate(capacity: capacity)
        entries.initialize(repeating: nil, count: capacity)
    }

    /// Whether a flow has an inspection in progress.
    public func isInspecting(_ index: Int32) -> Bool { entries[Int(index)] != nil }

    /// Indexes of the flows with an inspection in progress.
    public var inspectedIndexes: [Int32] { (0..<capacity).compactMap { entries[$0] == nil ? nil : Int32($0) } }

    deinit {
        entries.deinitialize(count: capacity)
        entries.deallocate()
    }

    /// Offers one packet's payload (`bytes`: the packet's captured bytes) to
    /// the flow's inspector, or to the recognisers; ``output`` holds what it
    /// found, and the record its application protocol once recognised.
    public func inspect(flows: FlowTable, index: Int32, packet p: UnsafePointer<DecodedPacket>, bytes: UnsafeRawBufferPointer, fromClient: Bool) {
        output.events.removeAll(keepingCapacity: true)
        if !output.dataChannels.isEmpty { output.dataChannels.removeAll(keepingCapacity: true) }
        if !output.secrets.isEmpty { output.secrets.removeAll(keepingCapacity: true) }
        output.appProtocol = nil
        output.finished = false
        packetBytes = bytes
        currentTable = flows
        currentIndex = index
        inspect(flows: flows, index: index, packet: p, fromClient: fromClient, &output)
        if let name = output.appProtocol {
            // Inspectors name their protocol on every call; the record's id is looked up only when the name changes.
            let record = flows.record(index)
            if InspectorRegistry.protocolName(record.pointee.appProtocol) != name {
                let id = InspectorRegistry.protocolID(name)
                assert(id != 0, "\(name) is not in its inspector's appProtocols")
                record.pointee.appProtocol = id
            }
        }
    }

    /// The hints recognisers get, from the flow's record alone.
    private func hints(_ record: UnsafeMutablePointer<FlowRecord>) -> FlowHints {
        let r = record.pointee
        return FlowHints(transport: IPProtocol(rawValue: UInt8(truncatingIfNeeded: r.key.protocolNumber)), serverPort: r.responderPort,
                         clientPort: r.initiatorPort, managementService: r.has(FlowState.managementService))
    }

    private func inspect(flows: FlowTable, index: Int32, packet p: UnsafePointer<DecodedPacket>, fromClient: Bool, _ out: inout InspectionOutput) {
        let record = flows.record(index)
        let hints = self.hints(record)
        guard p.pointee.payloadLength > 0, p.pointee.capturedLength >= p.pointee.payloadOffset + p.pointee.payloadLength else { return }
        let isTCP = p.pointee.ipProtocol == .tcp
        if isTCP && record.pointee.state & FlowState.midstream != 0 {
            // Without the start of the stream the dialogue cannot be followed without guessing.
            record.pointee.state |= FlowState.inspectionDone
            return
        }
        if let entry = entries[Int(index)] {
            feed(entry, flows: flows, index: index, packet: p, fromClient: fromClient, isTCP: isTCP, hints: hints, &out)
        } else {
            // This side's first bytes matched no inspector: its later bytes are not offered again.
            if record.pointee.state & (fromClient ? FlowState.clientTried : FlowState.serverTried) != 0 { return }
            start(flows: flows, index: index, packet: p, fromClient: fromClient, isTCP: isTCP, hints: hints, &out)
        }
        if out.finished { done(record, index) }
    }

    /// The packet's payload bytes (valid during the call).
    private func payload(_ p: UnsafePointer<DecodedPacket>, _ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[p.pointee.payloadOffset..<(p.pointee.payloadOffset + p.pointee.payloadLength)])
    }

    private func start(flows: FlowTable, index: Int32, packet p: UnsafePointer<DecodedPacket>, fromClient: Bool, isTCP: Bool,
                       hints: FlowHints, _ out: inout InspectionOutput) {
        let record = flows.record(index)
        let bytes = payload(p, packetBytes)
        if isTCP {
            let expected = flows.synSequence(index, initiator: fromClient).map { $0 &+ 1 }
            if expected == nil || expected == p.pointee.tcpSequence {
                // In order: try the inspectors on the packet itself.
                guard let inspector = InspectorRegistry.recognize(bytes, fromClient: fromClient, hints) else {
                    if bytes.count < Self.recognitionBytes {
                        // Too few bytes to judge: hold them (the entry recognises once more arrive).
                        let entry = makeEntry(flows: flows, index: index, packet: p)
                        feed(entry, flows: flows, index: index, packet: p, fromClient: fromClient, isTCP: true, hints: hints, &out)
                        return
                    }
                    let bit = fromClient ? FlowState.clientTried : FlowState.serverTried
                    record.pointee.state |= bit
                    if record.pointee.state & (FlowState.clientTried | FlowState.serverTried) == FlowState.clientTried | FlowState.serverTried {
                        record.pointee.state |= FlowState.inspectionDone
                    }
                    return
                }
                let entry = makeEntry(flows: flows, index: index, packet: p)
                entry.inspector = inspector
                feed(entry, flows: flows, index: index, packet: p, fromClient: fromClient, isTCP: true, hints: hints, &out)
            } else {
                // The first segment is out of order: buffer until the start arrives.
                let entry = makeEntry(flows: flows, index: index, packet: p)
                feed(entry, flows: flows, index: index, packet: p, fromClient: fromClient, isTCP: true, hints: hints, &out)
            }
        } else {
            guard let inspector = InspectorRegistry.recognize(bytes, fromClient: fromClient, hints) else {
                record.pointee.state |= FlowState.inspectionDone
                return
            }
            let entry = makeEntry(flows: flows, index: index, packet: p)
            entry.inspector = inspector
            feed(entry, flows: flows, index: index, packet: p, fromClient: fromClient, isTCP: false, hints: hints, &out)
        }
    }

    private func makeEntry(flows: FlowTable, index: Int32, packet p: UnsafePointer<DecodedPacket>) -> FlowInspection {
        let entry = FlowInspection(window: window, context: p.pointee)
        flows.record(index).pointee.state |= FlowState.inspecting
        if let isn = flows.synSequence(index, initiator: true) { entry.client.start(synSequence: isn) }
        if let isn = flows.synSequence(index, initiator: false) { entry.server.start(synSequence: isn) }
        entries[Int(index)] = entry
        return entry
    }

    private func feed(_ entry: FlowInspection, flows: FlowTable, index: Int32, packet p: UnsafePointer<DecodedPacket>, fromClient: Bool,
                      isTCP: Bool, hints: FlowHints, _ out: inout InspectionOutput) {
        let bytes = payload(p, packetBytes)
        let record = flows.record(index)
        if !isTCP {
            entry.datagrams += 1
            consume(entry, bytes, fromClient: fromClient, transport: .udp, &out)
            if entry.datagrams >= Self.maximumDatagrams {
                entry.inspector?.finish(&out)
                out.finished = true
            }
            return
        }
        // Late SYN-ACK knowledge: the responder's start.
        if !fromClient && !entry.server.hasStart, let isn = flows.synSequence(index, initiator: false) { entry.server.start(synSequence: isn) }
        // Closures written at the call (not kept in a variable) live on the stack: no allocation per packet.
        if fromClient {
            entry.client.receive(sequence: p.pointee.tcpSequence, payload: bytes) { self.deliver($0, entry, fromClient: true, hints: hints, &out) }
        } else {
            entry.server.receive(sequence: p.pointee.tcpSequence, payload: bytes) { self.deliver($0, entry, fromClient: false, hints: hints, &out) }
        }
        if entry.client.isComplete && entry.server.isComplete && !out.finished {
            entry.inspector?.finish(&out)
            out.finished = true
        }
        if entry.inspector == nil && (fromClient ? entry.clientTried : entry.serverTried) {
            // The other side has not spoken: note this side on the record and drop the state.
            record.pointee.state |= fromClient ? FlowState.clientTried : FlowState.serverTried
            if !(fromClient ? entry.serverHead : entry.clientHead).isEmpty { return }
            entries[Int(index)] = nil
            record.pointee.state &= ~FlowState.inspecting
            if record.pointee.state & (FlowState.clientTried | FlowState.serverTried) == FlowState.clientTried | FlowState.serverTried {
                out.finished = true
            }
        }
    }

    /// Reassembled bytes of one side: to the inspector, or held until one recognises the side.
    private func deliver(_ chunk: UnsafeRawBufferPointer, _ entry: FlowInspection, fromClient: Bool, hints: FlowHints, _ out: inout InspectionOutput) {
        guard entry.inspector == nil else {
            if !out.finished { self.consume(entry, chunk, fromClient: fromClient, transport: .tcp, &out) }
            return
        }
        if fromClient ? entry.clientTried : entry.serverTried { return }
        // Recognise on the side's first bytes so far; feed them all once recognised.
        if entry.clientHead.isEmpty && entry.serverHead.isEmpty { entry.clientHeadFirst = fromClient }
        // Room for the bytes a recogniser may wait for: grown chunk by chunk they were reallocated each time.
        if fromClient {
            if entry.clientHead.isEmpty { entry.clientHead.reserveCapacity(max(chunk.count, Self.recognitionBytes)) }
            entry.clientHead += chunk
        } else {
            if entry.serverHead.isEmpty { entry.serverHead.reserveCapacity(max(chunk.count, Self.recognitionBytes)) }
            entry.serverHead += chunk
        }
        let head = fromClient ? entry.clientHead : entry.serverHead
        let inspector = head.withUnsafeBytes { InspectorRegistry.recognize($0, fromClient: fromClient, hints) }
        if let inspector {
            entry.inspector = inspector
            // The other side's bytes held so far too (a client typing ahead of the
            // server's prompt), in the order the two sides spoke.
            let other = fromClient ? entry.serverHead : entry.clientHead
            let otherFirst = entry.clientHeadFirst != fromClient
            entry.clientHead = []
            entry.serverHead = []
            if otherFirst { other.withUnsafeBytes { self.consume(entry, $0, fromClient: !fromClient, transport: .tcp, &out) } }
            if !out.finished { head.withUnsafeBytes { self.consume(entry, $0, fromClient: fromClient, transport: .tcp, &out) } }
            if !otherFirst && !other.isEmpty && !out.finished {
                other.withUnsafeBytes { self.consume(entry, $0, fromClient: !fromClient, transport: .tcp, &out) }
            }
        } else if head.count >= Self.recognitionBytes {
            if fromClient { entry.clientTried = true; entry.clientHead = [] } else { entry.serverTried = true; entry.serverHead = [] }
            if entry.clientTried && entry.serverTried { out.finished = true }
        }
    }

    /// Every byte an inspector reads passes here.
    private func consume(_ entry: FlowInspection, _ bytes: UnsafeRawBufferPointer, fromClient: Bool, transport: IPProtocol, _ out: inout InspectionOutput) {
        guard let inspector = entry.inspector else { return }
        if let recorder { recorder(currentTable?.id(currentIndex) ?? 0, entry.inspectorName, transport, fromClient, bytes) }
        inspector.consume(bytes, fromClient: fromClient, &out)
    }

    private func done(_ record: UnsafeMutablePointer<FlowRecord>, _ index: Int32) {
        record.pointee.state |= FlowState.inspectionDone
        record.pointee.state &= ~FlowState.inspecting
        entries[Int(index)] = nil
    }

    /// The flow ends: its inspector reports what is pending into ``output``.
    /// Returns the packet the events belong to (the flow's first inspected
    /// packet: its tags and tunnels), or nil when nothing was inspected.
    public func flowEnded(_ index: Int32) -> DecodedPacket? {
        output.events.removeAll(keepingCapacity: true)
        if !output.dataChannels.isEmpty { output.dataChannels.removeAll(keepingCapacity: true) }
        if !output.secrets.isEmpty { output.secrets.removeAll(keepingCapacity: true) }
        output.appProtocol = nil
        guard let entry = entries[Int(index)] else { return nil }
        entries[Int(index)] = nil
        entry.inspector?.finish(&output)
        return entry.context
    }
}
