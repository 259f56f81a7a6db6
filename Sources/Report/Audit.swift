import Detect
import Vocabulary

/// The M 5.154 audit at the head of the report: for each point of the
/// measure (and the IT-Grundschutz Kompendium requirements it maps to, see
/// docs/audit.md), whether the captures show it **violated** (its rules'
/// findings), **no violation observed** (with what was observed), or **not
/// assessed** (with why: no such traffic, a rule turned off, nothing declared
/// to judge by, or not observable on the wire at all).
public enum Audit {
    public enum Verdict: String, Sendable {
        case violated
        case noViolationObserved = "no_violation_observed"
        case notAssessed = "not_assessed"

        /// As the report's tables write it.
        public var label: String {
            switch self {
            case .violated: "violated"
            case .noViolationObserved: "no violation observed"
            case .notAssessed: "not assessed"
            }
        }
    }

    /// A point of M 5.154.
    public struct Point: Sendable {
        /// The rules' measure point (``Detect/RuleMetadata/measurePoint``), or the point's own words when no rule covers it.
        public let point: String
        /// The Kompendium requirements it maps to (SYS.1.5 Virtualisierung, NET.1.1 Netzarchitektur und -design).
        public let requirements: [String]
        /// The traffic that must have been seen for the point to be assessed (nil: none can show it).
        let evidence: Needs?
        /// Why no capture can show it (points with no rule).
        let unobservable: String?
    }

    enum Needs: Sendable, Equatable {
        case zoneTraffic(Role), service(String), inspectedService(String), tags, traffic, plannedTraffic, gateways, managementServices, inspectedManagement
    }

    /// One point judged.
    public struct Result: Sendable {
        public let point: String
        public let requirements: [String]
        public let rules: [Int]
        public let verdict: Verdict
        public let reason: String
        /// Findings of its rules (all of them counted, the first of each listed in the report).
        public let findings: Int
    }

    /// The points, in the order of the measure. Requirements after the
    /// Kompendium (edition 2023) as docs/audit.md lists them with their sources.
    public static let points: [Point] = [
        Point(point: "management network separated", requirements: ["SYS.1.5.A5", "SYS.1.5.A11", "NET.1.1.A21"], evidence: .zoneTraffic(.management), unobservable: nil),
        Point(point: "VLAN alone is not enough", requirements: ["SYS.1.5.A15", "NET.1.1.A24"], evidence: .tags, unobservable: nil),
        Point(point: "physically separate management network", requirements: ["NET.1.1.A31", "NET.1.1.A32"], evidence: nil,
              unobservable: "not observable on the wire: a VLAN tag shows the logical segment, not the cabling or the switch (check the switch and vSwitch configuration)"),
        Point(point: "admin interfaces protected", requirements: ["SYS.1.5.A5", "SYS.1.5.A25"], evidence: .managementServices, unobservable: nil),
        Point(point: "admin interfaces encrypted", requirements: ["SYS.1.5.A11", "NET.1.1.A7"], evidence: .inspectedManagement, unobservable: nil),
        Point(point: "authentication data encrypted", requirements: ["SYS.1.5.A11", "NET.1.1.A7"], evidence: .inspectedManagement, unobservable: nil),
        Point(point: "no anonymous access", requirements: ["SYS.1.5.A5"], evidence: .inspectedManagement, unobservable: nil),
        Point(point: "storage network separated", requirements: ["SYS.1.5.A9", "NET.1.1.A22", "NET.1.1.A23"], evidence: .service("storage"), unobservable: nil),
        Point(point: "storage access authenticated", requirements: ["SYS.1.5.A9"], evidence: .inspectedService("storage"), unobservable: nil),
        Point(point: "migration network separated", requirements: ["SYS.1.5.A9"], evidence: .service("migration"), unobservable: nil),
        Point(point: "migration data protected", requirements: ["SYS.1.5.A11"], evidence: .inspectedService("migration"), unobservable: nil),
        Point(point: "communication planned", requirements: ["SYS.1.5.A6", "NET.1.1.A22", "NET.1.1.A23"], evidence: .plannedTraffic, unobservable: nil),
        Point(point: "no undesired connections via multi-homed VMs", requirements: ["SYS.1.5.A4"], evidence: .traffic, unobservable: nil),
        Point(point: "gateways cannot be bypassed", requirements: ["SYS.1.5.A4", "NET.1.1.A21"], evidence: .gateways, unobservable: nil),
        Point(point: "virtual firewalls used with care", requirements: ["SYS.1.5.A4"], evidence: nil,
              unobservable: "not observable on the wire: a virtual firewall's rules show only in what they let through (every finding above), not in what they drop"),
    ]

    /// The rules of a point, from the rule catalogue (each rule names its
    /// point), and the rules of another point that also bear on it
    /// (``alsoJudgedBy``).
    public static func rules(of point: String) -> [Int] {
        RuleRegistry.all.filter { $0.metadata.measurePoint == point }.map { $0.metadata.sid } + (alsoJudgedBy[point] ?? [])
    }

