import Decode
import Vocabulary

/// RFC 3164: `<PRI>Mmm dd hh:mm:ss HOST zonewarden[PID]: RULE sid=.. MESSAGE`.
enum RFC3164Formatter: AlertFormatter {
    static let name = "rfc3164"
    static let summary = "legacy BSD syslog (RFC 3164)"
    static let isSyslog = true

    static func format(_ a: Alert, context: FormatContext, into out: inout OutputBuffer) {
        out.append(byte: 0x3C)
        out.append(decimal: context.facility * 8 + a.severity.syslogSeverity)
        out.append(byte: 0x3E)
        out.append(rfc3164Timestamp: a.timestamp)
        out.append(byte: 0x20)
        out.append(context.syslogHostname)
        out.append(" zonewarden[" as StaticString)
        out.append(decimal: context.processID)
        out.append("]: " as StaticString)
        out.append(a.rule)
        out.append(" sid=" as StaticString)
        out.append(decimal: a.sid)
        out.append(" severity=" as StaticString)
        out.append(a.severity.name)
        out.append(" src_zone=" as StaticString)
        zone(a.sourceZone, &out)
        out.append(" dest_zone=" as StaticString)
        zone(a.destinationZone, &out)
        out.append(byte: 0x20)
        TextFormatter.signature(a, .text, into: &out)
        out.append(" | " as StaticString)
        TextFormatter.endpoints(a, into: &out)
        for (key, value) in a.evidence {
            out.append(byte: 0x20)
            out.append(key)
            out.append(byte: 0x3D)
            TextFormatter.render(value, into: &out)
        }
        if a.suppressed > 0 {
            out.append(" suppressed=" as StaticString)
            out.append(decimal: a.suppressed)
        }
    }

    private static func zone(_ name: String?, _ out: inout OutputBuffer) {
        if let name { out.append(escaping: name, .text) } else { out.append(byte: 0x2D) }
    }
}
