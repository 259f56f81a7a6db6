import Alerting
import Foundation
import Platform

/// `zonewarden report --merge`: one site report from the JSON reports of
/// several sensors (one per mirror port or hypervisor bridge). Matrices,
/// counts, findings and coverage add up; a verdict is violated where any
/// sensor saw a violation, not assessed only where no sensor could assess
/// it. Reports of different versions or zone plans are refused: their
/// numbers would not mean the same.
public enum ReportMerge {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ d: String) { description = d }
    }

    /// Reads and merges `paths` (JSON reports written by `zonewarden report --format json` or `run --report`).
    public static func merge(paths: [String]) throws(Failure) -> CommunicationReport {
        var merged: CommunicationReport?
        var first: (path: String, version: String, plan: String)?
        var audits: [(sensor: String, points: [[String: Any]])] = []
        var configurations: [(sensor: String, file: String, sha256: String?)] = []
        var seen: [String: String] = [:]
        for path in paths {
            // The same report twice would count everything twice.
            if let data = FileManager.default.contents(atPath: path) {
                let digest = FileDigest.sha256([UInt8](data))
                if let first = seen[digest] { throw Failure("\(path): the same report as \(first): given twice, it would be counted twice") }
                seen[digest] = path
            }
            let (report, version, plan, points) = try read(path)
            if let first {
                if Self.release(version) != Self.release(first.version) {
                    throw Failure("\(path): written by \(version.isEmpty ? "an unknown version" : version), \(first.path) by \(first.version): reports of different versions are not merged")
                }
                if plan != first.plan {
                    // Name the first difference, so that the operator knows which configuration to align.
                    let a = first.plan.split(separator: "\n", omittingEmptySubsequences: false), b = plan.split(separator: "\n", omittingEmptySubsequences: false)
                    let what = ["the policy", "the zones", "the gateways", "the allow list"]
                    let k = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? 0
                    var detail = what[min(k, what.count - 1)]
                    if k == 1 {
                        // Zones by name: a zone one plan has and the other lacks, or one defined differently.
                        let za = a[1].split(separator: ";").map(String.init), zb = b[1].split(separator: ";").map(String.init)
                        func name(_ z: String) -> String { String(z.split(separator: "|", omittingEmptySubsequences: false).first ?? "") }
                        func zone(_ z: String) -> String {
                            let f = z.split(separator: "|", omittingEmptySubsequences: false).map(String.init) + ["", "", "", "", ""]
                            return "role \(f[1]), VLANs \(f[2].isEmpty ? "-" : f[2]), VNIs \(f[3].isEmpty ? "-" : f[3]), subnets \(f[4].isEmpty ? "-" : f[4])"
                        }
                        let na = Dictionary(za.map { (name($0), $0) }, uniquingKeysWith: { x, _ in x })
                        let nb = Dictionary(zb.map { (name($0), $0) }, uniquingKeysWith: { x, _ in x })
                        if let z = za.first(where: { nb[name($0)] == nil }) {
                            detail = "zone \(name(z)) (\(first.path) has it, this report does not)"
                        } else if let z = zb.first(where: { na[name($0)] == nil }) {
                            detail = "zone \(name(z)) (this report has it, \(first.path) does not)"
                        } else if let z = za.first(where: { nb[name($0)] != $0 }), let other = nb[name(z)] {
                            detail = "zone \(name(z)) (\(zone(z)) there; \(zone(other)) here)"
                        } else {
                            detail = "the order of the zones"
                        }
                    }
                    throw Failure("\(path): its zone plan differs from \(first.path)'s in \(detail): reports of different plans are not merged")
                }
            } else {
                first = (path, version, plan)
            }
            audits.append((report.sensorName, points))
            configurations.append((report.sensorName, report.configFile, report.configSHA256))
            if merged == nil { merged = report } else { merged!.merge(report) }
        }
        guard var site = merged else { throw Failure("--merge needs at least one JSON report") }
        // Sensors with the same plan may still read it from different files: each is named, with its hash.
        if Set(configurations.map { "\($0.file)|\($0.sha256 ?? "")" }).count > 1 {
            site.configFile = configurations.map { "\($0.file) (\($0.sensor)\($0.sha256.map { ", sha256 \($0)" } ?? ""))" }.joined(separator: "; ")
            site.configSHA256 = nil
        }
        site.captures = site.coverage.map { "\($0.sensor ?? site.sensorName): \($0.name)" }
        site.sensorName = Array(Set(audits.map(\.sensor))).sorted().joined(separator: ", ")
        site.mergedAudit = combine(audits, site)
        return site
    }

    /// The verdicts of every sensor, point by point.
    static func combine(_ audits: [(sensor: String, points: [[String: Any]])], _ site: CommunicationReport) -> [Audit.Result] {
        Audit.points.map { point in
            let rules = Audit.rules(of: point.point)
            var verdicts: [(sensor: String, verdict: String, reason: String)] = []
            for (sensor, points) in audits {
                guard let p = points.first(where: { $0["point"] as? String == point.point }) else { continue }
                verdicts.append((sensor, p["verdict"] as? String ?? "", p["reason"] as? String ?? ""))
            }
            let findings = rules.reduce(0) { $0 + (site.alertsBySID[$1] ?? 0) }
            // Violated where any sensor said so, or where the site's counts hold findings of the point's rules
            // (a report of an earlier build may have judged the point by fewer rules).
            let verdict: Audit.Verdict = verdicts.contains { $0.verdict == "violated" } || findings > 0 ? .violated
                : verdicts.contains { $0.verdict == "no_violation_observed" } ? .noViolationObserved : .notAssessed
            let reason: String
            if verdict == .violated {
                let sensors = unique(verdicts.filter { $0.verdict == "violated" }.map(\.sensor))
                reason = "\(findings) finding\(findings == 1 ? "" : "s")" + (sensors.isEmpty ? "" : " on " + sensors.joined(separator: ", "))
                    + ": " + rules.compactMap { sid in site.alertsBySID[sid].map { "\(sid) \(ReportText.ruleNames[sid] ?? "") ×\($0)" } }.joined(separator: ", ")
            } else {
                // Where it was assessed, what each sensor saw; where not, why.
                // The same reason from several sensors is said once, naming them.
                let relevant = verdicts.filter { verdict == .notAssessed || $0.verdict == verdict.rawValue }
                reason = unique(relevant.map(\.reason)).map { why in
                    unique(relevant.filter { $0.reason == why }.map(\.sensor)).joined(separator: ", ") + ": " + why
                }.joined(separator: "; ")
            }
            return Audit.Result(point: point.point, requirements: point.requirements, rules: rules, verdict: verdict, reason: reason, findings: findings)
        }
    }

    /// The distinct values, in the order first seen.
    static func unique(_ values: [String]) -> [String] {
        var seen = Set<String>()
        return values.filter { seen.insert($0).inserted }
    }

    /// `zonewarden 0.1.0` of `zonewarden 0.1.0 (commit 1a80f4d53053)`: builds of one release write comparable reports.
    static func release(_ version: String) -> Substring {
        version.split(separator: " (commit ").first ?? ""
    }

    /// Reads a report's numbers strictly: a count that is negative, fractional
    /// or not a number, or a list that is not a list, is a damaged report
    /// (merged, it would trap or be counted as 0 without a word).
    struct Fields {
        let path: String

        func damaged(_ place: String, _ what: String) -> Failure {
            Failure("\(path): \(place): \(what): the report is damaged, not merged (write it again with report --format json)")
        }

        /// A count: a whole number, 0 or more.
        func count(_ value: Any?, at place: String) throws(Failure) -> UInt64 {
            guard let value else { throw damaged(place, "missing") }
            // An integer as JSONSerialization read it (its NSNumber says: not a double, not a boolean).
            guard let number = value as? NSNumber, ["q", "i", "l", "s", "Q", "I", "L", "S"].contains(String(cString: number.objCType)),
                  number.int64Value >= 0 else {
                throw damaged(place, "\(Escaping.controls("\(value)")) is not a count (a whole number, 0 or more)")
            }
            return number.uint64Value
        }

        func count(_ object: [String: Any], _ key: String, at place: String) throws(Failure) -> UInt64 {
            try count(object[key], at: "\(place).\(key)")
        }

        /// A list of objects; missing, an empty list unless `required`.
        func list(_ object: [String: Any], _ key: String, at place: String? = nil, required: Bool = false) throws(Failure) -> [[String: Any]] {
            let name = place.map { "\($0).\(key)" } ?? key
            guard let value = object[key] else {
                if required { throw damaged(name, "missing") }
                return []
            }
            guard let list = value as? [[String: Any]] else { throw damaged(name, "not a list of objects") }
            return list
        }
    }

    /// One report: the report itself, its version, its plan (as text, for comparing) and its audit points.
    static func read(_ path: String) throws(Failure) -> (CommunicationReport, String, String, [[String: Any]]) {
        guard let data = FileManager.default.contents(atPath: path) else { throw Failure("\(path): cannot read it") }
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], json["generator"] as? String == "zonewarden report" else {
            throw Failure("\(path): not a JSON report of zonewarden (write one with report --format json or run --report FILE.json)")
        }
        let field = Fields(path: path)
        let zones = try field.list(json, "zones", required: true)
        var r = CommunicationReport(zoneNames: ["no zone"] + zones.map { $0["name"] as? String ?? "" },
                                    zoneRoles: [""] + zones.map { $0["role"] as? String ?? "" }, configFile: json["config"] as? String ?? "")
        let coverage = json["coverage"] as? [String: Any] ?? [:]
        let version = coverage["sensor"] as? String ?? ""
        r.sensorVersion = version
        r.sensorName = coverage["sensor_name"] as? String ?? path
        r.configSHA256 = coverage["config_sha256"] as? String
        func time(_ v: Any?) -> UInt64 { (v as? String).flatMap(Timestamp.parseRFC3339) ?? 0 }
        for (i, cell) in try field.list(json, "matrix", required: true).enumerated() {
            guard let from = r.zoneNames.firstIndex(of: cell["from"] as? String ?? ""), let to = r.zoneNames.firstIndex(of: cell["to"] as? String ?? "") else {
                throw field.damaged("matrix[\(i)]", "names a zone the report's zones do not list")
            }
            var c = CommunicationReport.Cell()
            c.flows = try field.count(cell, "flows", at: "matrix[\(i)]")
            c.packets = try field.count(cell, "packets", at: "matrix[\(i)]")
            c.bytes = try field.count(cell, "bytes", at: "matrix[\(i)]")
            c.violation = cell["violation"] as? Bool ?? false
            for (j, s) in try field.list(cell, "services", at: "matrix[\(i)]").enumerated() {
                c.services.add(s["service"] as? String ?? "", try field.count(s, "flows", at: "matrix[\(i)].services[\(j)]"))
            }
            for (sid, n) in cell["alerts"] as? [String: Any] ?? [:] {
                if let sid = Int(sid) { c.alerts[sid] = Int(try field.count(n, at: "matrix[\(i)].alerts.\(sid)")) }
            }
            r.cells[CommunicationReport.key(from, to)] = c
        }
        for s in json["undeclared_segments"] as? [[String: Any]] ?? [] { r.undeclaredSegments[s["segment"] as? String ?? ""] = time(s["first_seen"]) }
        for (i, a) in try field.list(json, "unknown_addresses").enumerated() {
            r.unknownAddresses.add(a["address"] as? String ?? "", try field.count(a, "reports", at: "unknown_addresses[\(i)]"))
        }
        for (i, a) in try field.list(json, "alerts").enumerated() {
            if let sid = a["sid"] as? Int { r.alertsBySID[sid] = Int(try field.count(a, "count", at: "alerts[\(i)]")) }
        }
        guard let totals = json["totals"] as? [String: Any] else { throw field.damaged("totals", "missing or not an object") }
        r.flows = try field.count(totals, "flows", at: "totals")
        r.packets = try field.count(totals, "packets", at: "totals")
        r.bytes = try field.count(totals, "bytes", at: "totals")
        let span = json["span"] as? [String: Any] ?? [:]
        r.firstTimestamp = time(span["first"])
        r.lastTimestamp = time(span["last"])
        r.captures = json["captures"] as? [String] ?? []
        for (i, a) in try field.list(json, "accepted_risks").enumerated() {
            let findings = Int(try field.count(a, "findings", at: "accepted_risks[\(i)]"))
            r.acceptedRisks.append(.init(place: a["exception"] as? String ?? "", scope: a["accepts"] as? String ?? "", reason: a["reason"] as? String ?? "",
                                         expires: a["expires"] as? String, expired: a["expired"] as? Bool ?? false, findings: findings))
        }
        // An evidence file where the report was written, or, the report and its evidence folder
        // moved together, where its link relative to the report leads now.
        let given = SafeFile.directory(of: path)
        let folder = given.hasPrefix("/") ? given : FileManager.default.currentDirectoryPath + "/" + given
        func located(_ object: [String: Any]) -> String? {
            guard let pcap = object["pcap"] as? String else { return nil }
            if FileManager.default.fileExists(atPath: pcap) { return pcap }
            guard let link = object["pcap_link"] as? String, !link.hasPrefix("/") else { return pcap }
            let moved = folder + "/" + link
            return FileManager.default.fileExists(atPath: moved) ? moved : pcap
        }
        for e in json["evidence"] as? [[String: Any]] ?? [] {
            guard let sid = e["sid"] as? Int else { continue }
            r.evidence[sid, default: []].append(.init(timestamp: time(e["time"]), signature: e["finding"] as? String ?? "", pcap: located(e) ?? ""))
        }
        for f in json["findings"] as? [[String: Any]] ?? [] {
            r.findings.append(FindingRecord(timestamp: time(f["time"]), sid: f["sid"] as? Int ?? 0, rule: f["rule"] as? String ?? "", severity: f["severity"] as? String ?? "",
                                            signature: f["finding"] as? String ?? "", source: f["source"] as? String ?? "", sourceName: f["source_name"] as? String,
                                            sourceZone: f["source_zone"] as? String, destination: f["destination"] as? String ?? "",
                                            destinationName: f["destination_name"] as? String, destinationZone: f["destination_zone"] as? String,
                                            user: f["user"] as? String, pcap: located(f)))
        }
        let plan = json["plan"] as? [String: Any] ?? [:]
        r.plan.policy = plan["policy"] as? String ?? "roles"
        r.plan.rulesOff = plan["rules_off"] as? [Int] ?? []
        r.plan.zones = (plan["zones"] as? [[String: Any]] ?? []).map {
            .init(name: $0["name"] as? String ?? "", role: $0["role"] as? String ?? "", vlans: $0["vlans"] as? String ?? "",
                  vnis: $0["vnis"] as? String ?? "", subnets: $0["subnets"] as? String ?? "")
        }
        r.plan.gateways = plan["gateways"] as? [String] ?? []
        r.plan.allow = plan["allow"] as? [String] ?? []
        for (i, s) in try field.list(coverage, "segments", at: "coverage").enumerated() {
            r.segments.add(s["segment"] as? String ?? "", try field.count(s, "flows", at: "coverage.segments[\(i)]"))
        }
        if let w = coverage["window"] as? [String: Any] {
            let since = time(w["since"]), until = time(w["until"])
            r.window = AnalysisWindow(start: since, end: until == 0 ? .max : until)
        }
        r.windowsDiffer = coverage["windows_differ"] as? Bool ?? false
        for (i, f) in try field.list(coverage, "captures", at: "coverage").enumerated() {
            var file = CaptureCoverage(name: f["file"] as? String ?? "", sha256: f["sha256"] as? String,
                                       packets: try field.count(f, "packets", at: "coverage.captures[\(i)]"),
                                       first: time(f["first"]), last: time(f["last"]), error: f["error"] as? String, sensor: f["sensor"] as? String ?? r.sensorName)
            file.details = f["details"] as? String
            r.coverage.append(file)
        }
        if r.coverage.isEmpty {
            // A live sensor's report: its interfaces, with the report's span.
            r.coverage = r.captures.map {
                var live = CaptureCoverage(name: "\($0) (live)", sha256: nil, packets: r.packets, first: r.firstTimestamp, last: r.lastTimestamp, sensor: r.sensorName)
                live.read = "captured live over the report's span"
                return live
            }
        }
        let planText = [r.plan.policy, r.plan.zones.map { "\($0.name)|\($0.role)|\($0.vlans)|\($0.vnis)|\($0.subnets)" }.joined(separator: ";"),
                        r.plan.gateways.joined(separator: ";"), r.plan.allow.joined(separator: ";")].joined(separator: "\n")
        let points = (json["audit"] as? [String: Any])?["points"] as? [[String: Any]] ?? []
        // A verdict must agree with the report's own counts: violated exactly where its rules found something.
        for (i, point) in points.enumerated() {
            guard let verdict = point["verdict"] as? String, let rules = point["rules"] as? [Int] else { continue }
            let found = rules.contains { (r.alertsBySID[$0] ?? 0) > 0 }
            if found != (verdict == Audit.Verdict.violated.rawValue) {
                throw field.damaged("audit.points[\(i)]", "its verdict \"\(Escaping.controls(verdict))\" disagrees with the findings the report counts for rules \(rules.map(String.init).joined(separator: ", "))")
            }
        }
        return (r, version, planText, points)
    }
}
