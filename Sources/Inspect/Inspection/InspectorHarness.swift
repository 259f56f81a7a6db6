import Vocabulary

/// Feeds a dialogue straight to one inspector, without recognition: the
/// fuzzers reach each stream parser with arbitrary bytes this way, and the
/// regression tests replay what the fuzzers found. The entries derive from
/// ``InspectorRegistry/all``: one per inspector and transport.
public enum InspectorHarness {
    struct Entry: Sendable {
        /// `telnet`, or `oncrpc-tcp` / `oncrpc-udp` for an inspector of both transports.
        var name: String
        var inspector: any StreamInspector.Type
        var transport: IPProtocol
    }

    static let entries: [Entry] = InspectorRegistry.all.flatMap { inspector in
        inspector.transports.map { transport in
            Entry(name: inspector.transports.count > 1 ? "\(inspector.name)-\(transport.serviceName)" : inspector.name,
                  inspector: inspector, transport: transport)
        }
    }

    /// The harness entries' names, by index.
    public static let names = entries.map(\.name)

    /// The harness index of an inspector reading `transport` (nil: none).
    public static func index(inspector name: String, transport: IPProtocol) -> Int? {
        entries.firstIndex { $0.inspector.name == name && $0.transport == transport }
    }

    /// Runs `dialogue` (which side sent each piece) through entry `index`
    /// (modulo the count), stopping where it says it has finished; returns how
    /// many events it reported.
    @discardableResult
    public static func run(_ index: Int, _ dialogue: [(fromClient: Bool, bytes: [UInt8])]) -> Int {
        runCollecting(index, dialogue).count
    }

    /// As ``run(_:_:)``, returning the events.
    public static func runCollecting(_ index: Int, _ dialogue: [(fromClient: Bool, bytes: [UInt8])]) -> [AppEvent] {
        let entry = entries[abs(index % entries.count)]
        let inspector = make(entry.inspector, entry.transport)
        var out = InspectionOutput()
        var events: [AppEvent] = []
        for (fromClient, bytes) in dialogue {
            bytes.withUnsafeBytes { inspector.consume($0, fromClient: fromClient, &out) }
            events += out.events
            out.events.removeAll(keepingCapacity: true)
            if out.finished { return events }
        }
        inspector.finish(&out)
        return events + out.events
    }

    private static func make<T: StreamInspector>(_ type: T.Type, _ transport: IPProtocol) -> any StreamInspector { T.make(transport: transport) }

    /// Cuts fuzz input into a dialogue: a byte whose low bit says the side and
    /// a byte giving the length of each piece (0: the rest).
    public static func dialogue(_ input: UnsafeRawBufferPointer) -> [(fromClient: Bool, bytes: [UInt8])] {
        var pieces: [(fromClient: Bool, bytes: [UInt8])] = []
        var i = 0
        while i + 2 <= input.count && pieces.count < 64 {
            let side = input[i] & 1 == 0
            var length = Int(input[i + 1])
            i += 2
            if length == 0 || i + length > input.count { length = input.count - i }
            pieces.append((side, Array(input[i..<(i + length)])))
            i += length
        }
        return pieces
    }

    /// The framing ``dialogue(_:)`` reads, for entry `index`: pieces longer
    /// than 255 bytes are split.
    public static func frame(_ index: Int, _ dialogue: [(fromClient: Bool, bytes: [UInt8])]) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(truncatingIfNeeded: index)]
        for (fromClient, piece) in dialogue {
            for start in stride(from: 0, to: max(piece.count, 1), by: 255) {
                let chunk = Array(piece[start..<min(start + 255, piece.count)])
                bytes += [fromClient ? 0 : 1, UInt8(chunk.count)] + chunk
            }
        }
        return bytes
    }
}
