import Decode
import Vocabulary
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

/// RFC 5424: `<PRI>1 TIMESTAMP HOST zonewarden PID SID [zw@PEN sid=".." ...] BOM MESSAGE`.
/// The MSGID is the rule's sid (never cut: RFC 5424 allows 32 characters, rule
/// names are longer); PEN is `sensor.syslog_enterprise_number`; the message
/// is UTF-8 and says so with the BOM the RFC asks for (§6.4) when it is not ASCII.
enum RFC5424Formatter: AlertFormatter {
    static let name = "rfc5424"
    static let summary = "RFC 5424 syslog with structured data"
    static let isSyslog = true

    static func format(_ a: Alert, context: FormatContext, into out: inout OutputBuffer) {
        out.append(byte: 0x3C)
        out.append(decimal: context.facility * 8 + a.severity.syslogSeverity)
        out.append(">1 " as StaticString)
        out.append(rfc3339Timestamp: a.timestamp)
        out.append(byte: 0x20)
        out.append(context.syslogHostname)
        out.append(" zonewarden " as StaticString)
        out.append(decimal: context.processID)
        out.append(byte: 0x20)
        out.append(decimal: a.sid)
        out.append(" [zw@" as StaticString)
        out.append(decimal: context.enterpriseNumber)
        param("sid", &out) { $0.append(decimal: a.sid) }
        param("severity", &out) { $0.append(a.severity.name) }
        if let z = a.sourceZone { param("src_zone", &out) { $0.append(escaping: z, .structuredDataValue) } }
        if let z = a.destinationZone { param("dest_zone", &out) { $0.append(escaping: z, .structuredDataValue) } }
        if let z = a.segmentZone { param("segment_zone", &out) { $0.append(escaping: z, .structuredDataValue) } }
        if let asset = a.sourceAsset {
            param("src_name", &out) { $0.append(escaping: asset.name, .structuredDataValue) }
            if let host = asset.host { param("src_host", &out) { $0.append(escaping: host, .structuredDataValue) } }
        }
        if let asset = a.destinationAsset {
            param("dest_name", &out) { $0.append(escaping: asset.name, .structuredDataValue) }
            if let host = asset.host { param("dest_host", &out) { $0.append(escaping: host, .structuredDataValue) } }
        }
        if let iface = a.interface { param("in_iface", &out) { $0.append(escaping: iface, .structuredDataValue) } }
        if let ip = a.sourceIP { param("src_ip", &out) { $0.append(ip) } }
        if a.hasPorts, let p = a.sourcePort { param("src_port", &out) { $0.append(decimal: p) } }
        if let ip = a.destinationIP { param("dest_ip", &out) { $0.append(ip) } }
        if a.hasPorts, let p = a.destinationPort { param("dest_port", &out) { $0.append(decimal: p) } }
        if let proto = a.ipProtocol { param("proto", &out) { $0.append(proto.description) } }
        if a.sourceIP == nil, let m = a.sourceMAC { param("src_mac", &out) { $0.append(m) } }
        if a.sourceIP == nil, let m = a.destinationMAC { param("dest_mac", &out) { $0.append(m) } }
        if !a.vlans.isEmpty {
            param("vlan", &out) { out in
                for (i, id) in a.vlans.enumerated() {
                    if i > 0 { out.append(byte: 0x2C) }
                    out.append(decimal: id)
                }
            }
        }
        if let app = a.appProto { param("app_proto", &out) { $0.append(escaping: app, .structuredDataValue) } }
        if let flow = a.flowID { param("flow_id", &out) { $0.append(decimal: flow) } }
        if let cid = a.communityID { param("community_id", &out) { $0.append(cid) } }
        for (key, value) in a.evidence {
            // A finding's own `vlan` (5002: the new tag) next to the alert's tag stack: prefixed as in EVE's
            // metadata, since collectors keep one value per name (rsyslog's mmpstrucdata the last).
            param(fixedNames.contains(key) ? "zw_" + key : key, &out) { TextFormatter.appendString(value, .structuredDataValue, into: &$0) }
        }
        if a.suppressed > 0 { param("suppressed", &out) { $0.append(decimal: a.suppressed) } }
        if let pcap = a.pcap { param("pcap", &out) { $0.append(escaping: pcap, .structuredDataValue) } }
        out.append("] " as StaticString)
        let message = out.count
        TextFormatter.signature(a, .text, into: &out)
        // The MSG is free text: no `-` placeholder where a link's finding has no ends.
        if TextFormatter.hasEndpoints(a) {
            out.append(byte: 0x20)
            TextFormatter.endpoints(a, into: &out)
        }
        if !out.isASCII(from: message) { out.insert(bom: message) }
    }

    /// The names of the parameters every alert may carry, which a finding's evidence must not repeat.
    static let fixedNames: Set<String> = ["sid", "severity", "src_zone", "dest_zone", "segment_zone", "src_name", "src_host", "dest_name", "dest_host",
                                          "in_iface", "src_ip", "src_port", "dest_ip", "dest_port", "proto", "src_mac", "dest_mac", "vlan", "app_proto",
                                          "flow_id", "community_id", "suppressed", "pcap"]

    /// ` NAME="VALUE"`: the name made an SD-NAME, the value written by `value` (escaped there).
    private static func param(_ name: String, _ out: inout OutputBuffer, _ value: (inout OutputBuffer) -> Void) {
        out.append(byte: 0x20)
        out.append(structuredDataName: name)
        out.append("=\"" as StaticString)
        value(&out)
        out.append(byte: 0x22)
    }
}
