import Decode
import Vocabulary
import Zones

/// The human-readable one-line format:
///
///     2026-11-26T14:17:19.123456+0000 [critical] 1001 guest-to-management: MESSAGE | 192.168.4.7:50123 (guests) -> 10.10.0.5:443 (mgmt) TCP vlan 10 | key=value ...
///
/// The message starts with the rule's name, as EVE's `alert.signature` does.
enum TextFormatter: AlertFormatter {
    static let name = "text"
    static let summary = "one human-readable line per alert"

    static func format(_ a: Alert, context: FormatContext, into out: inout OutputBuffer) {
        out.append(eveTimestamp: a.timestamp)
        out.append(" [" as StaticString)
        out.append(a.severity.name)
        out.append("] " as StaticString)
        out.append(decimal: a.sid)
        out.append(byte: 0x20)
        signature(a, .text, into: &out)
        out.append(" | " as StaticString)
        endpoints(a, into: &out)
        if !a.vlans.isEmpty {
            out.append(" vlan " as StaticString)
            for (i, id) in a.vlans.enumerated() {
                if i > 0 { out.append(byte: 0x2F) }
                out.append(decimal: id)
            }
        }
        for i in 0..<a.encapsulation.count {
            out.append(" via " as StaticString)
            tunnel(a.encapsulation[i], into: &out)
        }
        if let segment = a.segmentZone {
            out.append(" segment " as StaticString)
            out.append(segment)
        }
        if !a.evidence.isEmpty {
            out.append(" |" as StaticString)
            for (key, value) in a.evidence {
                out.append(byte: 0x20)
                out.append(key)
                out.append(byte: 0x3D)
                render(value, into: &out)
            }
        }
        if let pcap = a.pcap {
            out.append(" pcap=" as StaticString)
            out.append(escaping: pcap, .text)
        }
        if a.suppressed > 0 {
            out.append(" (" as StaticString)
            out.append(decimal: a.suppressed)
            out.append(" similar suppressed)" as StaticString)
        }
    }

    /// `vxlan 5000 10.40.0.11->10.40.0.12`: a tunnel around the traffic (text, and EVE's `zw_encapsulation`).
    static func tunnel(_ e: Encapsulation, into out: inout OutputBuffer) {
        out.append(e.kind.name)
        if e.hasIdentifier {
            out.append(byte: 0x20)
            out.append(decimal: e.identifier)
        }
        out.append(byte: 0x20)
        out.append(e.outerSource)
        out.append("->" as StaticString)
        out.append(e.outerDestination)
    }

    /// `rule-name: message`, escaped for `mode`.
    static func signature(_ a: Alert, _ mode: Escaping.Mode, into out: inout OutputBuffer) {
        out.append(escaping: a.rule, mode)
        out.append(": " as StaticString)
        out.append(a.message, mode)
    }

    /// Whether the alert has two ends to write (a link's finding, 5003, has none: `-`).
    static func hasEndpoints(_ a: Alert) -> Bool {
        (a.sourceIP != nil && a.destinationIP != nil) || (a.sourceMAC != nil && a.destinationMAC != nil)
    }

    /// `192.168.4.7:50123 (guests) -> 10.10.0.5:443 (mgmt) TCP`, MACs for
    /// non-IP frames, `-` when there are no endpoints.
    static func endpoints(_ a: Alert, into out: inout OutputBuffer) {
        if let source = a.sourceIP, let destination = a.destinationIP {
            let ports = a.hasPorts
            side(source, ports ? a.sourcePort : nil, a.sourceZone, a.sourceAsset, into: &out)
            out.append(" -> " as StaticString)
            side(destination, ports ? a.destinationPort : nil, a.destinationZone, a.destinationAsset, into: &out)
            out.append(byte: 0x20)
            if let proto = a.ipProtocol { out.append(proto.description) }
            return
        }
        if let source = a.sourceMAC, let destination = a.destinationMAC {
            out.append(source)
            zone(a.sourceZone, a.sourceAsset, into: &out)
            out.append(" -> " as StaticString)
            out.append(destination)
            zone(a.destinationZone, a.destinationAsset, into: &out)
            if let type = a.etherType {
                out.append(" ethertype 0x" as StaticString)
                out.append(hex: UInt64(type))
            }
            return
        }
        out.append(byte: 0x2D)
    }

    private static func side(_ address: IPAddress, _ port: UInt16?, _ zoneName: String?, _ asset: Asset?, into out: inout OutputBuffer) {
        if let port {
            if address.isIPv4 {
                out.append(address)
            } else {
                out.append(byte: 0x5B)
                out.append(address)
                out.append(byte: 0x5D)
            }
            out.append(byte: 0x3A)
            out.append(decimal: port)
        } else {
            out.append(address)
        }
        zone(zoneName, asset, into: &out)
    }

    /// ` (web)`, or with the inventory's name ` (web-01 on esx-03, zone web)`; names are escaped (an inventory is not the sensor's to trust).
    private static func zone(_ name: String?, _ asset: Asset?, into out: inout OutputBuffer) {
        out.append(" (" as StaticString)
        if let asset {
            out.append(escaping: asset.name, .text)
            if let host = asset.host {
                out.append(" on " as StaticString)
                out.append(escaping: host, .text)
            }
            out.append(", " as StaticString)
            if name != nil { out.append("zone " as StaticString) }
        }
        if let name { out.append(name) } else { out.append("no zone" as StaticString) }
        out.append(byte: 0x29)
    }

    /// A value as the text format and RFC 3164 write it: strings quoted and
    /// escaped, numbers bare, flags yes/no, lists `["a","b"]`.
    static func render(_ v: EvidenceValue, into out: inout OutputBuffer) {
        switch v {
        case .number(let n): out.append(decimal: n)
        case .flag(let b): out.append(b ? "yes" as StaticString : "no")
        case .list(let items):
            out.append(byte: 0x5B)
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(byte: 0x2C) }
                out.append(byte: 0x22)
                out.append(escaping: item, .text)
                out.append(byte: 0x22)
            }
            out.append(byte: 0x5D)
        default:
            out.append(byte: 0x22)
            appendString(v, .text, into: &out)
            out.append(byte: 0x22)
        }
    }

    /// A string-like value (text, address, MAC, service, redacted), escaped for `mode`.
    static func appendString(_ v: EvidenceValue, _ mode: Escaping.Mode, into out: inout OutputBuffer) {
        switch v {
        case .text(let s): out.append(escaping: s, mode)
        case .address(let a): out.append(a)
        case .mac(let m): out.append(m)
        case .service(let s): out.append(s)
        case .redacted(let n) where n == 0:
            out.append("empty" as StaticString)
        case .redacted(let n):
            out.append("redacted (" as StaticString)
            out.append(decimal: n)
            out.append(n == 1 ? " char)" as StaticString : " chars)")
        case .number(let n): out.append(decimal: n)
        case .flag(let b): out.append(b ? "yes" as StaticString : "no")
        case .list(let items):
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(byte: 0x2C) }
                out.append(escaping: item, mode)
            }
        }
    }
}