    /// Findings of one point that break another as well: an admin interface
    /// whose login an inspector read in clear (2001), that let a user in
    /// anonymously in clear (2002: a VNC console with security type None, an
    /// anonymous FTP login), or whose console authenticates without TLS or runs
    /// SSL 3.0 / TLS 1.0 (2004) is an admin interface not encrypted.
    static let alsoJudgedBy: [String: [Int]] = ["admin interfaces encrypted": [2001, 2002, 2004]]

    /// Rules that cannot fire in this report however the traffic looks: 1005
    /// under `policy: roles` (it judges only a default-deny plan), and those
    /// the report says cannot run (7002 without a state file).
    static func inert(_ r: CommunicationReport) -> Set<Int> {
        var rules = r.inertRules
        if r.plan.policy == "roles" { rules.insert(1005) }
        return rules
    }

    /// Every point judged on the report's data.
    public static func assess(_ r: CommunicationReport) -> [Result] {
        r.mergedAudit ?? points.map { assess($0, r) }
    }

    static func assess(_ p: Point, _ r: CommunicationReport) -> Result {
        let rules = rules(of: p.point)
        let counts = rules.compactMap { sid in r.alertsBySID[sid].map { (sid, $0) } }.filter { $0.1 > 0 }
        let total = counts.reduce(0) { $0 + $1.1 }
        func result(_ v: Verdict, _ reason: String) -> Result {
            Result(point: p.point, requirements: p.requirements, rules: rules, verdict: v, reason: reason, findings: total)
        }
        // Findings an exception kept from being alerts are a decision, said with the verdict.
        let accepted = r.acceptedRisks.filter { $0.findings > 0 && !$0.rules.isDisjoint(with: rules) }
        let acceptedNote = accepted.isEmpty ? "" : "; " + accepted.map {
            "\($0.findings) finding\($0.findings == 1 ? "" : "s") accepted as a risk (\($0.place)\($0.expired ? ", expired" : ""))"
        }.joined(separator: ", ")
        if total > 0 {
            return result(.violated, "\(total) finding\(total == 1 ? "" : "s"): " + counts.map { "\($0.0) \(ReportText.ruleNames[$0.0] ?? "") ×\($0.1)" }.joined(separator: ", ") + acceptedNote)
        }
        if let why = p.unobservable { return result(.notAssessed, why) }
        let enabled = rules.filter { r.enabledRules?.contains($0) ?? true }
        if enabled.isEmpty { return result(.notAssessed, "rule\(rules.count == 1 ? "" : "s") \(rules.map(String.init).joined(separator: ", ")) off in the configuration") }
        let inertHere = inert(r)
        // A rule that could not run here anyway blocks nothing by being off.
        let off = rules.filter { !enabled.contains($0) && !inertHere.contains($0) }
        let on = enabled.filter { !inertHere.contains($0) }, idle = enabled.filter { inertHere.contains($0) }
        func list(_ sids: [Int]) -> String { "rule\(sids.count == 1 ? "" : "s") \(sids.map(String.init).joined(separator: ", "))" }
        let offNote = off.isEmpty ? "" : "; \(list(off)) off in the configuration"
        let idleNote = idle.isEmpty ? "" : "; " + idle.map { $0 == 1005 ? "1005 judges only under policy default-deny" : "\($0) cannot run here (no state file)" }.joined(separator: ", ")
        guard let needs = p.evidence else { return result(.notAssessed, "no rule covers it") }
        if on.isEmpty { return result(.notAssessed, "no rule of it can run here" + idleNote + offNote) }
        switch observation(needs, r) {
        case .missing(let why):
            // A finding accepted as a risk shows the rules judged such traffic: no violation observed, the decision
            // named; only from exceptions of this point's rules alone (an exception's count is not split by rule).
            let own = accepted.filter { $0.rules.isSubset(of: Set(rules)) }
            if !own.isEmpty && off.isEmpty { return result(.noViolationObserved, String(acceptedNote.dropFirst(2)) + "; " + why + idleNote) }
            return result(.notAssessed, why + offNote + idleNote + acceptedNote)
        case .seen(let what):
            // A rule of the point that is off could have found what the others cannot: the point is not
            // assessed as a whole, however clean the rules that are on came out.
            if !off.isEmpty { return result(.notAssessed, "\(list(off)) off in the configuration; \(list(on)) found nothing in: " + what + idleNote + acceptedNote) }
            return result(.noViolationObserved, what + idleNote + acceptedNote)
        }
    }

    enum Seen {
        case seen(String), missing(String)

        /// ` (N of them inspected)` after what was seen.
        func annotated(inspected: UInt64, of flows: UInt64) -> Seen {
            guard case .seen(let what) = self else { return self }
            return .seen(what + "; \(inspected) of \(flows) with the protocol recognised")
        }
    }

