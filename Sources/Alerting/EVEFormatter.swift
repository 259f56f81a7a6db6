/// Suricata-compatible EVE JSON: the standard header fields in Suricata's
/// order, the `alert` object, then ZoneWarden's own `zonewarden` object.
enum EVEFormatter {
    static func format(_ a: Alert) -> String {
        var o = JSONObjectWriter()
        o.string("timestamp", Timestamp.eve(a.timestamp))
        if let flow = a.flowID { o.number("flow_id", flow) }
        o.string("event_type", "alert")
        if let iface = a.interface { o.string("in_iface", iface) }
        if !a.vlans.isEmpty { o.raw("vlan", "[" + a.vlans.map(String.init).joined(separator: ",") + "]") }
        if let src = a.sourceIP { o.string("src_ip", src.description) }
        if let port = a.sourcePort, a.hasPorts { o.number("src_port", UInt64(port)) }
        if let dst = a.destinationIP { o.string("dest_ip", dst.description) }
        if let port = a.destinationPort, a.hasPorts { o.number("dest_port", UInt64(port)) }
        if let proto = a.protoName { o.string("proto", proto) }
        if a.sourceIP == nil, let smac = a.sourceMAC, let dmac = a.destinationMAC {
            var ether = JSONObjectWriter()
            ether.string("src_mac", smac.description)
            ether.string("dest_mac", dmac.description)
            if let type = a.etherType { ether.number("ether_type", UInt64(type)) }
            o.raw("ether", ether.finish())
        }
        if let app = a.appProto { o.string("app_proto", app) }
        if let cid = a.communityID { o.string("community_id", cid) }

        var alert = JSONObjectWriter()
        alert.string("action", "allowed")
        alert.number("gid", 1)
        alert.number("signature_id", UInt64(a.sid))
        alert.number("rev", 1)
        alert.string("signature", a.message)
        alert.string("category", a.rule)
        alert.number("severity", UInt64(a.severity.eveValue))
        o.raw("alert", alert.finish())

        var zw = JSONObjectWriter()
        zw.string("rule", a.rule)
        zw.string("severity", a.severity.name)
        zw.stringOrNull("src_zone", a.sourceZone)
        zw.stringOrNull("dest_zone", a.destinationZone)
        zw.stringOrNull("segment_zone", a.segmentZone)
        if !a.encapsulation.isEmpty {
            let items = a.encapsulation.map { e -> String in
                var t = JSONObjectWriter()
                t.string("type", e.kind)
                t.string("src_ip", e.outerSource)
                t.string("dest_ip", e.outerDestination)
                if let id = e.identifier { t.number("id", UInt64(id)) }
                return t.finish()
            }
            zw.raw("encapsulation", "[" + items.joined(separator: ",") + "]")
        }
        var evidence = JSONObjectWriter()
        for (key, value) in a.evidence {
            switch value {
            case .text(let s): evidence.string(key, s)
            case .number(let n): evidence.raw(key, String(n))
            case .flag(let b): evidence.raw(key, b ? "true" : "false")
            case .list(let items): evidence.raw(key, "[" + items.map(Escaping.json).joined(separator: ",") + "]")
            }
        }
        zw.raw("evidence", evidence.finish())
        if a.suppressed > 0 { zw.number("suppressed", UInt64(a.suppressed)) }
        o.raw("zonewarden", zw.finish())
        return o.finish()
    }
}

/// Builds one JSON object with keys in insertion order.
struct JSONObjectWriter {
    private var body = ""
    private var first = true

    private mutating func key(_ k: String) {
        if !first { body += "," }
        first = false
        body += Escaping.json(k) + ":"
    }

    mutating func string(_ k: String, _ v: String) {
        key(k)
        body += Escaping.json(v)
    }

    mutating func stringOrNull(_ k: String, _ v: String?) {
        key(k)
        body += v.map(Escaping.json) ?? "null"
    }

    mutating func number(_ k: String, _ v: UInt64) {
        key(k)
        body += String(v)
    }

    /// `v` must already be valid JSON.
    mutating func raw(_ k: String, _ v: String) {
        key(k)
        body += v
    }

    func finish() -> String { "{" + body + "}" }
}

extension Alert {
    /// Whether the protocol has ports (TCP, UDP, SCTP); ICMP's type/code are not ports in EVE.
    var hasPorts: Bool {
        guard let p = ipProtocol else { return false }
        return p == 6 || p == 17 || p == 132
    }
}
