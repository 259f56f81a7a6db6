import Alerting
import Decode
import Flows
import Vocabulary
import Zones

/// A finding as the audit lists it: when, which rule, between whom (addresses
/// with their inventory names and zones), the user of a login (never a
/// secret: the inspectors report user names, passwords only as redacted) and
/// its evidence file.
public struct FindingRecord: Sendable, Equatable {
    init(timestamp: UInt64, sid: Int, rule: String, severity: String, signature: String, source: String, sourceName: String?, sourceZone: String?,
         destination: String, destinationName: String?, destinationZone: String?, user: String?, pcap: String?) {
        (self.timestamp, self.sid, self.rule, self.severity, self.signature) = (timestamp, sid, rule, severity, signature)
        (self.source, self.sourceName, self.sourceZone) = (source, sourceName, sourceZone)
        (self.destination, self.destinationName, self.destinationZone) = (destination, destinationName, destinationZone)
        (self.user, self.pcap) = (user, pcap)
    }

    public var timestamp: UInt64
    public var sid: Int
    public var rule: String
    public var severity: String
    /// `rule-name: message`.
    public var signature: String
    /// The signature without its rule's name: what the finding is, for the
    /// reports' tables (two 7001 rows of one flow differ only here: source or destination).
    public var what: String {
        let prefix = rule + ": "
        return signature.hasPrefix(prefix) ? String(signature.dropFirst(prefix.count)) : signature
    }
    public var source: String
    public var sourceName: String?
    public var sourceZone: String?
    public var destination: String
    public var destinationName: String?
    public var destinationZone: String?
    public var user: String?
    public var pcap: String?

    init(_ a: Alert) {
        timestamp = a.timestamp
        sid = a.sid
        rule = a.rule
        severity = a.severity.name
        signature = a.signature
        func endpoint(_ ip: IPAddress?, _ port: UInt16?, _ mac: MACAddress?) -> String {
            if let ip {
                guard a.hasPorts, let port else { return "\(ip)" }
                return ip.isIPv4 ? "\(ip):\(port)" : "[\(ip)]:\(port)"
            }
            return mac.map { "\($0)" } ?? "-"
        }
        source = endpoint(a.sourceIP, a.sourcePort, a.sourceMAC)
        destination = endpoint(a.destinationIP, a.destinationPort, a.destinationMAC)
        sourceName = a.sourceAsset?.label
        destinationName = a.destinationAsset?.label
        sourceZone = a.sourceZone
        destinationZone = a.destinationZone
        if case .text(let u)? = a.evidence("user") { user = u }
        pcap = a.pcap
    }
}

/// Traffic of one kind of infrastructure service (management, storage,
/// migration, console) as the captures showed it: how many flows, on which
/// services and segments, so that "no violation observed" says what was observed.
public struct Observation: Sendable {
    public var flows: UInt64 = 0
    /// Of them, flows whose application protocol an inspector recognised (a login, TLS, a storage
    /// or migration stream could be judged); the rest were seen by port alone (payload cut or absent).
    public var inspected: UInt64 = 0
    public var services = TopCounter<String>(capacity: 8)
    public var segments = TopCounter<String>(capacity: 8)

    mutating func merge(_ o: Observation) {
        flows += o.flows
        inspected += o.inspected
        services.merge(o.services)
        segments.merge(o.segments)
    }
}

/// One capture file read: the audit's coverage.
public struct CaptureCoverage: Sendable, Equatable {
    public var name: String
    /// Lowercase hex SHA-256 of the file; nil for standard input.
    public var sha256: String?
    public var packets: UInt64
    /// Its first and last packet's time (0: no packet).
    public var first: UInt64
    public var last: UInt64
    /// Why it was not read to the end, if so.
    public var error: String?
    /// The sensor that read it (a merged site report lists every sensor's); nil: this report's own.
    public var sensor: String?
    /// More on how it was read: its compression, decode errors, packets
    /// outside the time window, read out of the given order (nil: nothing to say).
    public var details: String?

    /// What the "read" column says: the error, or that every packet was read, and the details.
    public var readText: String { (error ?? read ?? "to its end") + (details.map { "; \($0)" } ?? "") }
    /// What the column says in place of "to its end" for what is no file (a live interface).
    public var read: String?

    /// The legend under the table of captures.
    public static let readLegend = "Read: \"to its end\" when every packet of a capture file was read, else the error it was read up to (or why it was not read); then its compression and whatever else became of it (decode errors, packets outside the time window, read out of the given order). A live interface is captured over the report's span."

    public init(name: String, sha256: String?, packets: UInt64, first: UInt64, last: UInt64, error: String? = nil, sensor: String? = nil) {
        self.sensor = sensor
        self.name = name
        self.sha256 = sha256
        self.packets = packets
        self.first = first
        self.last = last
        self.error = error
    }
}

/// The zone plan as the configuration declares it, for the audit report.
public struct ZonePlan: Sendable {
    public struct Entry: Sendable {
        public var name: String
        public var role: String
        public var vlans: String
        public var vnis: String
        public var subnets: String
    }
    public var zones: [Entry] = []
    /// `fw-core: 00:1b:21:aa:bb:cc (between admin and mgmt)`.
    public var gateways: [String] = []
    /// `admin -> mgmt: tcp/22, tcp/443`.
    public var allow: [String] = []
    public var policy: String = "roles"
    /// The rules the configuration turns off.
    public var rulesOff: [Int] = []

    init() {}

    init(_ config: ZoneConfig, rulesOff: [Int]) {
        func ranges<T: BinaryInteger>(_ r: [ClosedRange<T>]) -> String {
            r.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ", ")
        }
        zones = config.zones.map { z in
            // `public` as written, not the prefixes it stands for.
            let own = z.includesPublic ? z.subnets.filter { !IPPrefix.publicInternet.contains($0) } : z.subnets
            let subnets = own.map(\.description) + (z.includesPublic ? ["public"] : [])
            return Entry(name: z.name, role: z.role.rawValue, vlans: ranges(z.vlans), vnis: ranges(z.vnis), subnets: subnets.joined(separator: ", "))
        }
        gateways = config.gateways.map { g in
            "\(g.name): \(g.macs.map(\.description).joined(separator: ", "))" + (g.zones.isEmpty ? "" : " (between \(g.zones.joined(separator: " and ")))")
        }
        allow = config.allow.map { a in
            "\(a.from?.joined(separator: ", ") ?? "any") -> \(a.to?.joined(separator: ", ") ?? "any"): " + (a.services?.map(\.description).joined(separator: ", ") ?? "all services")
        }
        policy = config.policy.rawValue
        self.rulesOff = rulesOff
    }
}
