import Alerting
import Decode
import Detect
import Flows
import Vocabulary
import Zones

/// Who talks to whom across the zones: the data of `zonewarden report`,
/// gathered from each flow as it ends and each alert, in memory bounded by
/// the number of zones (services, addresses and segments are kept as
/// bounded top lists). Value type: the live sensor's threads each keep one
/// and they are merged.
public struct CommunicationReport: Sendable {
    /// One cell of the zone matrix: flows from zone `from` to zone `to`.
    public struct Cell: Sendable {
        public var flows: UInt64 = 0
        public var packets: UInt64 = 0
        public var bytes: UInt64 = 0
        public var services = TopCounter<String>(capacity: 32)
        /// Alerts raised on this cell's flows, by sid.
        public var alerts: [Int: Int] = [:]
        /// Whether the cell breaks the role rules or the allow list (an alert of 1001-1006 or 6002).
        public var violation = false
    }

    /// Zone names by id (0: "no zone"), with their roles.
    public let zoneNames: [String]
    public let zoneRoles: [String]
    public internal(set) var cells: [UInt32: Cell] = [:]
    /// VLANs and VNIs no zone declares (5002), with their first sighting.
    public internal(set) var undeclaredSegments: [String: UInt64] = [:]
    /// Addresses in no zone (7001), by how often they were reported.
    public internal(set) var unknownAddresses = TopCounter<String>(capacity: 256)
    public internal(set) var alertsBySID: [Int: Int] = [:]
    public internal(set) var flows: UInt64 = 0
    public internal(set) var packets: UInt64 = 0
    public internal(set) var bytes: UInt64 = 0
    public var firstTimestamp: UInt64 = 0
    public var lastTimestamp: UInt64 = 0
    public var captures: [String] = []
    public var configFile: String
    /// Where the report is written (evidence links are made relative to it); nil: standard output.
    public var outputPath: String?
    /// The configuration's exceptions and what each accepted (``AcceptedRisk``).
    public var acceptedRisks: [AcceptedRisk] = []
    /// Findings with their evidence files (`--evidence`), the first ``evidencePerRule`` of each rule.
    public internal(set) var evidence: [Int: [EvidenceLink]] = [:]
    public static let evidencePerRule = 20

    /// Drops the links to evidence files for which `exists` does not hold.
    mutating func keepEvidence(where exists: (String) -> Bool) {
        for (sid, links) in evidence {
            let kept = links.filter { exists($0.pcap) }
            evidence[sid] = kept.isEmpty ? nil : kept
        }
        for i in findings.indices where findings[i].pcap.map(exists) == false { findings[i].pcap = nil }
    }

    // The audit (``Audit``): what it judges by, beside the counts above.
    /// The findings, the first ``findingsPerRule`` of each rule in time order (every one is counted in ``alertsBySID``).
    public internal(set) var findings: [FindingRecord] = []
    public static let findingsPerRule = 50
    /// Infrastructure traffic by service class (`management`, `storage`, `migration`, `console`): what was seen where.
    public internal(set) var observed: [String: Observation] = [:]
    /// Flows by segment (`VLAN 30`, `VNI 6000`, `untagged`).
    public internal(set) var segments = TopCounter<String>(capacity: 64)
    /// Each capture read, with its hash and time span (offline); empty for a live sensor.
    public var coverage: [CaptureCoverage] = []
    /// The time window the analysis was told to keep to (`--since`, `--until`); nil: all of the captures.
    /// Merged reports: the window covering all of theirs (``windowsDiffer`` when they were not the same).
    public var window: AnalysisWindow?
    /// Merged reports kept to different windows: the merged one is not read whole.
    public var windowsDiffer = false
    /// The zone plan the captures were judged by.
    public var plan = ZonePlan()
    /// The rules that ran (nil: not known, every rule counts as on).
    public var enabledRules: Set<Int>?
    /// Rules on that cannot fire in this run (7002 without a state file): the audit does not count them as having looked.
    public var inertRules: Set<Int> = []
    /// `zonewarden 0.1.0`.
    public var sensorVersion = ""
    /// The sensor's name (`sensor.name`, else the host name): merged site reports list each.
    public var sensorName = ""
    /// The verdicts of a site report merged from sensors' reports (``ReportMerge``); nil: judged from this report's data.
    public var mergedAudit: [Audit.Result]?
    /// The configuration file's SHA-256.
    public var configSHA256: String?

