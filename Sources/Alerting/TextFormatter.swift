/// The human-readable one-line format:
///
///     2026-11-26T14:17:19.123456+0000 [critical] 1001 guest-to-management: MESSAGE | 192.168.4.7:50123 (guests) -> 10.10.0.5:443 (mgmt) TCP vlan 10 | key=value ...
///
/// The message starts with the rule's name, as EVE's `alert.signature` does.
enum TextFormatter {
    static func format(_ a: Alert) -> String {
        var line = "\(Timestamp.eve(a.timestamp)) [\(a.severity.name)] \(a.sid) \(Escaping.text(a.message))"
        line += " | " + endpoints(a)
        if !a.vlans.isEmpty { line += " vlan " + a.vlans.map(String.init).joined(separator: "/") }
        for e in a.encapsulation {
            line += " via \(e.kind)"
            if let id = e.identifier { line += " \(id)" }
            line += " \(e.outerSource)->\(e.outerDestination)"
        }
        if let segment = a.segmentZone { line += " segment \(segment)" }
        if !a.evidence.isEmpty {
            line += " |"
            for (key, value) in a.evidence { line += " \(key)=\(render(value))" }
        }
        if a.suppressed > 0 { line += " (\(a.suppressed) similar suppressed)" }
        return line
    }

    static func endpoints(_ a: Alert) -> String {
        func side(_ ip: String?, _ port: UInt16?, _ zone: String?) -> String {
            var s = ip ?? "?"
            if let port {
                s = ip.map { $0.contains(":") ? "[\($0)]" : $0 } ?? "?"
                s += ":\(port)"
            }
            return s + " (\(zone ?? "no zone"))"
        }
        if let src = a.sourceIP, let dst = a.destinationIP {
            let ports = a.ipProtocol.map { $0 == 6 || $0 == 17 || $0 == 132 } ?? false
            return side(src.description, ports ? a.sourcePort : nil, a.sourceZone) + " -> "
                + side(dst.description, ports ? a.destinationPort : nil, a.destinationZone) + " " + (a.protoName ?? "")
        }
        if let smac = a.sourceMAC, let dmac = a.destinationMAC {
            let type = a.etherType.map { " ethertype 0x" + String($0, radix: 16, uppercase: false) } ?? ""
            return side(smac.description, nil, a.sourceZone) + " -> " + side(dmac.description, nil, a.destinationZone) + type
        }
        return "-"
    }

    static func render(_ v: EvidenceValue) -> String {
        switch v {
        case .text(let s): return "\"" + Escaping.text(s) + "\""
        case .number(let n): return String(n)
        case .flag(let b): return b ? "yes" : "no"
        case .list(let items): return "[" + items.map { "\"" + Escaping.text($0) + "\"" }.joined(separator: ",") + "]"
        }
    }
}
