import Decode
import Vocabulary
import Zones

/// Suricata's EVE JSON, valid against Suricata's own schema (`etc/schema.json`):
/// Suricata's fields in Suricata's order, and ZoneWarden's own data in
/// `alert.metadata` as Suricata writes a rule's metadata (string → array of
/// strings), every key prefixed `zw_`: `zw_rule`, `zw_severity`, the zones
/// (`zw_src_zone`, `zw_dest_zone`, `zw_segment_zone`), the inventory's names
/// (`zw_src_name`, `zw_src_host`, `zw_src_kind`, `zw_dest_...`), the tunnels
/// (`zw_encapsulation`), each piece of evidence (`zw_user`, ...), the
/// evidence file (`zw_pcap`) and the count of repeats suppressed (`zw_suppressed`).
enum EVEFormatter: AlertFormatter {
    static let name = "eve"
    static let summary = "Suricata EVE JSON (valid against Suricata's schema), one object per line"

    static func format(_ a: Alert, context: FormatContext, into out: inout OutputBuffer) {
        var o = JSONObjectWriter(&out)
        o.key("timestamp", &out); out.append(byte: 0x22); out.append(eveTimestamp: a.timestamp); out.append(byte: 0x22)
        if let flow = a.flowID { o.key("flow_id", &out); out.append(decimal: flow) }
        if let iface = a.interface { o.key("in_iface", &out); out.appendJSONString(iface) }
        o.key("event_type", &out); out.append("\"alert\"" as StaticString)
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
        if let type = a.icmpType { o.key("icmp_type", &out); out.append(decimal: type) }
        if let code = a.icmpCode { o.key("icmp_code", &out); out.append(decimal: code) }
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
        o.key("host", &out); out.appendJSONString(context.sensorName)

        o.key("alert", &out)
        var alert = JSONObjectWriter(&out)
        alert.key("action", &out); out.append("\"allowed\"" as StaticString)
        alert.key("gid", &out); out.append(byte: 0x31)
        alert.key("signature_id", &out); out.append(decimal: a.sid)
        alert.key("rev", &out); out.append(byte: 0x31)
        alert.key("signature", &out); out.append(byte: 0x22); TextFormatter.signature(a, .json, into: &out); out.append(byte: 0x22)
        alert.key("category", &out); out.appendJSONString(a.rule)
        alert.key("severity", &out); out.append(decimal: a.severity.eveValue)
        alert.key("metadata", &out)
        metadata(a, into: &out)
        alert.close(&out)
        o.close(&out)
    }

    /// `alert.metadata`: ZoneWarden's data, each value a list of strings.
    private static func metadata(_ a: Alert, into out: inout OutputBuffer) {
        var m = JSONObjectWriter(&out)
        func one(_ key: StaticString, _ value: String?, _ out: inout OutputBuffer) {
            guard let value else { return }
            m.key(key, &out)
            out.append(byte: 0x5B)
            out.appendJSONString(value)
            out.append(byte: 0x5D)
        }
        one("zw_rule", a.rule, &out)
        one("zw_severity", a.severity.name, &out)
        one("zw_src_zone", a.sourceZone, &out)
        one("zw_dest_zone", a.destinationZone, &out)
        one("zw_segment_zone", a.segmentZone, &out)
        if let asset = a.sourceAsset {
            one("zw_src_name", asset.name, &out)
            one("zw_src_host", asset.host, &out)
            one("zw_src_kind", asset.kind.rawValue, &out)
        }
        if let asset = a.destinationAsset {
            one("zw_dest_name", asset.name, &out)
            one("zw_dest_host", asset.host, &out)
            one("zw_dest_kind", asset.kind.rawValue, &out)
        }
        if !a.encapsulation.isEmpty {
            m.key("zw_encapsulation", &out)
            out.append(byte: 0x5B)
            for i in 0..<a.encapsulation.count {
                if i > 0 { out.append(byte: 0x2C) }
                // `vxlan 5000 10.40.0.11->10.40.0.12`, outermost first.
                out.append(byte: 0x22)
                TextFormatter.tunnel(a.encapsulation[i], into: &out)
                out.append(byte: 0x22)
            }
            out.append(byte: 0x5D)
        }
        for (key, value) in a.evidence {
            m.key(prefixed: key, &out)
            out.append(byte: 0x5B)
            switch value {
            case .list(let items):
                for (i, item) in items.enumerated() {
                    if i > 0 { out.append(byte: 0x2C) }
                    out.appendJSONString(item)
                }
            case .number(let n):
                out.append(byte: 0x22)
                out.append(decimal: n)
                out.append(byte: 0x22)
            case .flag(let b):
                out.append(b ? "\"true\"" as StaticString : "\"false\"")
            default:
                out.append(byte: 0x22)
                TextFormatter.appendString(value, .json, into: &out)
                out.append(byte: 0x22)
            }
            out.append(byte: 0x5D)
        }
        one("zw_pcap", a.pcap, &out)
        if a.suppressed > 0 {
            m.key("zw_suppressed", &out)
            out.append("[\"" as StaticString)
            out.append(decimal: a.suppressed)
            out.append("\"]" as StaticString)
        }
        m.close(&out)
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

    /// A key from elsewhere (an evidence name) after `zw_`, escaped.
    mutating func key(prefixed k: String, _ out: inout OutputBuffer) {
        if !first { out.append(byte: 0x2C) }
        first = false
        out.append("\"zw_" as StaticString)
        out.append(escaping: k, .json)
        out.append("\":" as StaticString)
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