    /// A finding and the pcap file that holds its packets.
    public struct EvidenceLink: Sendable, Equatable {
        public var timestamp: UInt64
        /// `rule-name: message`.
        public var signature: String
        /// The file's path as the alert names it.
        public var pcap: String
    }

    /// One exception (`exceptions:`) as the report lists it: the findings it
    /// kept from being alerts, with who accepted them why, and until when.
    public struct AcceptedRisk: Sendable, Equatable {
        /// `site.yaml:40`.
        public var place: String
        /// What it accepts: `1001, 1006 from web to mgmt on tcp/443`.
        public var scope: String
        public var reason: String
        /// `YYYY-MM-DD` or nil (no expiry).
        public var expires: String?
        public var expired: Bool
        public var findings: Int
        /// The sids it accepts (the audit says which points' findings were accepted).
        public var rules: Set<Int> = []

        public init(place: String, scope: String, reason: String, expires: String?, expired: Bool, findings: Int) {
            self.place = place
            self.scope = scope
            self.reason = reason
            self.expires = expires
            self.expired = expired
            self.findings = findings
        }

        /// `earlier` (what a configuration in force before a reload accepted)
        /// followed by `current`; an entry in both (the same place, scope and
        /// reason) once, with both counts.
        public static func merged(_ earlier: [AcceptedRisk], _ current: [AcceptedRisk]) -> [AcceptedRisk] {
            var result = earlier
            for risk in current {
                if let i = result.firstIndex(where: { $0.place == risk.place && $0.scope == risk.scope && $0.reason == risk.reason }) {
                    result[i].findings += risk.findings
                    result[i].expired = risk.expired
                    result[i].expires = risk.expires
                } else {
                    result.append(risk)
                }
            }
            return result
        }

        /// Every entry of `exceptions` with its count so far; `expired` if it
        /// expired before `time` (the last packet's: the report of the same
        /// captures says the same whatever day it is written).
        public static func list(_ exceptions: AlertExceptions?, at time: UInt64) -> [AcceptedRisk] {
            guard let exceptions else { return [] }
            let now = time
            return exceptions.settings.indices.map { i in
                let e = exceptions.settings[i]
                var risk = AcceptedRisk(place: "\(exceptions.file):\(e.position.line)", scope: exceptions.scope(i), reason: e.reason,
                                        expires: e.expires, expired: e.isExpired(at: now), findings: exceptions.accepted[i])
                risk.rules = exceptions.rules(i)
                return risk
            }
        }
    }

    /// The rules whose alerts mark a cell as a violation of the communication plan.
    public static let violationRules: Set<Int> = [1001, 1002, 1003, 1004, 1005, 1006, 6002]

    public init(zones: ZoneMap) {
        zoneNames = ["no zone"] + zones.config.zones.map(\.name)
        zoneRoles = [""] + zones.config.zones.map(\.role.rawValue)
        configFile = zones.config.file
        plan = ZonePlan(zones.config, rulesOff: [])
        sensorName = zones.config.sensor.effectiveName
    }

    /// What the audit needs besides the traffic: the rules that ran, the sensor's version, the configuration's hash.
    public mutating func describe(enabledRules: Set<Int>, version: String, configSHA256: String?) {
        self.enabledRules = enabledRules
        plan.rulesOff = RuleRegistry.all.map { $0.metadata.sid }.filter { !enabledRules.contains($0) }
        sensorVersion = version
        self.configSHA256 = configSHA256
    }

    init(zoneNames: [String], zoneRoles: [String], configFile: String) {
        self.zoneNames = zoneNames
        self.zoneRoles = zoneRoles
        self.configFile = configFile
    }

