import Zones

extension Severity {
    /// Syslog severity: critical→crit (2), high→err (3), medium→warning (4), low→notice (5).
    public var syslogSeverity: Int {
        switch self {
        case .critical: return 2
        case .high: return 3
        case .medium: return 4
        case .low: return 5
        }
    }
}

/// RFC 5424: `<PRI>1 TIMESTAMP HOST zonewarden PID RULE [zw@32473 sid=".." ...] MESSAGE`.
enum RFC5424Formatter {
    /// The private enterprise number in the SD-ID, as DESIGN.md fixes it.
    static let structuredDataID = "zw@32473"

    static func format(_ a: Alert, context: FormatContext) -> String {
        let pri = context.facility * 8 + a.severity.syslogSeverity
        let host = context.hostname.isEmpty ? "-" : String(context.hostname.unicodeScalars.filter { $0.value > 32 && $0.value < 127 }.map(Character.init).prefix(255))
        var params: [(String, String)] = [("sid", String(a.sid)), ("severity", a.severity.name)]
        if let z = a.sourceZone { params.append(("src_zone", z)) }
        if let z = a.destinationZone { params.append(("dest_zone", z)) }
        if let z = a.segmentZone { params.append(("segment_zone", z)) }
        if let iface = a.interface { params.append(("in_iface", iface)) }
        if let ip = a.sourceIP { params.append(("src_ip", ip.description)) }
        if a.hasPorts, let p = a.sourcePort { params.append(("src_port", String(p))) }
        if let ip = a.destinationIP { params.append(("dest_ip", ip.description)) }
        if a.hasPorts, let p = a.destinationPort { params.append(("dest_port", String(p))) }
        if let proto = a.protoName { params.append(("proto", proto)) }
        if a.sourceIP == nil, let m = a.sourceMAC { params.append(("src_mac", m.description)) }
        if a.sourceIP == nil, let m = a.destinationMAC { params.append(("dest_mac", m.description)) }
        if !a.vlans.isEmpty { params.append(("vlan", a.vlans.map(String.init).joined(separator: ","))) }
        if let app = a.appProto { params.append(("app_proto", app)) }
        if let flow = a.flowID { params.append(("flow_id", String(flow))) }
        if let cid = a.communityID { params.append(("community_id", cid)) }
        for (key, value) in a.evidence { params.append((key, plain(value))) }
        if a.suppressed > 0 { params.append(("suppressed", String(a.suppressed))) }
        let sd = "[" + structuredDataID + params.map { " \(Escaping.structuredDataName($0.0))=\"\(Escaping.structuredDataValue($0.1))\"" }.joined() + "]"
        let message = Escaping.text(a.message) + " " + TextFormatter.endpoints(a)
        return "<\(pri)>1 \(Timestamp.rfc3339(a.timestamp)) \(host) zonewarden \(context.processID) \(Escaping.structuredDataName(a.rule)) \(sd) \(message)"
    }

    static func plain(_ v: EvidenceValue) -> String {
        switch v {
        case .text(let s): return s
        case .number(let n): return String(n)
        case .flag(let b): return b ? "yes" : "no"
        case .list(let items): return items.joined(separator: ",")
        }
    }
}

/// RFC 3164: `<PRI>Mmm dd hh:mm:ss HOST zonewarden[PID]: RULE sid=.. MESSAGE`.
enum RFC3164Formatter {
    static func format(_ a: Alert, context: FormatContext) -> String {
        let pri = context.facility * 8 + a.severity.syslogSeverity
        let host = context.hostname.isEmpty ? "-" : String(context.hostname.unicodeScalars.filter { $0.value > 32 && $0.value < 127 }.map(Character.init))
        var line = "<\(pri)>\(Timestamp.rfc3164(a.timestamp)) \(host) zonewarden[\(context.processID)]: \(a.rule) sid=\(a.sid) severity=\(a.severity.name)"
        line += " src_zone=\(a.sourceZone.map(Escaping.text) ?? "-") dest_zone=\(a.destinationZone.map(Escaping.text) ?? "-")"
        line += " " + Escaping.text(a.message) + " | " + TextFormatter.endpoints(a)
        for (key, value) in a.evidence { line += " \(key)=\(TextFormatter.render(value))" }
        if a.suppressed > 0 { line += " suppressed=\(a.suppressed)" }
        return line
    }
}