    /// What the captures showed of the traffic a point is judged on.
    static func observation(_ needs: Needs, _ r: CommunicationReport) -> Seen {
        func plural(_ n: UInt64, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
        // The largest few, and how many more there are (a reason cut short says so).
        func top(_ c: TopCounter<String>, _ n: Int = 4) -> String {
            c.top(n).map { "\($0.key) ×\($0.count)" }.joined(separator: ", ") + (c.count > n ? " and \(c.count - n) more" : "")
        }
        // No traffic of the kind in a zone: whether some ran between addresses in no zone (unjudged, not absent).
        func unseen(_ kind: String) -> String {
            guard let o = r.observed[CommunicationReport.outsideZonesKey(kind)], o.flows > 0 else { return "no \(kind) traffic seen" }
            // By port only, unless an inspector recognised the protocol: port 8000 between two unplanned hosts may be anything.
            let recognised = o.inspected > 0 ? ", \(o.inspected) with the protocol recognised" : ""
            return "no \(kind) traffic seen in a zone; \(plural(o.flows, "flow")) on \(kind) ports to addresses in no zone\(recognised) (\(top(o.services)) on \(top(o.segments, 3))): declare their zones to judge them"
        }
        switch needs {
        case .traffic, .plannedTraffic:
            if r.flows == 0 { return .missing("no traffic seen") }
            let policy = needs == .plannedTraffic && r.plan.policy == "roles"
                ? " (with policy roles, unplanned pairs of zones are judged by the role rules only; default-deny with an allow list judges every pair, 1005)" : ""
            return .seen("\(plural(r.flows, "flow")) on \(top(r.segments))\(policy)")
        case .tags:
            let tagged = r.segments.top(64).filter { $0.key != "untagged" }
            if tagged.isEmpty { return .missing("no VLAN or VNI tags seen (a mirror port may strip them)") }
            return .seen("\(tagged.count) tagged segment\(tagged.count == 1 ? "" : "s") seen: " + tagged.prefix(6).map { "\($0.key) ×\($0.count)" }.joined(separator: ", ")
                         + (tagged.count > 6 ? " and \(tagged.count - 6) more" : ""))
        case .gateways:
            if r.plan.gateways.isEmpty { return .missing("no gateways declared (gateways:): a bypass cannot be told from a route") }
            return r.flows == 0 ? .missing("no traffic seen") : .seen("\(plural(r.flows, "flow")) judged against \(r.plan.gateways.count) declared gateway\(r.plan.gateways.count == 1 ? "" : "s")")
        case .managementServices:
            let m = r.observed["management"]?.flows ?? 0, c = r.observed["console"]?.flows ?? 0
            if m + c == 0 { return .missing("no management or console service traffic seen") }
            var parts: [String] = []
            if let o = r.observed["management"] { parts.append("\(plural(o.flows, "management flow")): \(top(o.services)) on \(top(o.segments, 3))") }
            if let o = r.observed["console"] { parts.append("\(plural(o.flows, "console flow")): \(top(o.services))") }
            return .seen(parts.joined(separator: "; "))
        case .inspectedManagement:
            let m = r.observed["management"] ?? Observation(), c = r.observed["console"] ?? Observation()
            if m.flows + c.flows == 0 { return .missing("no management or console service traffic seen") }
            if m.inspected + c.inspected == 0 {
                return .missing("\(plural(m.flows + c.flows, "management or console flow")) seen by port, none with its protocol recognised (payload cut by the snap length or a filter, or none sent): no login or encryption could be judged")
            }
            return observation(.managementServices, r).annotated(inspected: m.inspected + c.inspected, of: m.flows + c.flows)
        case .inspectedService(let kind):
            guard let o = r.observed[kind], o.flows > 0 else { return .missing(unseen(kind)) }
            if o.inspected == 0 {
                return .missing("\(plural(o.flows, "\(kind) flow")) seen by port, none with its protocol recognised (payload cut or absent): nothing to judge its authentication or encryption by")
            }
            return observation(.service(kind), r).annotated(inspected: o.inspected, of: o.flows)
        case .service(let kind):
            guard let o = r.observed[kind], o.flows > 0 else { return .missing(unseen(kind)) }
            return .seen("\(plural(o.flows, "\(kind) flow")): \(top(o.services)) on \(top(o.segments, 6))")
        case .zoneTraffic(let role):
            let zones = r.zoneRoles.indices.filter { r.zoneRoles[$0] == role.rawValue }
            if zones.isEmpty { return .missing("no \(role.rawValue) zone declared") }
            // Its rules judge management against the zones it must be kept from: without one, nothing is judged.
            let others = Set(["guest", "storage", "migration"])
            if role == .management && !r.zoneRoles.contains(where: others.contains) {
                return .missing("no guest, storage or migration zone declared: rules 1001 and 1006 judge management against them")
            }
            let touching = r.sortedCells.filter { zones.contains($0.from) || zones.contains($0.to) }
            let flows = touching.reduce(UInt64(0)) { $0 + $1.cell.flows }
            if flows == 0 { return .missing("no traffic of a \(role.rawValue) zone seen") }
            let peers = touching.map { "\(r.zoneNames[$0.from]) → \(r.zoneNames[$0.to]) ×\($0.cell.flows)" }.prefix(6).joined(separator: ", ")
                + (touching.count > 6 ? " and \(touching.count - 6) more" : "")
            return .seen("\(plural(flows, "flow")) of \(role.rawValue) zones: \(peers)")
        }
    }
}