    /// The report so far under a new configuration's zones (a reload): cells
    /// keep their zone by name; a zone the new configuration no longer has
    /// stays in the report with its counts, after the new zones.
    public func rezoned(_ zones: ZoneMap) -> CommunicationReport {
        var names = ["no zone"] + zones.config.zones.map(\.name)
        var roles = [""] + zones.config.zones.map(\.role.rawValue)
        var index: [Int] = []
        for (i, name) in zoneNames.enumerated() {
            if let j = names.firstIndex(of: name) {
                index.append(j)
            } else {
                names.append(name)
                roles.append(zoneRoles[i])
                index.append(names.count - 1)
            }
        }
        var r = CommunicationReport(zoneNames: names, zoneRoles: roles, configFile: zones.config.file)
        for (k, c) in cells { r.cells[Self.key(index[Int(k >> 16)], index[Int(k & 0xFFFF)])] = c }
        r.undeclaredSegments = undeclaredSegments
        r.unknownAddresses = unknownAddresses
        r.alertsBySID = alertsBySID
        r.flows = flows
        r.packets = packets
        r.bytes = bytes
        r.firstTimestamp = firstTimestamp
        r.lastTimestamp = lastTimestamp
        r.captures = captures
        r.acceptedRisks = acceptedRisks
        r.evidence = evidence
        r.outputPath = outputPath
        r.findings = findings
        r.observed = observed
        r.segments = segments
        r.coverage = coverage
        r.plan = ZonePlan(zones.config, rulesOff: plan.rulesOff)
        r.enabledRules = enabledRules
        r.inertRules = inertRules
        r.sensorVersion = sensorVersion
        r.sensorName = sensorName
        r.configSHA256 = configSHA256
        r.mergedAudit = mergedAudit
        return r
    }

    static func key(_ from: Int, _ to: Int) -> UInt32 { UInt32(from) << 16 | UInt32(to) }

    /// The key of ``observed`` for flows of a service class between addresses in no zone.
    static func outsideZonesKey(_ kind: String) -> String { "\(kind) outside zones" }

    /// Counts, for the audit, a storage or migration flow the rules could not judge:
    /// its responder and segment are in no zone.
    mutating func noteOutsideZones(_ r: borrowing FlowRecord, _ serviceClass: ServiceClass) {
        var o = observed[Self.outsideZonesKey(serviceClass.rawValue)] ?? Observation()
        o.flows += 1
        if r.appProtocol != 0 { o.inspected += 1 }
        o.services.add(Self.service(r))
        o.segments.add(Self.segment(r.key.segment))
        observed[Self.outsideZonesKey(serviceClass.rawValue)] = o
    }

    /// Counts a flow that ended.
    /// - Parameters:
    ///   - service: the service to count it under, when not its own
    ///     (a data connection counts under its session's: `tcp/21 ftp-data`).
    ///   - serviceClass: the infrastructure service it is (by the catalogue), for the audit's observations.
    public mutating func add(_ r: borrowing FlowRecord, service: String? = nil, serviceClass: ServiceClass? = nil) {
        let segment = Self.segment(r.key.segment)
        segments.add(segment)
        if let serviceClass {
            var o = observed[serviceClass.rawValue] ?? Observation()
            o.flows += 1
            if r.appProtocol != 0 { o.inspected += 1 }
            if let service { o.services.add(service) } else { o.services.add(Self.service(r)) }
            let zone = Int(r.segmentZone)
            o.segments.add(zone != 0 && zone < zoneNames.count ? "\(segment) (zone \(zoneNames[zone]))" : segment)
            observed[serviceClass.rawValue] = o
        }
        let k = Self.key(Int(r.sourceZone), Int(r.destinationZone))
        var cell = cells[k] ?? Cell()
        cell.flows += 1
        let p = r.packetsFromInitiator + r.packetsFromResponder
        let b = r.bytesFromInitiator + r.bytesFromResponder
        cell.packets += p
        cell.bytes += b
        if let service { cell.services.add(service) } else { cell.services.add(Self.service(r)) }
        cells[k] = cell
        flows += 1
        packets += p
        bytes += b
    }

