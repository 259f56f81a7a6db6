/// Something wrong with a packet's bytes, found while decoding it. Anomalies are
/// data, not errors: they are counted per kind and the packet is used as far as
/// it could be decoded.
///
/// Names are stable (`decode.<layer>.<what>`), as Suricata's decoder events.
public enum DecodeAnomaly: UInt8, CaseIterable, Sendable {
    case ethernetTruncated = 1
    case llcTruncated
    case vlanTruncated
    case vlanTooManyTags
    case mplsTruncated
    case mplsTooManyLabels
    case mplsUnknownPayload
    case pppoeTruncated
    case arpTruncated
    case sllTruncated
    case sll2Truncated
    case nullTruncated
    case nullUnknownFamily
    case rawUnknownVersion
    case ipv4Truncated
    case ipv4BadVersion
    case ipv4HeaderTooShort
    case ipv4BadTotalLength
    case ipv4BadOption
    case ipv4ZeroTotalLength
    case ipv6Truncated
    case ipv6BadVersion
    case ipv6ExtensionTruncated
    case ipv6TooManyExtensions
    case tcpTruncated
    case tcpBadDataOffset
    case udpTruncated
    case udpBadLength
    case icmpTruncated
    case icmpv6Truncated
    case greTruncated
    case greBadVersion
    case erspanTruncated
    case erspanBadVersion
    case vxlanTruncated
    case geneveTruncated
    case tunnelTooDeep
    case tooManyLayers
    /// A GRE packet carrying a protocol the decoder does not follow (keepalives,
    /// 0x8909, WCCP, ...): the GRE flow between its endpoints is still a tunnel.
    case greUnknownPayload
    case sctpTruncated

    /// The stable name, e.g. `decode.ipv4.truncated`.
    public var name: String {
        switch self {
        case .ethernetTruncated: return "decode.ethernet.truncated"
        case .llcTruncated: return "decode.llc.truncated"
        case .vlanTruncated: return "decode.vlan.truncated"
        case .vlanTooManyTags: return "decode.vlan.too_many_tags"
        case .mplsTruncated: return "decode.mpls.truncated"
        case .mplsTooManyLabels: return "decode.mpls.too_many_labels"
        case .mplsUnknownPayload: return "decode.mpls.unknown_payload"
        case .pppoeTruncated: return "decode.pppoe.truncated"
        case .arpTruncated: return "decode.arp.truncated"
        case .sllTruncated: return "decode.sll.truncated"
        case .sll2Truncated: return "decode.sll2.truncated"
        case .nullTruncated: return "decode.null.truncated"
        case .nullUnknownFamily: return "decode.null.unknown_family"
        case .rawUnknownVersion: return "decode.raw.unknown_ip_version"
        case .ipv4Truncated: return "decode.ipv4.truncated"
        case .ipv4BadVersion: return "decode.ipv4.bad_version"
        case .ipv4HeaderTooShort: return "decode.ipv4.header_too_short"
        case .ipv4BadTotalLength: return "decode.ipv4.bad_total_length"
        case .ipv4BadOption: return "decode.ipv4.bad_option"
        case .ipv4ZeroTotalLength: return "decode.ipv4.zero_total_length"
        case .ipv6Truncated: return "decode.ipv6.truncated"
        case .ipv6BadVersion: return "decode.ipv6.bad_version"
        case .ipv6ExtensionTruncated: return "decode.ipv6.extension_truncated"
        case .ipv6TooManyExtensions: return "decode.ipv6.too_many_extensions"
        case .tcpTruncated: return "decode.tcp.truncated"
        case .tcpBadDataOffset: return "decode.tcp.bad_data_offset"
        case .udpTruncated: return "decode.udp.truncated"
        case .sctpTruncated: return "decode.sctp.truncated"
        case .udpBadLength: return "decode.udp.bad_length"
        case .icmpTruncated: return "decode.icmp.truncated"
        case .icmpv6Truncated: return "decode.icmpv6.truncated"
        case .greTruncated: return "decode.gre.truncated"
        case .greBadVersion: return "decode.gre.bad_version"
        case .erspanTruncated: return "decode.erspan.truncated"
        case .erspanBadVersion: return "decode.erspan.bad_version"
        case .vxlanTruncated: return "decode.vxlan.truncated"
        case .geneveTruncated: return "decode.geneve.truncated"
        case .tunnelTooDeep: return "decode.tunnel.too_deep"
        case .tooManyLayers: return "decode.packet.too_many_layers"
        case .greUnknownPayload: return "decode.gre.unknown_payload"
        }
    }

    /// The layer part of the name (`ipv4`, `tcp`, ...), for per-layer counts.
    public var layer: String {
        let parts = name.split(separator: ".")
        return String(parts[1])
    }

    /// Number of anomaly kinds plus one, for counter arrays indexed by raw value.
    public static let counterSlots = Int(DecodeAnomaly.allCases.map(\.rawValue).max()!) + 1
}
