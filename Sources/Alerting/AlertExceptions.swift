import Detect
import Vocabulary
import Zones
#if canImport(Glibc)
import Glibc
#endif

/// The accepted risks of a configuration (`exceptions:`), matched against
/// every detection before the throttle: a finding an entry accepts is not
/// written (nor raises `--fail-on`) but counted under that entry, for the
/// summary, the metrics and the report. An entry past its `expires` date no
/// longer applies to findings in traffic after that day: each finding is
/// judged by its packet's time, so a running sensor writes them again from
/// the day after, and an audit of last month's captures gives the same answer
/// whatever day it is run.
///
/// Not thread-safe: one per alert stage.
public final class AlertExceptions {
    public let settings: [ExceptionSetting]
    /// The file the entries are in, for messages (`site.yaml:40`).
    public let file: String
    private let sids: [Set<Int>]
    /// Names the ends of entries may give (`from: web-01`).
    private let inventory: Inventory
    private let fromZones: [Set<ZoneID>]
    private let toZones: [Set<ZoneID>]
    /// Findings each entry accepted.
    public private(set) var accepted: [Int]

    /// - Throws: ``Zones/ConfigErrors`` for rule names or sids that name no rule.
    public init(_ zones: ZoneMap) throws(ConfigErrors) {
        let config = zones.config
        settings = config.exceptions
        file = config.file
        var errors: [ConfigError] = []
        var sids: [Set<Int>] = []
        for e in config.exceptions {
            var set = Set<Int>()
            for r in e.rules {
                if let rule = RuleRegistry.find(r.key) {
                    set.insert(rule.metadata.sid)
                } else {
                    errors.append(ConfigError(file: config.file, at: r.position,
                                              "exception names unknown rule \"\(r.key)\"\(Spelling.suggestion(r.key, RuleRegistry.all.map { $0.metadata.name }, fallback: " (zonewarden rules lists them)"))"))
                }
            }
            sids.append(set)
        }
        if !errors.isEmpty { throw ConfigErrors(errors) }
        self.sids = sids
        func zoneIDs(_ ends: [ExceptionSetting.End]?) -> Set<ZoneID> {
            Set((ends ?? []).compactMap { if case .zone(let name) = $0 { return zones.id(named: name) } else { return nil } })
        }
        inventory = zones.inventory
        fromZones = config.exceptions.map { zoneIDs($0.from) }
        toZones = config.exceptions.map { zoneIDs($0.to) }
        accepted = Array(repeating: 0, count: config.exceptions.count)
    }

    public var isEmpty: Bool { settings.isEmpty }

    public static func wallClock() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(max(now.tv_sec, 0)) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    /// The entry that accepts `d` (the first in the file), counted; nil if none does.
    public func accept(_ d: Detection) -> Int? {
        for i in settings.indices where sids[i].contains(d.sid) {
            let e = settings[i]
            let s = d.subject
            if let from = e.from, !matches(from, zones: fromZones[i], zone: s.sourceZone, ip: s.sourceIP, mac: s.sourceMAC) { continue }
            if let to = e.to, !matches(to, zones: toZones[i], zone: s.destinationZone, ip: s.destinationIP, mac: s.destinationMAC) { continue }
            if let services = e.services {
                guard let proto = s.ipProtocol, let port = s.destinationPort, services.contains(where: { $0.matches(proto, port) }) else { continue }
            }
            if let user = e.user {
                guard d.finding.evidence.contains(where: { $0.0 == "user" && $0.1 == .text(user) }) else { continue }
            }
            // The traffic's time, not the reader's: an exception covers what happened while it was in force.
            if e.isExpired(at: d.subject.timestamp) { continue }
            accepted[i] += 1
            return i
        }
        return nil
    }

