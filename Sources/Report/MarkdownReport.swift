import Alerting

/// The report as Markdown: summary, the matrix of flows, the cells that break
/// the plan, every cell, undeclared segments, addresses in no zone, alerts.
enum MarkdownReport {
    static func render(_ r: CommunicationReport) -> String {
        var md = "# Zone communication report\n\n"
        let (from, to) = ReportText.span(r)
        md += "Configuration `\(r.configFile)`; captures: \(r.captures.map { "`\($0)`" }.joined(separator: ", ")).\n\n"
        md += "From \(from) to \(to): \(r.flows) flows, \(r.packets) packets, \(ReportText.bytes(r.bytes)).\n\n"
        if let note = ReportText.packetsNote(r) { md += "(\(note).)\n\n" }
        if let warning = ReportText.coverageWarning(r) { md += "**\(ReportText.markdownCell(warning))**\n\n" }
        md += audit(r)
        let zones = r.activeZones
        md += "## Flows from zone (row) to zone (column)\n\n"
        md += "Cells marked ⚠ break the role rules or the allow list.\n\n"
        md += "| from \\\\ to | " + zones.map { "\(r.zoneNames[$0])" }.joined(separator: " | ") + " |\n"
        md += "|---|" + zones.map { _ in "---:" }.joined(separator: "|") + "|\n"
        for a in zones {
            md += "| **\(r.zoneNames[a])** | " + zones.map { b in
                guard let c = r.cell(a, b), c.flows > 0 || c.violation else { return "" }
                return c.violation ? "**\(c.flows)** ⚠" : "\(c.flows)"
            }.joined(separator: " | ") + " |\n"
        }
        let violations = r.sortedCells.filter(\.cell.violation)
        md += "\n## Cells that break the plan (\(violations.count))\n\n"
        if violations.isEmpty {
            md += "None.\n"
        } else {
            md += "| from | to | flows | top services | alerts |\n|---|---|---:|---|---|\n"
            for (a, b, c) in violations {
                md += "| \(r.zoneNames[a]) | \(r.zoneNames[b]) | \(c.flows) | \(ReportText.services(c)) | \(ReportText.alerts(c)) |\n"
            }
        }
        md += "\n## Every cell\n\n| from | to | flows | packets | bytes | top services |\n|---|---|---:|---:|---:|---|\n"
        for (a, b, c) in r.sortedCells {
            md += "| \(r.zoneNames[a]) | \(r.zoneNames[b]) | \(c.flows) | \(c.packets) | \(ReportText.bytes(c.bytes)) | \(ReportText.services(c, 5)) |\n"
        }
        md += "\n## VLANs and VNIs no zone declares\n\n"
        md += r.undeclaredSegments.isEmpty ? "None.\n" : r.undeclaredSegments.sorted { $0.key < $1.key }.map { "* \($0.key), first seen \(Timestamp.rfc3339($0.value))\n" }.joined()
        md += "\n## Addresses in no zone\n\n"
        let unknown = r.unknownAddresses.top(50)
        md += unknown.isEmpty ? "None.\n" : unknown.map { "* \($0.key) (\($0.count) report\($0.count == 1 ? "" : "s"))\n" }.joined()
        md += "\n## Alerts by rule\n\n"
        if r.alertsBySID.isEmpty {
            md += "None.\n"
        } else {
            md += "| sid | rule | alerts |\n|---:|---|---:|\n"
            for (sid, n) in r.alertsBySID.sorted(by: { $0.key < $1.key }) { md += "| \(sid) | \(ReportText.ruleNames[sid] ?? "") | \(n) |\n" }
        }
        md += "\n## Accepted risks\n\n"
        if r.acceptedRisks.isEmpty {
            md += "None: the configuration has no exceptions.\n"
        } else {
            md += "Findings an exception kept from being alerts (counted, not written).\n\n"
            md += "| exception | accepts | reason | expires | findings |\n|---|---|---|---|---:|\n"
            for a in r.acceptedRisks {
                let expires = a.expires.map { a.expired ? "**expired** \($0)" : ReportText.lapsedToday($0) ? "\($0) (after the captures; **lapsed** since)" : $0 } ?? "never"
                md += "| \(ReportText.markdownCell(a.place)) | \(ReportText.markdownCell(a.scope)) | \(ReportText.markdownCell(a.reason)) | \(expires) | \(a.findings) |\n"
            }
        }
        if !r.evidence.isEmpty {
            md += "\n## Evidence\n\nThe packets of each finding, one pcap file per alert (the first \(CommunicationReport.evidencePerRule) of each rule; secrets masked with `*`).\n\n"
            md += "| time | finding | pcap |\n|---|---|---|\n"
            for (_, links) in r.evidence.sorted(by: { $0.key < $1.key }) {
                for l in links {
                    let href = ReportText.link(to: l.pcap, from: r.outputPath)
                    md += "| \(ReportText.time(l.timestamp)) | \(ReportText.markdownCell(l.signature)) | [\(ReportText.markdownCell(ReportText.fileName(l.pcap)))](<\(href)>) |\n"
                }
            }
        }
        md += plan(r)
        md += coverage(r)
        return md
    }

