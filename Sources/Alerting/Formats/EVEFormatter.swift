import Decode
import Vocabulary
import Zones

/// Suricata-compatible EVE JSON: the standard header fields in Suricata's
/// order, the `alert` object, then ZoneWarden's own `zonewarden` object.
enum EVEFormatter: AlertFormatter {
    static let name = "eve"
    static let summary = "Suricata-compatible EVE JSON, one object per line"

    static func format(_ a: Alert, context: FormatContext, into out: inout OutputBuffer) {
        var o = JSONObjectWriter(&out)
        o.key("timestamp", &out); out.append(byte: 0x22); out.append(eveTimestamp: a.timestamp); out.append(byte: 0x22)
        if let flow = a.flowID { o.key("flow_id", &out); out.append(decimal: flow) }
        o.key("event_type", &out); out.append("\"alert\"" as StaticString)
        if let iface = a.interface { o.key("in_iface", &out); out.appendJSONString(iface) }
        if !a.vlans.isEmpty {
            o.key("vlan", &out)
            out.append(byte: 0x5B)
            for (i, id) in a.vlans.enumerated() {
                if i > 0 { out.append(byte: 0x2C) }
                out.append(decimal: id)
            }
            out.append(byte: 0x5D)
        }
        if let src = a.sourceIP { o.key("src_ip", &out); quoted(src, &out) }
        if let port = a.sourcePort, a.hasPorts { o.key("src_port", &out); out.append(decimal: port) }
        if let dst = a.destinationIP { o.key("dest_ip", &out); quoted(dst, &out) }
        if let port = a.destinationPort, a.hasPorts { o.key("dest_port", &out); out.append(decimal: port) }
        if let proto = a.ipProtocol { o.key("proto", &out); out.appendJSONString(proto.description) }
        if a.sourceIP == nil, let smac = a.sourceMAC, let dmac = a.destinationMAC {
            o.key("ether", &out)
            var ether = JSONObjectWriter(&out)
            ether.key("src_mac", &out); quoted(smac, &out)
            ether.key("dest_mac", &out); quoted(dmac, &out)
            if let type = a.etherType { ether.key("ether_type", &out); out.append(decimal: type) }
            ether.close(&out)
        }
        if let app = a.appProto { o.key("app_proto", &out); out.appendJSONString(app) }
        if let cid = a.communityID { o.key("community_id", &out); out.append(byte: 0x22); out.append(cid); out.append(byte: 0x22) }

        o.key("alert", &out)
        var alert = JSONObjectWriter(&out)
        alert.key("action", &out); out.append("\"allowed\"" as StaticString)
        alert.key("gid", &out); out.append(byte: 0x31)
        alert.key("signature_id", &out); out.append(decimal: a.sid)
        alert.key("rev", &out); out.append(byte: 0x31)
        alert.key("signature", &out); out.append(byte: 0x22); TextFormatter.signature(a, .json, into: &out); out.append(byte: 0x22)
        alert.key("category", &out); out.appendJSONString(a.rule)
        alert.key("severity", &out); out.append(decimal: a.severity.eveValue)
        if let pcap = a.pcap {
            // Suricata's place for a signature's extra data: string -> array of strings.
            alert.key("metadata", &out)
            out.append("{\"pcap\":[" as StaticString)
            out.appendJSONString(pcap)
            out.append("]}" as StaticString)
        }
        alert.close(&out)

        o.key("zonewarden", &out)
        var zw = JSONObjectWriter(&out)
        zw.key("rule", &out); out.appendJSONString(a.rule)
        zw.key("severity", &out); out.appendJSONString(a.severity.name)
        zw.key("src_zone", &out); stringOrNull(a.sourceZone, &out)
        zw.key("dest_zone", &out); stringOrNull(a.destinationZone, &out)
        zw.key("segment_zone", &out); stringOrNull(a.segmentZone, &out)
        if let asset = a.sourceAsset {
            zw.key("src_name", &out); out.appendJSONString(asset.name)
            if let host = asset.host { zw.key("src_host", &out); out.appendJSONString(host) }
            zw.key("src_kind", &out); out.appendJSONString(asset.kind.rawValue)
        }
        if let asset = a.destinationAsset {
            zw.key("dest_name", &out); out.appendJSONString(asset.name)
            if let host = asset.host { zw.key("dest_host", &out); out.appendJSONString(host) }
            zw.key("dest_kind", &out); out.appendJSONString(asset.kind.rawValue)
        }
        if !a.encapsulation.isEmpty {
            zw.key("encapsulation", &out)
            out.append(byte: 0x5B)
            for i in 0..<a.encapsulation.count {
                let e = a.encapsulation[i]
                if i > 0 { out.append(byte: 0x2C) }
                var t = JSONObjectWriter(&out)
                t.key("type", &out); out.appendJSONString(e.kind.name)
                t.key("src_ip", &out); quoted(e.outerSource, &out)
                t.key("dest_ip", &out); quoted(e.outerDestination, &out)
                if e.hasIdentifier { t.key("id", &out); out.append(decimal: e.identifier) }
                t.close(&out)
            }
            out.append(byte: 0x5D)
        }
        zw.key("evidence", &out)
        var evidence = JSONObjectWriter(&out)
        for (key, value) in a.evidence {
            evidence.key(escaping: key, &out)
            switch value {
            case .number(let n): out.append(decimal: n)
            case .flag(let b): out.append(b ? "true" as StaticString : "false")
            case .list(let items):
                out.append(byte: 0x5B)
                for (i, item) in items.enumerated() {
                    if i > 0 { out.append(byte: 0x2C) }
                    out.appendJSONString(item)
                }
                out.append(byte: 0x5D)
            default:
                out.append(byte: 0x22)
                TextFormatter.appendString(value, .json, into: &out)
                out.append(byte: 0x22)
            }
        }
        evidence.close(&out)
        if a.suppressed > 0 { zw.key("suppressed", &out); out.append(decimal: a.suppressed) }
        zw.close(&out)
        o.close(&out)
    }

    private static func quoted(_ a: IPAddress, _ out: inout OutputBuffer) {
        out.append(byte: 0x22)
        out.append(a)
        out.append(byte: 0x22)
    }

    private static func quoted(_ m: MACAddress, _ out: inout OutputBuffer) {
        out.append(byte: 0x22)
        out.append(m)
        out.append(byte: 0x22)
    }

    /// A JSON string, or `null` (EVE's zones of addresses in no zone).
    static func stringOrNull(_ s: String?, _ out: inout OutputBuffer) {
        if let s { out.appendJSONString(s) } else { out.append("null" as StaticString) }
    }
}

/// Writes one JSON object's keys in insertion order into a buffer: `{` when
/// made, `,` before every key but the first, `}` on ``close(_:)``.
struct JSONObjectWriter {
    private var first = true

    init(_ out: inout OutputBuffer) { out.append(byte: 0x7B) }

    /// A key the formatter names (a literal: nothing to escape).
    @inline(__always)
    mutating func key(_ k: StaticString, _ out: inout OutputBuffer) {
        if !first { out.append(byte: 0x2C) }
        first = false
        out.append(byte: 0x22)
        out.append(k)
        out.append(byte: 0x22)
        out.append(byte: 0x3A)
    }

    /// A key from elsewhere (an evidence name), escaped.
    mutating func key(escaping k: String, _ out: inout OutputBuffer) {
        if !first { out.append(byte: 0x2C) }
        first = false
        out.appendJSONString(k)
        out.append(byte: 0x3A)
    }

    func close(_ out: inout OutputBuffer) { out.append(byte: 0x7D) }
}
