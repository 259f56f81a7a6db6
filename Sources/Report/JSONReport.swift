import Alerting

/// The report as JSON (schema in the README, "Communication report").
enum JSONReport {
    static func render(_ r: CommunicationReport) -> String {
        func s(_ text: String) -> String { Escaping.json(text) }
        let (from, to) = ReportText.span(r)
        var j = "{\n"
        j += "  \"generator\": \"zonewarden report\",\n"
        j += "  \"config\": \(s(r.configFile)),\n"
        j += "  \"captures\": [" + r.captures.map(s).joined(separator: ", ") + "],\n"
        // No packet at all: no span (null), not a time.
        j += "  \"span\": {\"first\": \(from == "-" ? "null" : s(from)), \"last\": \(to == "-" ? "null" : s(to))},\n"
        j += "  \"audit\": {\"points\": [\n" + Audit.assess(r).map { a in
            "    {\"point\": \(s(a.point)), \"requirements\": [\(a.requirements.map(s).joined(separator: ", "))], \"rules\": [\(a.rules.map(String.init).joined(separator: ", "))], "
                + "\"verdict\": \(s(a.verdict.rawValue)), \"reason\": \(s(a.reason)), \"findings\": \(a.findings)}"
        }.joined(separator: ",\n") + "\n  ]},\n"
        j += "  \"findings\": [" + r.findingsByTime.map { f in
            "{\"time\": \(s(ReportText.time(f.timestamp))), \"sid\": \(f.sid), \"rule\": \(s(f.rule)), \"severity\": \(s(f.severity)), \"finding\": \(s(f.signature)), "
                + "\"source\": \(s(f.source)), \"source_name\": \(f.sourceName.map(s) ?? "null"), \"source_zone\": \(f.sourceZone.map(s) ?? "null"), "
                + "\"destination\": \(s(f.destination)), \"destination_name\": \(f.destinationName.map(s) ?? "null"), \"destination_zone\": \(f.destinationZone.map(s) ?? "null"), "
                + "\"user\": \(f.user.map(s) ?? "null"), \"pcap\": \(f.pcap.map(s) ?? "null"), \"pcap_link\": \(f.pcap.map { s(ReportText.link(to: $0, from: r.outputPath)) } ?? "null")}"
        }.joined(separator: ",\n    ") + "],\n"
        j += "  \"plan\": {\"policy\": \(s(r.plan.policy)), \"rules_off\": [\(r.plan.rulesOff.map(String.init).joined(separator: ", "))], \"zones\": ["
            + r.plan.zones.map { "{\"name\": \(s($0.name)), \"role\": \(s($0.role)), \"vlans\": \(s($0.vlans)), \"vnis\": \(s($0.vnis)), \"subnets\": \(s($0.subnets))}" }.joined(separator: ", ")
            + "], \"gateways\": [\(r.plan.gateways.map(s).joined(separator: ", "))], \"allow\": [\(r.plan.allow.map(s).joined(separator: ", "))]},\n"
        let window = r.window.map { w in
            "{\"since\": \(w.since.map { s(ReportText.time($0)) } ?? "null"), \"until\": \(w.until.map { s(ReportText.time($0)) } ?? "null")}"
        } ?? "null"
        j += "  \"coverage\": {\"sensor\": \(s(r.sensorVersion)), \"sensor_name\": \(s(r.sensorName)), \"config_sha256\": \(r.configSHA256.map(s) ?? "null"), \"window\": \(window), \"windows_differ\": \(r.windowsDiffer), "
            + "\"segments\": [" + r.segments.top(64).map { "{\"segment\": \(s($0.key)), \"flows\": \($0.count)}" }.joined(separator: ", ") + "], \"captures\": ["
            + r.coverage.map { f in
                "{\"file\": \(s(f.name)), \"sensor\": \(s(f.sensor ?? r.sensorName)), \"sha256\": \(f.sha256.map(s) ?? "null"), \"packets\": \(f.packets), "
                    + "\"first\": \(f.first == 0 ? "null" : s(ReportText.time(f.first))), \"last\": \(f.last == 0 ? "null" : s(ReportText.time(f.last))), \"error\": \(f.error.map(s) ?? "null"), \"details\": \(f.details.map(s) ?? "null")}"
            }.joined(separator: ", ") + "]},\n"
        j += "  \"totals\": {\"flows\": \(r.flows), \"packets\": \(r.packets), \"bytes\": \(r.bytes)},\n"
        j += "  \"zones\": [" + r.zoneNames.indices.dropFirst().map { "{\"name\": \(s(r.zoneNames[$0])), \"role\": \(s(r.zoneRoles[$0]))}" }.joined(separator: ", ") + "],\n"
        j += "  \"matrix\": [\n" + r.sortedCells.map { a, b, c in
            let services = c.services.top(10).map { "{\"service\": \(s($0.key)), \"flows\": \($0.count)}" }.joined(separator: ", ")
            let alerts = c.alerts.sorted { $0.key < $1.key }.map { "\(s(String($0.key))): \($0.value)" }.joined(separator: ", ")
            return "    {\"from\": \(s(r.zoneNames[a])), \"to\": \(s(r.zoneNames[b])), \"flows\": \(c.flows), \"packets\": \(c.packets), \"bytes\": \(c.bytes), "
                + "\"violation\": \(c.violation), \"services\": [\(services)], \"alerts\": {\(alerts)}}"
        }.joined(separator: ",\n") + "\n  ],\n"
        j += "  \"undeclared_segments\": [" + r.undeclaredSegments.sorted { $0.key < $1.key }.map { "{\"segment\": \(s($0.key)), \"first_seen\": \(s(Timestamp.rfc3339($0.value)))}" }.joined(separator: ", ") + "],\n"
        j += "  \"unknown_addresses\": [" + r.unknownAddresses.top(256).map { "{\"address\": \(s($0.key)), \"reports\": \($0.count)}" }.joined(separator: ", ") + "],\n"
        j += "  \"alerts\": [" + r.alertsBySID.sorted { $0.key < $1.key }.map { "{\"sid\": \($0.key), \"rule\": \(s(ReportText.ruleNames[$0.key] ?? "")), \"count\": \($0.value)}" }.joined(separator: ", ") + "],\n"
        j += "  \"accepted_risks\": [" + r.acceptedRisks.map { a in
            "{\"exception\": \(s(a.place)), \"accepts\": \(s(a.scope)), \"reason\": \(s(a.reason)), \"expires\": \(a.expires.map(s) ?? "null"), "
                + "\"expired\": \(a.expired), \"findings\": \(a.findings)}"
        }.joined(separator: ", ") + "],\n"
        j += "  \"evidence\": [" + r.evidence.sorted { $0.key < $1.key }.flatMap { sid, links in
            links.map { "{\"sid\": \(sid), \"time\": \(s(ReportText.time($0.timestamp))), \"finding\": \(s($0.signature)), \"pcap\": \(s($0.pcap)), \"pcap_link\": \(s(ReportText.link(to: $0.pcap, from: r.outputPath)))}" }
        }.joined(separator: ", ") + "]\n"
        return j + "}\n"
    }
}
