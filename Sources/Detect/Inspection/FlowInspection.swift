import Decode
import Flows

/// Inspection state of one flow: both directions' reassembly, the inspector
/// once recognised, and a copy of the first inspected packet (its tags and
/// tunnels, for events reported when the flow ends).
final class FlowInspection {
    var client: TCPStreamDirection
    var server: TCPStreamDirection
    var inspector: (any StreamInspector)?
    var clientTried = false
    var serverTried = false
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
/// Not thread-safe.
final class ApplicationInspection {
    let window: Int
    private var entries: [FlowInspection?]
    /// Datagrams of one UDP flow inspected at most.
    static let maximumDatagrams = 64

    init(capacity: Int, window: Int) {
        self.window = window
        entries = Array(repeating: nil, count: capacity)
    }

    /// Whether a flow has an inspection in progress.
    func isInspecting(_ index: Int32) -> Bool { entries[Int(index)] != nil }

    /// Offers one packet's payload; appends what the inspector reports to `out`.
    func inspect(flows: FlowTable, index: Int32, packet p: UnsafePointer<DecodedPacket>, fromClient: Bool,
                 hints: () -> FlowHints, _ out: inout InspectionOutput) {
        let record = flows.record(index)
        let payload = UnsafeRawBufferPointer(start: nil, count: 0)
        _ = payload
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
            start(flows: flows, index: index, packet: p, fromClient: fromClient, isTCP: isTCP, hints: hints, &out)
        }
        if out.finished { done(record, index) }
    }

    /// The packet's payload bytes (valid during the call).
    private func payload(_ p: UnsafePointer<DecodedPacket>, _ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[p.pointee.payloadOffset..<(p.pointee.payloadOffset + p.pointee.payloadLength)])
    }

    /// The bytes of the packet being processed, set by the caller for this call.
    var packetBytes = UnsafeRawBufferPointer(start: nil, count: 0)

    private func start(flows: FlowTable, index: Int32, packet p: UnsafePointer<DecodedPacket>, fromClient: Bool, isTCP: Bool,
                       hints: () -> FlowHints, _ out: inout InspectionOutput) {
        let record = flows.record(index)
        let bytes = payload(p, packetBytes)
        if isTCP {
            let expected = flows.synSequence(index, initiator: fromClient).map { $0 &+ 1 }
            if expected == nil || expected == p.pointee.tcpSequence {
                // In order: try the inspectors on the packet itself.
                guard let inspector = InspectorRegistry.recognize(bytes, fromClient: fromClient, hints()) else {
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
            guard let inspector = InspectorRegistry.recognize(bytes, fromClient: fromClient, hints()) else {
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
        if let isn = flows.synSequence(index, initiator: true) { entry.client.start(synSequence: isn) }
        if let isn = flows.synSequence(index, initiator: false) { entry.server.start(synSequence: isn) }
        entries[Int(index)] = entry
        return entry
    }

    private func feed(_ entry: FlowInspection, flows: FlowTable, index: Int32, packet p: UnsafePointer<DecodedPacket>, fromClient: Bool,
                      isTCP: Bool, hints: () -> FlowHints, _ out: inout InspectionOutput) {
        let bytes = payload(p, packetBytes)
        let record = flows.record(index)
        if !isTCP {
            entry.datagrams += 1
            entry.inspector?.consume(bytes, fromClient: fromClient, &out)
            if entry.datagrams >= Self.maximumDatagrams {
                entry.inspector?.finish(&out)
                out.finished = true
            }
            return
        }
        // Late SYN-ACK knowledge: the responder's start.
        if !fromClient && !entry.server.hasStart, let isn = flows.synSequence(index, initiator: false) { entry.server.start(synSequence: isn) }
        let deliver: (UnsafeRawBufferPointer) -> Void = { chunk in
            if entry.inspector == nil {
                if let inspector = InspectorRegistry.recognize(chunk, fromClient: fromClient, hints()) {
                    entry.inspector = inspector
                } else {
                    if fromClient { entry.clientTried = true } else { entry.serverTried = true }
                    if entry.clientTried && entry.serverTried { out.finished = true }
                    return
                }
            }
            if !out.finished { entry.inspector?.consume(chunk, fromClient: fromClient, &out) }
        }
        if fromClient {
            entry.client.receive(sequence: p.pointee.tcpSequence, payload: bytes, deliver: deliver)
        } else {
            entry.server.receive(sequence: p.pointee.tcpSequence, payload: bytes, deliver: deliver)
        }
        if entry.client.isComplete && entry.server.isComplete && !out.finished {
            entry.inspector?.finish(&out)
            out.finished = true
        }
        _ = record
    }

    private func done(_ record: UnsafeMutablePointer<FlowRecord>, _ index: Int32) {
        record.pointee.state |= FlowState.inspectionDone
        entries[Int(index)] = nil
    }

    /// The flow ends: the inspector reports what is pending. Returns the packet
    /// context the events belong to, or nil when nothing was inspected.
    func flowEnded(_ index: Int32, _ out: inout InspectionOutput) -> DecodedPacket? {
        guard let entry = entries[Int(index)] else { return nil }
        entries[Int(index)] = nil
        entry.inspector?.finish(&out)
        return entry.context
    }
}