    /// The verdicts per M 5.154 point, then the findings they rest on.
    static func audit(_ r: CommunicationReport) -> String {
        let c = ReportText.markdownCell
        var md = "## M 5.154 audit\n\n"
        md += "| M 5.154 point | requirements | rules | verdict | why |\n|---|---|---|---|---|\n"
        for a in Audit.assess(r) {
            let verdict = a.verdict == .violated ? "**violated**" : a.verdict.label
            md += "| \(c(a.point)) | \(ReportText.requirements(a)) | \(ReportText.rules(a)) | \(verdict) | \(c(a.reason)) |\n"
        }
        md += "\n## Findings\n\n"
        if r.findings.isEmpty {
            md += "None.\n\n"
        } else {
            md += ReportText.findingsNote { "*\($0)*" } + "\n\n"
            md += "| time | rule | severity | source | destination | finding | user | evidence |\n|---|---|---|---|---|---|---|---|\n"
            for f in r.findingsByTime {
                let evidence = f.pcap.map { "[\(c(ReportText.fileName($0)))](<\(ReportText.link(to: $0, from: r.outputPath))>)" } ?? ""
                md += "| \(ReportText.time(f.timestamp)) | \(f.sid) \(c(f.rule)) | \(f.severity) | \(c(ReportText.endpoint(f.source, f.sourceName, f.sourceZone))) | "
                    + "\(c(ReportText.endpoint(f.destination, f.destinationName, f.destinationZone))) | \(c(f.what)) | \(c(f.user ?? "")) | \(evidence) |\n"
            }
            md += "\n"
        }
        return md
    }

    /// The zones, gateways and allow list the captures were judged by.
    static func plan(_ r: CommunicationReport) -> String {
        let c = ReportText.markdownCell
        var md = "\n## Zone plan\n\nPolicy `\(r.plan.policy)`\(r.plan.rulesOff.isEmpty ? "" : "; rules off: \(r.plan.rulesOff.map(String.init).joined(separator: ", "))").\n\n"
        md += "| zone | role | VLANs | VNIs | subnets |\n|---|---|---|---|---|\n"
        for z in r.plan.zones { md += "| \(c(z.name)) | \(z.role) | \(z.vlans) | \(z.vnis) | \(c(z.subnets)) |\n" }
        md += "\nGateways: " + (r.plan.gateways.isEmpty ? "none declared.\n" : "\n\n" + r.plan.gateways.map { "* \(c($0))\n" }.joined())
        md += "\nAllowed: " + (r.plan.allow.isEmpty ? "nothing beyond the role rules.\n" : "\n\n" + r.plan.allow.map { "* \(c($0))\n" }.joined())
        return md
    }

    /// What was read: each capture with its hash and span, the sensor and the configuration.
    static func coverage(_ r: CommunicationReport) -> String {
        let c = ReportText.markdownCell
        let (from, to) = ReportText.span(r)
        var md = "\n## Coverage\n\nSensor \(c(r.sensorName))\(r.sensorVersion.isEmpty ? "" : " (\(r.sensorVersion))"); configuration `\(r.configFile)`\(r.configSHA256.map { " (sha256 `\($0)`)" } ?? ""). "
        md += "Packets from \(from) to \(to); segments seen (flows): \(r.segments.top(12).map { "\($0.key) ×\($0.count)" }.joined(separator: ", "))."
        md += (AnalysisWindow.sentence(r).map { " " + $0 } ?? "") + "\n\n"
        if !r.coverage.isEmpty {
            md += "| sensor | capture | sha256 | packets | first packet | last packet | read |\n|---|---|---|---:|---|---|---|\n"
            for f in r.coverage {
                md += "| \(c(f.sensor ?? r.sensorName)) | \(c(f.name)) | \(f.sha256.map { "`\($0)`" } ?? "-") | \(f.packets) | \(f.first == 0 ? "-" : ReportText.time(f.first)) | \(f.last == 0 ? "-" : ReportText.time(f.last)) | \(c(f.readText)) |\n"
            }
            md += "\n" + CaptureCoverage.readLegend + "\n"
        }
        return md
    }
}