    /// `VLAN 30`, `VNI 6000` or `untagged`.
    static func segment(_ s: Segment) -> String {
        s.hasVNI ? "VNI \(s.vni)" : s.vlan != 0 ? "VLAN \(s.vlan)" : "untagged"
    }

    /// The responder's service: `tcp/443`, `udp/53`, `icmp`, `ethertype 0x88a2`.
    static func service(_ r: borrowing FlowRecord) -> String {
        if r.key.isEthernet { return "ethertype 0x" + String(r.key.protocolNumber, radix: 16) }
        let proto = IPProtocol(rawValue: UInt8(truncatingIfNeeded: r.key.protocolNumber))
        let v = proto.rawValue
        return v == 6 || v == 17 || v == 132 ? "\(proto.serviceName)/\(r.responderPort)" : proto.serviceName
    }

    /// Counts an alert: by rule, on its zone pair, and the segments and addresses it names.
    public mutating func add(_ alert: Alert) {
        alertsBySID[alert.sid, default: 0] += 1
        if alertsBySID[alert.sid]! <= Self.findingsPerRule { findings.append(FindingRecord(alert)) }
        if let pcap = alert.pcap, evidence[alert.sid, default: []].count < Self.evidencePerRule {
            evidence[alert.sid, default: []].append(EvidenceLink(timestamp: alert.timestamp, signature: alert.signature, pcap: pcap))
        }
        if let from = alert.sourceZone.flatMap({ zoneNames.firstIndex(of: $0) }) ?? (alert.sourceZone == nil ? 0 : nil),
           let to = alert.destinationZone.flatMap({ zoneNames.firstIndex(of: $0) }) ?? (alert.destinationZone == nil ? 0 : nil),
           alert.sourceIP != nil || alert.sourceMAC != nil {
            let k = Self.key(from, to)
            var cell = cells[k] ?? Cell()
            cell.alerts[alert.sid, default: 0] += 1
            if Self.violationRules.contains(alert.sid) { cell.violation = true }
            cells[k] = cell
        }
        switch alert.sid {
        case 5002:
            if case .number(let v)? = alert.evidence("vlan") { undeclaredSegments["VLAN \(v)", default: alert.timestamp] = min(undeclaredSegments["VLAN \(v)"] ?? .max, alert.timestamp) }
            if case .number(let v)? = alert.evidence("vni") { undeclaredSegments["VNI \(v)", default: alert.timestamp] = min(undeclaredSegments["VNI \(v)"] ?? .max, alert.timestamp) }
        case 7001:
            if let a = alert.evidence("address")?.stringValue { unknownAddresses.add(a) }
        default:
            break
        }
    }

    /// Adds another thread's report.
    public mutating func merge(_ other: CommunicationReport) {
        for (k, c) in other.cells {
            var cell = cells[k] ?? Cell()
            cell.flows += c.flows
            cell.packets += c.packets
            cell.bytes += c.bytes
            cell.services.merge(c.services)
            for (sid, n) in c.alerts { cell.alerts[sid, default: 0] += n }
            cell.violation = cell.violation || c.violation
            cells[k] = cell
        }
        for (s, t) in other.undeclaredSegments { undeclaredSegments[s] = min(undeclaredSegments[s] ?? .max, t) }
        unknownAddresses.merge(other.unknownAddresses)
        for (sid, n) in other.alertsBySID { alertsBySID[sid, default: 0] += n }
        for (sid, links) in other.evidence {
            evidence[sid] = Array((evidence[sid, default: []] + links).sorted { $0.timestamp < $1.timestamp }.prefix(Self.evidencePerRule))
        }
        let perRule = Dictionary(grouping: findings + other.findings, by: \.sid)
        findings = perRule.keys.sorted().flatMap { perRule[$0]!.sorted { $0.timestamp < $1.timestamp }.prefix(Self.findingsPerRule) }
        for (k, o) in other.observed { observed[k, default: Observation()].merge(o) }
        segments.merge(other.segments)
        coverage += other.coverage
        flows += other.flows
        packets += other.packets
        bytes += other.bytes
        if other.firstTimestamp != 0 && (firstTimestamp == 0 || other.firstTimestamp < firstTimestamp) { firstTimestamp = other.firstTimestamp }
        lastTimestamp = max(lastTimestamp, other.lastTimestamp)
        captures += other.captures.filter { !captures.contains($0) }
        if window != other.window { windowsDiffer = true }
        window = AnalysisWindow.widest(window, other.window)
        // The same exceptions on every interface: their counts add up.
        for a in other.acceptedRisks {
            if let i = acceptedRisks.firstIndex(where: { $0.place == a.place && $0.scope == a.scope }) {
                acceptedRisks[i].findings += a.findings
            } else {
                acceptedRisks.append(a)
            }
        }
    }

