/// The report as a Graphviz digraph: a node per zone (coloured by role), an
/// edge per pair that communicates, labelled with flows and the top service;
/// edges that break the plan are red and bold.
enum DOTReport {
    static let roleColours: [String: String] = [
        "management": "#f4a582", "admin": "#fddbc7", "storage": "#92c5de", "migration": "#d1e5f0",
        "guest": "#b8e186", "transport": "#e0e0e0", "service": "#fee08b", "external": "#d9d9d9", "": "#ffffff",
    ]

    static func quote(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }

    static func render(_ r: CommunicationReport) -> String {
        var d = "digraph zones {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n"
        for z in r.activeZones {
            let label = z == 0 ? "no zone" : "\(r.zoneNames[z])\\n\(r.zoneRoles[z])"
            d += "  \(quote(r.zoneNames[z])) [label=\(quote(label).replacingOccurrences(of: "\\\\n", with: "\\n")), fillcolor=\(quote(roleColours[r.zoneRoles[z]] ?? "#ffffff"))];\n"
        }
        for (a, b, c) in r.sortedCells where c.flows > 0 || c.violation {
            let top = c.services.top(1).first.map { "\\n\($0.key)" } ?? ""
            var attributes = "label=\(quote("\(c.flows) flow\(c.flows == 1 ? "" : "s")\(top)").replacingOccurrences(of: "\\\\n", with: "\\n"))"
            if c.violation { attributes += ", color=red, fontcolor=red, penwidth=2.5" }
            d += "  \(quote(r.zoneNames[a])) -> \(quote(r.zoneNames[b])) [\(attributes)];\n"
        }
        return d + "}\n"
    }
}