    private func matches(_ ends: [ExceptionSetting.End], zones: Set<ZoneID>, zone: ZoneID, ip: IPAddress?, mac: MACAddress?) -> Bool {
        if zone != 0 && zones.contains(zone) { return true }
        for end in ends {
            switch end {
            case .zone: continue
            case .address(let a): if ip == a { return true }
            case .prefix(let p): if let ip, p.contains(ip) { return true }
            case .mac(let m): if mac == m { return true }
            case .name(let n): if inventory.asset(ip: ip, mac: mac)?.name == n { return true }
            }
        }
        return false
    }

    /// Where entry `i` is and what it accepts, for messages and the summary:
    /// `site.yaml:40 (2002 from guests to tcp/21, user anonymous)`.
    public func label(_ i: Int) -> String { "\(file):\(settings[i].position.line) (\(scope(i)))" }

    /// What entry `i` accepts: `1001, 1006 from web to mgmt on tcp/443 user anonymous`.
    /// The sids entry `i` accepts.
    public func rules(_ i: Int) -> Set<Int> { sids[i] }

    public func scope(_ i: Int) -> String {
        let e = settings[i]
        var parts = [e.rules.map(\.key).joined(separator: ", ")]
        if let from = e.from { parts.append("from " + from.map(\.description).joined(separator: ", ")) }
        if let to = e.to { parts.append("to " + to.map(\.description).joined(separator: ", ")) }
        if let services = e.services { parts.append("on " + services.map(\.description).joined(separator: ", ")) }
        if let user = e.user { parts.append("user \(user)") }
        return parts.joined(separator: " ")
    }

    /// The entries that have expired at `now`: said by check-config and at the start of analyze and run.
    public func expired(at now: UInt64 = AlertExceptions.wallClock()) -> [Int] {
        settings.indices.filter { settings[$0].isExpired(at: now) }
    }

    /// The sids whose findings name a login's user (2001, 2002, 2004).
    static let userSIDs: Set<Int> = [2001, 2002, 2004]
    /// The sids whose findings are about a link, with no ends or service (5003).
    static let linkSIDs: Set<Int> = [5003]

    /// Entries that can never match, one line each (said with the expiry
    /// notes): a `user` for rules whose findings name none, ends or services
    /// for a rule that judges a link, an entry an earlier one always wins over.
    public func warnings() -> [String] {
        var lines: [String] = []
        for i in settings.indices {
            let e = settings[i]
            if e.user != nil && sids[i].isDisjoint(with: Self.userSIDs) {
                lines.append("exception \(label(i)) can never match: user: is in the findings of 2001, 2002 and 2004 only")
            }
            if (e.from != nil || e.to != nil || e.services != nil) && !sids[i].isEmpty && sids[i].isSubset(of: Self.linkSIDs) {
                lines.append("exception \(label(i)) can never match: 5003 judges a link, its findings have no from, to or service")
            }
            if let j = settings.indices.prefix(i).first(where: { j in
                sids[j].isSuperset(of: sids[i]) && Self.covers(settings[j], e)
            }) {
                lines.append("exception \(label(i)) is never reached: the entry at line \(settings[j].position.line) accepts all it would")
            }
        }
        return lines
    }

    /// Whether entry `a` matches whatever `b` matches (for the rules both name).
    private static func covers(_ a: ExceptionSetting, _ b: ExceptionSetting) -> Bool {
        func wider<T: Equatable>(_ x: [T]?, _ y: [T]?) -> Bool { x == nil || (y != nil && y!.allSatisfy { x!.contains($0) }) }
        return wider(a.from, b.from) && wider(a.to, b.to) && wider(a.services, b.services) && (a.user == nil || a.user == b.user)
            && (a.expiresAt ?? .max) >= (b.expiresAt ?? .max)
    }

    /// One line per expired entry.
    public func expiryNotes(at now: UInt64 = AlertExceptions.wallClock()) -> [String] {
        expired(at: now).map { "exception \(label($0)) expired on \(settings[$0].expires ?? "?"): its findings in later traffic are written again" }
    }
}
