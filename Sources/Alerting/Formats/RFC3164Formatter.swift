import Decode
import Vocabulary

/// RFC 3164: `<PRI>Mmm dd hh:mm:ss HOST zonewarden[PID]: RULE sid=.. MESSAGE`,
/// at most 1,024 bytes (section 4.1): a longer message is cut at a space
/// and ends in ` [truncated]`.
enum RFC3164Formatter: AlertFormatter {
    static let name = "rfc3164"
    static let summary = "legacy BSD syslog (RFC 3164)"
    static let isSyslog = true
    /// The longest packet RFC 3164 allows.
    static let limit = 1024
    static let marker: StaticString = " [truncated]"

    static func format(_ a: Alert, context: FormatContext, into out: inout OutputBuffer) {
        format(a, context: context, hostname: true, into: &out)
    }

    /// The line, with the HOSTNAME field or without (the local socket's form, ``LocalSyslogFormatter``).
    static func format(_ a: Alert, context: FormatContext, hostname: Bool, into out: inout OutputBuffer) {
        let start = out.count
        body(a, context: context, hostname: hostname, into: &out)
        guard out.count - start > limit else { return }
        // Cut at the last space that leaves room for the marker (never inside a
        // UTF-8 character or an escape), then say so.
        let longest = start + limit - marker.utf8CodeUnitCount
        var cut = longest
        while cut > start + limit / 2 && out.byte(at: cut) != 0x20 { cut -= 1 }
        if out.byte(at: cut) != 0x20 {
            // No space in the second half: cut at a character boundary.
            cut = longest
            while cut > start && out.byte(at: cut) & 0xC0 == 0x80 { cut -= 1 }
        }
        out.truncate(to: cut)
        out.append(marker)
    }

    private static func body(_ a: Alert, context: FormatContext, hostname: Bool, into out: inout OutputBuffer) {
        out.append(byte: 0x3C)
        out.append(decimal: context.facility * 8 + a.severity.syslogSeverity)
        out.append(byte: 0x3E)
        out.append(rfc3164Timestamp: a.timestamp)
        if hostname {
            out.append(byte: 0x20)
            out.append(context.syslogHostname)
        }
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
        if let pcap = a.pcap {
            // Before the message: a line cut at 1,024 bytes keeps it.
            out.append(" pcap=" as StaticString)
            out.append(escaping: pcap, .text)
        }
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
