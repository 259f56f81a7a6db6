import Alerting
#if canImport(Glibc)
import Glibc
#endif

/// The report as one self-contained HTML file: inline CSS and SVG, no scripts,
/// nothing loaded from anywhere. A heat map of the zone matrix (cells that
/// break the plan outlined in red), a zone graph, and the tables. Elements
/// carry `data-` attributes (`data-from`, `data-to`, `data-flows`) for tools.
enum HTMLReport {
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // Control characters (a terminal escape in an inventory's name) have no place in a page.
                if ReportText.isControl(c) && c != "\n" && c != "\t" { out += " " } else { out.unicodeScalars.append(c) }
            }
        }
        return out
    }

    static func render(_ r: CommunicationReport) -> String {
        let (from, to) = ReportText.span(r)
        var h = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Zone communication report</title>
            <style>
            body { font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1b1f24; margin: 24px auto; max-width: 1180px; padding: 0 16px; }
            h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
            .meta { color: #57606a; } .warning { color: #a40e26; background: #ffebe9; border: 1px solid #ff8182; border-radius: 6px; padding: 8px 14px; } .totals { display: flex; gap: 24px; margin: 12px 0; }
            .totals div { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 14px; }
            .totals b { display: block; font-size: 20px; }
            table { border-collapse: collapse; margin: 8px 0; } th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
            th { background: #f6f8fa; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
            tr.violation td { background: #ffebe9; } .warn { color: #cf222e; font-weight: 600; }
            table#verdicts { width: 100%; table-layout: fixed; } td.verdict { font-weight: 600; }
            col.point { width: 22%; } col.requirements { width: 13%; } col.rules { width: 8%; } col.verdict { width: 17%; } col.why { width: 40%; } td.verdict { white-space: nowrap; }
            @media print { body { font-size: 11px; } } tr.violated td.verdict { color: #cf222e; } tr.no_violation_observed td.verdict { color: #1a7f37; } tr.not_assessed td.verdict { color: #9a6700; }
            code.hash { font-size: 11px; word-break: break-all; }
            .figures { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
            svg text { font: 12px Helvetica, Arial, sans-serif; } .legend { color: #57606a; font-size: 12px; }
            @media print { body { margin: 0; max-width: none; } .figures { break-inside: avoid; } }
            </style></head><body>
            <h1>Zone communication report</h1>
            <p class="meta">Configuration <code>\(escape(r.configFile))</code>; captures: \(r.captures.map { "<code>\(escape($0))</code>" }.joined(separator: ", ")).<br>
            From \(escape(from)) to \(escape(to)).\(ReportText.packetsNote(r).map { "<br>" + escape($0) + "." } ?? "")</p>
            \(ReportText.coverageWarning(r).map { "<p class=\"warning\" id=\"coverage-warning\"><b>\(escape($0))</b></p>" } ?? "")
            <div class="totals">
            <div>flows<b id="total-flows">\(r.flows)</b></div><div>packets<b id="total-packets">\(r.packets)</b></div>
            <div>bytes<b id="total-bytes">\(escape(ReportText.bytes(r.bytes)))</b></div>
            <div>cells breaking the plan<b id="total-violations">\(r.sortedCells.filter(\.cell.violation).count)</b></div>
            <div>alerts<b id="total-alerts">\(r.alertsBySID.values.reduce(0, +))</b></div>
            </div>
            \(audit(r))
            <h2>Communication</h2>
            <div class="figures">
            \(matrix(r))
            \(graph(r))
            </div>

            """
        let violations = r.sortedCells.filter(\.cell.violation)
        h += "<h2>Cells that break the plan (\(violations.count))</h2>\n"
        if violations.isEmpty {
            h += "<p>None.</p>\n"
        } else {
            h += "<table id=\"violations\"><tr><th>from</th><th>to</th><th>flows</th><th>top services</th><th>alerts</th></tr>\n"
            for (a, b, c) in violations {
                h += "<tr class=\"violation\"><td>\(escape(r.zoneNames[a]))</td><td>\(escape(r.zoneNames[b]))</td><td class=\"n\">\(c.flows)</td><td>\(escape(ReportText.services(c)))</td><td>\(escape(ReportText.alerts(c)))</td></tr>\n"
            }
            h += "</table>\n"
        }
        h += "<h2>Every cell</h2>\n<table id=\"cells\"><tr><th>from</th><th>to</th><th>flows</th><th>packets</th><th>bytes</th><th>top services</th></tr>\n"
        for (a, b, c) in r.sortedCells {
            h += "<tr\(c.violation ? " class=\"violation\"" : "") data-from=\"\(escape(r.zoneNames[a]))\" data-to=\"\(escape(r.zoneNames[b]))\" data-flows=\"\(c.flows)\"><td>\(escape(r.zoneNames[a]))</td><td>\(escape(r.zoneNames[b]))</td><td class=\"n\">\(c.flows)</td><td class=\"n\">\(c.packets)</td><td class=\"n\">\(escape(ReportText.bytes(c.bytes)))</td><td>\(escape(ReportText.services(c, 5)))</td></tr>\n"
        }
        h += "</table>\n<h2>VLANs and VNIs no zone declares</h2>\n"
        h += r.undeclaredSegments.isEmpty ? "<p>None.</p>\n" : "<ul id=\"undeclared\">" + r.undeclaredSegments.sorted { $0.key < $1.key }.map { "<li>\(escape($0.key)), first seen \(escape(Timestamp.rfc3339($0.value)))</li>" }.joined() + "</ul>\n"
        h += "<h2>Addresses in no zone</h2>\n"
        let unknown = r.unknownAddresses.top(50)
        h += unknown.isEmpty ? "<p>None.</p>\n" : "<ul id=\"unknown\">" + unknown.map { "<li>\(escape($0.key)) (\($0.count) report\($0.count == 1 ? "" : "s"))</li>" }.joined() + "</ul>\n"
        h += "<h2>Alerts by rule</h2>\n"
        if r.alertsBySID.isEmpty {
            h += "<p>None.</p>\n"
        } else {
            h += "<table id=\"alerts\"><tr><th>sid</th><th>rule</th><th>alerts</th></tr>\n"
            for (sid, n) in r.alertsBySID.sorted(by: { $0.key < $1.key }) {
                h += "<tr><td class=\"n\">\(sid)</td><td>\(escape(ReportText.ruleNames[sid] ?? ""))</td><td class=\"n\">\(n)</td></tr>\n"
            }
            h += "</table>\n"
        }
        h += "<h2>Accepted risks</h2>\n"
        if r.acceptedRisks.isEmpty {
            h += "<p>None: the configuration has no exceptions.</p>\n"
        } else {
            h += "<p>Findings an exception kept from being alerts (counted, not written).</p>\n"
            h += "<table id=\"accepted\"><tr><th>exception</th><th>accepts</th><th>reason</th><th>expires</th><th>findings</th></tr>\n"
            for a in r.acceptedRisks {
                let expires = a.expires.map { a.expired ? "<strong>expired</strong> \(escape($0))"
                    : ReportText.lapsedToday($0) ? "\(escape($0)) (after the captures; <strong>lapsed</strong> since)" : escape($0) } ?? "never"
                h += "<tr><td>\(escape(a.place))</td><td>\(escape(a.scope))</td><td>\(escape(a.reason))</td><td>\(expires)</td><td class=\"n\">\(a.findings)</td></tr>\n"
            }
            h += "</table>\n"
        }
        if !r.evidence.isEmpty {
            h += "<h2>Evidence</h2>\n<p>The packets of each finding, one pcap file per alert (the first \(CommunicationReport.evidencePerRule) of each rule; secrets masked with <code>*</code>).</p>\n"
            h += "<table id=\"evidence\"><tr><th>time</th><th>finding</th><th>pcap</th></tr>\n"
            for (_, links) in r.evidence.sorted(by: { $0.key < $1.key }) {
                for l in links {
                    let href = ReportText.link(to: l.pcap, from: r.outputPath)
                    h += "<tr><td>\(ReportText.time(l.timestamp))</td><td>\(escape(l.signature))</td><td><a href=\"\(escape(href))\">\(escape(ReportText.fileName(l.pcap)))</a></td></tr>\n"
                }
            }
            h += "</table>\n"
        }
        h += plan(r)
        h += coverage(r)
        return h + "<p class=\"legend\">Generated by \(escape(r.sensorVersion.isEmpty ? "zonewarden" : r.sensorVersion)) report.</p>\n</body></html>\n"
    }

    /// The verdict per M 5.154 point, then the findings they rest on.
    static func audit(_ r: CommunicationReport) -> String {
        var h = "<h2 id=\"audit\">M 5.154 audit</h2>\n<table id=\"verdicts\"><colgroup><col class=\"point\"><col class=\"requirements\"><col class=\"rules\"><col class=\"verdict\"><col class=\"why\"></colgroup><tr><th>M 5.154 point</th><th>requirements</th><th>rules</th><th>verdict</th><th>why</th></tr>\n"
        for a in Audit.assess(r) {
            h += "<tr class=\"\(a.verdict.rawValue)\" data-verdict=\"\(a.verdict.rawValue)\"><td class=\"point\">\(escape(a.point))</td><td>\(escape(ReportText.requirements(a)))</td><td>\(escape(ReportText.rules(a)))</td>"
                + "<td class=\"verdict\">\(a.verdict.label)</td><td class=\"why\">\(escape(a.reason))</td></tr>\n"
        }
        h += "</table>\n<h2 id=\"findings\">Findings</h2>\n"
        if r.findings.isEmpty { return h + "<p>None.</p>\n" }
        h += "<p>" + ReportText.findingsNote { "<em>\($0)</em>" } + "</p>\n"
        h += "<table id=\"finding-list\"><tr><th>time</th><th>rule</th><th>severity</th><th>source</th><th>destination</th><th>finding</th><th>user</th><th>evidence</th></tr>\n"
        for f in r.findingsByTime {
            let evidence = f.pcap.map { "<a href=\"\(escape(ReportText.link(to: $0, from: r.outputPath)))\">\(escape(ReportText.fileName($0)))</a>" } ?? ""
            h += "<tr data-sid=\"\(f.sid)\"><td>\(escape(ReportText.time(f.timestamp)))</td><td title=\"\(escape(f.signature))\">\(f.sid) \(escape(f.rule))</td><td>\(escape(f.severity))</td>"
                + "<td>\(escape(ReportText.endpoint(f.source, f.sourceName, f.sourceZone)))</td><td>\(escape(ReportText.endpoint(f.destination, f.destinationName, f.destinationZone)))</td>"
                + "<td>\(escape(f.what))</td><td>\(escape(f.user ?? ""))</td><td>\(evidence)</td></tr>\n"
        }
        return h + "</table>\n"
    }

    /// The zones, gateways and allow list the captures were judged by.
    static func plan(_ r: CommunicationReport) -> String {
        var h = "<h2 id=\"plan\">Zone plan</h2>\n<p>Policy <code>\(escape(r.plan.policy))</code>\(r.plan.rulesOff.isEmpty ? "" : "; rules off: \(r.plan.rulesOff.map(String.init).joined(separator: ", "))").</p>\n"
        h += "<table id=\"zone-plan\"><tr><th>zone</th><th>role</th><th>VLANs</th><th>VNIs</th><th>subnets</th></tr>\n"
        for z in r.plan.zones {
            h += "<tr><td>\(escape(z.name))</td><td>\(escape(z.role))</td><td>\(escape(z.vlans))</td><td>\(escape(z.vnis))</td><td>\(escape(z.subnets))</td></tr>\n"
        }
        h += "</table>\n<p>Gateways: " + (r.plan.gateways.isEmpty ? "none declared." : r.plan.gateways.map(escape).joined(separator: "; ")) + "</p>\n"
        h += "<p>Allowed: " + (r.plan.allow.isEmpty ? "nothing beyond the role rules." : r.plan.allow.map(escape).joined(separator: "; ")) + "</p>\n"
        return h
    }

    /// What was read: each capture with its hash and span, the sensor and the configuration.
    static func coverage(_ r: CommunicationReport) -> String {
        let (from, to) = ReportText.span(r)
        var h = "<h2 id=\"coverage\">Coverage</h2>\n<p>Sensor \(escape(r.sensorName))\(r.sensorVersion.isEmpty ? "" : " (\(escape(r.sensorVersion)))"); configuration <code>\(escape(r.configFile))</code>"
        h += (r.configSHA256.map { " (sha256 <code class=\"hash\">\($0)</code>)" } ?? "") + ".<br>"
        h += "Packets from \(escape(from)) to \(escape(to)); segments seen (flows): \(escape(r.segments.top(12).map { "\($0.key) ×\($0.count)" }.joined(separator: ", ")))."
        h += (AnalysisWindow.sentence(r).map { "<br>" + escape($0) } ?? "") + "</p>\n"
        guard !r.coverage.isEmpty else { return h }
        h += "<table id=\"captures\"><tr><th>sensor</th><th>capture</th><th>sha256</th><th>packets</th><th>first packet</th><th>last packet</th><th>read</th></tr>\n"
        for f in r.coverage {
            h += "<tr><td>\(escape(f.sensor ?? r.sensorName))</td><td>\(escape(f.name))</td><td><code class=\"hash\">\(f.sha256 ?? "-")</code></td><td class=\"n\">\(f.packets)</td>"
                + "<td>\(f.first == 0 ? "-" : escape(ReportText.time(f.first)))</td><td>\(f.last == 0 ? "-" : escape(ReportText.time(f.last)))</td><td>\(escape(f.readText))</td></tr>\n"
        }
        return h + "</table>\n<p class=\"legend\">\(escape(CaptureCoverage.readLegend))</p>\n"
    }

    /// The matrix as a heat map: a cell's colour grows with the logarithm of its flows.
    static func matrix(_ r: CommunicationReport) -> String {
        let zones = r.activeZones
        let size = 46, label = 120
        // Wide enough for the legend whatever the number of zones.
        let width = max(label + size * zones.count + 10, 560), height = label + size * zones.count + 52
        let maxFlows = max(r.sortedCells.map(\.cell.flows).max() ?? 1, 1)
        var svg = "<svg id=\"matrix\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" role=\"img\" aria-label=\"Flows from zone to zone\">\n"
        svg += "<text x=\"0\" y=\"14\" font-weight=\"bold\">Flows from zone (row) to zone (column)</text>\n"
        for (i, z) in zones.enumerated() {
            let x = label + i * size + size / 2
            svg += "<text transform=\"translate(\(x),\(label - 6)) rotate(-45)\">\(escape(r.zoneNames[z]))</text>\n"
            svg += "<text x=\"\(label - 6)\" y=\"\(label + i * size + size / 2 + 4)\" text-anchor=\"end\">\(escape(r.zoneNames[z]))</text>\n"
        }
        for (i, a) in zones.enumerated() {
            for (j, b) in zones.enumerated() {
                let c = r.cell(a, b)
                let flows = c?.flows ?? 0
                let t = flows == 0 ? 0 : log(Double(flows) + 1) / log(Double(maxFlows) + 1)
                let colour = flows == 0 ? "#f6f8fa" : shade(t)
                let violation = c?.violation ?? false
                let findings = c.map { $0.alerts.values.reduce(0, +) } ?? 0
                let x = label + j * size, y = label + i * size
                svg += "<g class=\"cell\" data-from=\"\(escape(r.zoneNames[a]))\" data-to=\"\(escape(r.zoneNames[b]))\" data-flows=\"\(flows)\" data-violation=\"\(violation)\" data-findings=\"\(findings)\">"
                svg += "<title>\(escape(r.zoneNames[a])) → \(escape(r.zoneNames[b])): \(flows) flow\(flows == 1 ? "" : "s")\(c.map { $0.services.count > 0 ? "; " + escape(ReportText.services($0)) : "" } ?? "")\(findings > 0 ? "; findings: " + escape(ReportText.alerts(c!)) : "")\(violation ? "; breaks the plan" : "")</title>"
                svg += "<rect x=\"\(x + 1)\" y=\"\(y + 1)\" width=\"\(size - 2)\" height=\"\(size - 2)\" fill=\"\(colour)\" stroke=\"\(violation ? "#cf222e" : findings > 0 ? "#bc4c00" : "#d0d7de")\" stroke-width=\"\(violation ? 3 : findings > 0 ? 2 : 1)\"\(findings > 0 && !violation ? " stroke-dasharray=\"4 2\"" : "")/>"
                if flows > 0 || findings > 0 {
                    svg += "<text x=\"\(x + size / 2)\" y=\"\(y + size / 2 + 4)\" text-anchor=\"middle\" fill=\"\(t > 0.55 ? "#ffffff" : "#1b1f24")\">\(flows)\(violation ? " !" : findings > 0 ? " *" : "")</text>"
                }
                svg += "</g>\n"
            }
        }
        svg += "<text x=\"0\" y=\"\(height - 22)\" class=\"legend\" fill=\"#57606a\">Colour: flows (logarithmic). Red outline (!): breaks the role rules or the allow list;</text>\n"
        svg += "<text x=\"0\" y=\"\(height - 6)\" class=\"legend\" fill=\"#57606a\">dashed orange outline (*): other findings on the cell's flows.</text>\n"
        return svg + "</svg>"
    }

    /// White to dark blue.
    static func shade(_ t: Double) -> String {
        let from = (239.0, 243.0, 255.0), to = (8.0, 48.0, 107.0)
        let r = Int(from.0 + (to.0 - from.0) * t), g = Int(from.1 + (to.1 - from.1) * t), b = Int(from.2 + (to.2 - from.2) * t)
        return "rgb(\(r),\(g),\(b))"
    }

    /// The zones on a circle; an arrow for each pair that communicates, red when it breaks the plan.
    static func graph(_ r: CommunicationReport) -> String {
        let zones = r.activeZones
        let side = 500.0, centre = side / 2, radius = side / 2 - 70
        var position: [Int: (Double, Double)] = [:]
        for (i, z) in zones.enumerated() {
            let angle = 2 * Double.pi * Double(i) / Double(max(zones.count, 1)) - Double.pi / 2
            position[z] = (centre + radius * cos(angle), centre + radius * sin(angle))
        }
        let maxFlows = max(r.sortedCells.map(\.cell.flows).max() ?? 1, 1)
        var svg = "<svg id=\"graph\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(side))\" height=\"\(Int(side) + 20)\" role=\"img\" aria-label=\"Zone graph\">\n"
        svg += "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"11\" markerHeight=\"11\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#57606a\"/></marker>"
        svg += "<marker id=\"arrow-red\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"11\" markerHeight=\"11\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#cf222e\"/></marker></defs>\n"
        svg += "<text x=\"0\" y=\"14\" font-weight=\"bold\">Zone graph</text>\n"
        for (a, b, c) in r.sortedCells where a != b && (c.flows > 0 || c.violation) {
            guard let p = position[a], let q = position[b] else { continue }
            // Stop short of the node boxes; bend pairs that talk both ways apart.
            let dx = q.0 - p.0, dy = q.1 - p.1, length = max((dx * dx + dy * dy).squareRoot(), 1)
            let ux = dx / length, uy = dy / length, shift = 6.0
            let start = (p.0 + ux * 50 - uy * shift, p.1 + uy * 24 + ux * shift), end = (q.0 - ux * 50 - uy * shift, q.1 - uy * 24 + ux * shift)
            let w = 1 + 4 * log(Double(c.flows) + 1) / log(Double(maxFlows) + 1)
            let colour = c.violation ? "#cf222e" : "#8c959f"
            svg += "<line class=\"edge\" data-from=\"\(escape(r.zoneNames[a]))\" data-to=\"\(escape(r.zoneNames[b]))\" data-flows=\"\(c.flows)\" data-violation=\"\(c.violation)\" x1=\"\(Int(start.0))\" y1=\"\(Int(start.1))\" x2=\"\(Int(end.0))\" y2=\"\(Int(end.1))\" stroke=\"\(colour)\" stroke-width=\"\(String(format1(w)))\" marker-end=\"url(#\(c.violation ? "arrow-red" : "arrow"))\"><title>\(escape(r.zoneNames[a])) → \(escape(r.zoneNames[b])): \(c.flows) flow\(c.flows == 1 ? "" : "s")</title></line>\n"
        }
        for z in zones {
            guard let p = position[z] else { continue }
            let own = r.cell(z, z)?.flows ?? 0
            let fill = DOTReport.roleColours[r.zoneRoles[z]] ?? "#ffffff"
            svg += "<g class=\"zone\" data-zone=\"\(escape(r.zoneNames[z]))\"><rect x=\"\(Int(p.0) - 48)\" y=\"\(Int(p.1) - 20)\" width=\"96\" height=\"40\" rx=\"8\" fill=\"\(fill)\" stroke=\"#57606a\"/>"
            svg += "<text x=\"\(Int(p.0))\" y=\"\(Int(p.1) - 3)\" text-anchor=\"middle\" font-weight=\"bold\">\(escape(String(r.zoneNames[z].prefix(14))))</text>"
            svg += "<text x=\"\(Int(p.0))\" y=\"\(Int(p.1) + 12)\" text-anchor=\"middle\" fill=\"#57606a\">\(z == 0 ? "" : escape(r.zoneRoles[z]))\(own > 0 ? " ↺\(own)" : "")</text></g>\n"
        }
        return svg + "</svg>"
    }

    static func format1(_ v: Double) -> String { String(Int((v * 10).rounded()) / 10) + "." + String(Int((v * 10).rounded()) % 10) }
}
