import Detect
import Vocabulary

/// The data connections that control sessions announced (FTP's PASV, EPSV,
/// PORT, EPRT), as the alert stage sees them: a connection that opens to an
/// announced port within a few minutes belongs to its session. Its findings
/// (a guest reaching a management host on port 21008, an address in no
/// zone) are the session's, already reported on its control connection:
/// they are counted here, not written again. The communication report counts
/// such a connection as the session's service (`tcp/21 ftp-data`).
///
/// Bounded: at most ``capacity`` announcements and as many data connections
/// are remembered, the oldest forgotten first. Not thread-safe: one per alert stage.
public final class DataChannels {
    /// A data connection announced by a control session.
    public struct Expected: Sendable, Equatable {
        public var initiator: IPAddress
        public var responder: IPAddress
        public var port: UInt16
        /// The session's service, `tcp/21`.
        public var session: String
        /// `ftp-data`.
        public var kind: String
        /// When it was announced (nanoseconds since the Unix epoch).
        public var announced: UInt64

        public init(initiator: IPAddress, responder: IPAddress, port: UInt16, session: String, kind: String, announced: UInt64) {
            self.initiator = initiator
            self.responder = responder
            self.port = port
            self.session = session
            self.kind = kind
            self.announced = announced
        }
    }

    struct Endpoints: Hashable {
        var initiator: IPAddress
        var responder: IPAddress
        var port: UInt16
    }

    public static let capacity = 4096
    /// How long an announcement waits for its connection.
    public static let window: UInt64 = 300 * 1_000_000_000
    private var expected: [Expected] = []
    /// Data connections found, by flow id and by endpoints (for the report), in order of arrival.
    private var flows: [UInt64: String] = [:]
    private var flowOrder: [UInt64] = []
    private var endpoints: [Endpoints: Expected] = [:]
    private var endpointOrder: [Endpoints] = []
    /// Findings on data connections, not written (their session's cover them), by sid.
    public private(set) var coveredBySID: [Int: Int] = [:]

    public init() {}

    /// A control session announced a data connection.
    public func expect(_ e: Expected) {
        if expected.count >= Self.capacity { expected.removeFirst(expected.count / 4) }
        expected.append(e)
    }

    /// Whether an announcement waits for its connection.
    public var isExpecting: Bool { !expected.isEmpty }

    /// A new flow (one pipeline sees them in order): it is a data connection
    /// if a session announced it. With several workers the first finding of
    /// the flow does this instead (``covers(_:)``).
    public func flowStarted(id: UInt64, initiator: IPAddress, responder: IPAddress, port: UInt16, at now: UInt64) {
        guard flows[id] == nil, let i = expected.firstIndex(where: {
            $0.initiator == initiator && $0.responder == responder && $0.port == port && now >= $0.announced && now - $0.announced <= Self.window
        }) else { return }
        remember(id, expected.remove(at: i))
    }

    /// Whether `d` is about a data connection of a session; counts it if so.
    public func covers(_ d: Detection) -> Bool {
        guard !expected.isEmpty || !flows.isEmpty, let id = d.subject.flowID else { return false }
        if flows[id] == nil {
            guard d.subject.ipProtocol == .tcp, let source = d.subject.sourceIP, let destination = d.subject.destinationIP,
                  let port = d.subject.destinationPort else { return false }
            let now = d.subject.timestamp
            guard let i = expected.firstIndex(where: {
                $0.initiator == source && $0.responder == destination && $0.port == port && now >= $0.announced && now - $0.announced <= Self.window
            }) else { return false }
            let e = expected.remove(at: i)
            remember(id, e)
        }
        coveredBySID[d.sid, default: 0] += 1
        return true
    }

    private func remember(_ id: UInt64, _ e: Expected) {
        if flowOrder.count >= Self.capacity {
            let old = flowOrder.prefix(Self.capacity / 4)
            for f in old { flows[f] = nil }
            flowOrder.removeFirst(old.count)
            for k in endpointOrder.prefix(Self.capacity / 4) { endpoints[k] = nil }
            endpointOrder.removeFirst(min(Self.capacity / 4, endpointOrder.count))
        }
        flows[id] = e.session
        flowOrder.append(id)
        let k = Endpoints(initiator: e.initiator, responder: e.responder, port: e.port)
        if endpoints.updateValue(e, forKey: k) == nil { endpointOrder.append(k) }
    }

    /// The data connection from `initiator` to `responder`:`port`, if one was
    /// found: `tcp/21 ftp-data` (for the communication report).
    public func sessionService(initiator: IPAddress, responder: IPAddress, port: UInt16) -> String? {
        endpoints[Endpoints(initiator: initiator, responder: responder, port: port)].map { "\($0.session) \($0.kind)" }
    }
}