    /// The findings kept, in time order (a stable sort: those of one moment stay in the order written).
    public var findingsByTime: [FindingRecord] {
        findings.enumerated().sorted { ($0.element.timestamp, $0.offset) < ($1.element.timestamp, $1.offset) }.map(\.element)
    }

    /// The cells with traffic, by zone order.
    public var sortedCells: [(from: Int, to: Int, cell: Cell)] {
        cells.filter { $0.value.flows > 0 || !$0.value.alerts.isEmpty }
            .map { (Int($0.key >> 16), Int($0.key & 0xFFFF), $0.value) }
            .sorted { ($0.from, $0.to) < ($1.from, $1.to) }
    }

    /// The zones that appear in a cell, in configuration order ("no zone" last).
    public var activeZones: [Int] {
        var seen = Set<Int>()
        for c in sortedCells { seen.insert(c.from); seen.insert(c.to) }
        return seen.sorted { ($0 == 0 ? Int.max : $0) < ($1 == 0 ? Int.max : $1) }
    }

    public func cell(_ from: Int, _ to: Int) -> Cell? { cells[Self.key(from, to)] }
}

/// The part of the captures an analysis was told to keep to (`--since`,
/// `--until`), in nanoseconds since the epoch; nil: that side is open.
public struct AnalysisWindow: Sendable, Equatable {
    public var since: UInt64?
    public var until: UInt64?

    public init(since: UInt64?, until: UInt64?) {
        self.since = since
        self.until = until
    }

    /// From `--since`/`--until`'s bounds (0 and `.max` are open); nil when both are.
    public init?(start: UInt64, end: UInt64) {
        guard start > 0 || end < .max else { return nil }
        self.init(since: start > 0 ? start : nil, until: end < .max ? end : nil)
    }

    /// The window covering both of two reports' merged: none when either read all of its captures.
    static func widest(_ a: AnalysisWindow?, _ b: AnalysisWindow?) -> AnalysisWindow? {
        guard let a, let b else { return nil }
        let since = a.since.flatMap { x in b.since.map { min(x, $0) } }
        let until = a.until.flatMap { x in b.until.map { max(x, $0) } }
        return since == nil && until == nil ? nil : AnalysisWindow(since: since, until: until)
    }

    /// What the coverage says of the report's window (nil: nothing to say).
    static func sentence(_ r: CommunicationReport) -> String? {
        if r.windowsDiffer {
            return "The merged reports kept to different time windows (--since/--until)" + (r.window.map { ", together \($0.text)" } ?? "")
                + "; each capture's row says what of it was analysed."
        }
        return r.window.map { "Only the packets \($0.text) were analysed (--since/--until)." }
    }

    /// "from 2026-11-01T00:00:00Z to the end", for the report's coverage.
    var text: String {
        "from \(since.map(Timestamp.rfc3339) ?? "the beginning") to \(until.map(Timestamp.rfc3339) ?? "the end")"
    }
}
