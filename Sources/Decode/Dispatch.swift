import Vocabulary

/// The next thing to decode and where it starts in the packet bytes. Each layer
/// decoder reads its header, records fields in the ``DecodedPacket`` and returns
/// one of these; ``PacketDecoder/decode(_:link:into:)`` routes it.
enum NextLayer {
    case ethernet(Int)
    case etherType(EtherType, Int)
    case ipv4(Int)
    case ipv6(Int)
    /// A transport or tunnel protocol after an IP header.
    case ipProtocol(IPProtocol, Int)
    /// A UDP payload, routed to VXLAN or Geneve by destination port.
    case udpPayload(Int)
    case rawIP(Int)
    case done
}

/// Decodes captured packets into ``DecodedPacket`` values.
///
/// All routing between layers lives here: a new tunnel or protocol is one
/// decoder file plus one `case` below.
public struct PacketDecoder: Sendable {
    /// The most layers one packet may have before decoding gives up.
    public static let maximumLayers = 32

    /// UDP destination ports decoded as VXLAN (IANA 4789; 8472 is Linux's legacy default).
    public var vxlanPorts: (UInt16, UInt16) = (4789, 8472)
    /// UDP destination port decoded as Geneve.
    public var genevePort: UInt16 = 6081

    public init() {}

    /// Decodes `bytes`, which start with a header of kind `link`, into `packet`.
    /// The caller resets `packet` first.
    public func decode(_ bytes: ByteView, link: LinkLayer, into p: inout DecodedPacket) {
        var next = link.start(bytes, into: &p)
        var layers = 0
        while true {
            layers &+= 1
            if _slowPath(layers > PacketDecoder.maximumLayers) {
                p.flag(.tooManyLayers)
                return
            }
            switch next {
            case .ethernet(let o):
                next = EthernetDecoder.decode(bytes, at: o, into: &p)
            case .etherType(let type, let o):
                next = dispatch(etherType: type, bytes, at: o, into: &p)
            case .ipv4(let o):
                next = IPv4Decoder.decode(bytes, at: o, into: &p)
            case .ipv6(let o):
                next = IPv6Decoder.decode(bytes, at: o, into: &p)
            case .ipProtocol(let proto, let o):
                next = dispatch(ipProtocol: proto, bytes, at: o, into: &p)
            case .udpPayload(let o):
                let port = p.destinationPort
                if port == vxlanPorts.0 || port == vxlanPorts.1 {
                    next = VXLANDecoder.decode(bytes, at: o, into: &p)
                } else if port == genevePort {
                    next = GeneveDecoder.decode(bytes, at: o, into: &p)
                } else {
                    return
                }
            case .rawIP(let o):
                next = RawIPDecoder.decode(bytes, at: o, into: &p)
            case .done:
                return
            }
        }
    }

    func dispatch(etherType type: EtherType, _ b: ByteView, at o: Int, into p: inout DecodedPacket) -> NextLayer {
        p.etherType = type
        switch type {
        case .ipv4:
            return .ipv4(o)
        case .ipv6:
            return .ipv6(o)
        case .vlan, .qinq, .qinqLegacy:
            return VLANDecoder.decode(b, at: o, tpid: type.rawValue, into: &p)
        case .arp, .rarp:
            return ARPDecoder.decode(b, at: o, into: &p)
        case .mplsUnicast, .mplsMulticast:
            return MPLSDecoder.decode(b, at: o, into: &p)
        case .pppoeSession:
            return PPPoEDecoder.decode(b, at: o, into: &p)
        case .transparentEthernetBridging:
            return .ethernet(o)
        case .fcoe, .fip, .aoe, .pppoeDiscovery, .macsec:
            // FCoE, FIP, AoE, PPPoE discovery, MACsec: recognised, no IP inside to decode.
            p.network = .otherEthernet
            return .done
        default:
            p.network = .otherEthernet
            return .done
        }
    }

    func dispatch(ipProtocol proto: IPProtocol, _ b: ByteView, at o: Int, into p: inout DecodedPacket) -> NextLayer {
        switch proto {
        case .tcp:
            return TCPDecoder.decode(b, at: o, into: &p)
        case .udp:
            return UDPDecoder.decode(b, at: o, into: &p)
        case .sctp:
            return SCTPDecoder.decode(b, at: o, into: &p)
        case .icmp:
            return ICMPDecoder.decode(b, at: o, into: &p)
        case .icmpv6:
            return ICMPDecoder.decodeV6(b, at: o, into: &p)
        case .gre:
            return GREDecoder.decode(b, at: o, into: &p)
        case .ipv4, .ipv6:
            return IPInIPDecoder.decode(b, at: o, inner: proto, into: &p)
        default:
            return .done
        }
    }
}

extension DecodedPacket {
    /// Records a tunnel around the packet decoded so far and clears the network
    /// state for the inner packet. Returns false (and flags the packet) when the
    /// nesting is too deep.
    mutating func enterTunnel(_ kind: TunnelKind, identifier: UInt32 = 0, hasIdentifier: Bool = false) -> Bool {
        let entry = Encapsulation(kind: kind, outerSource: source, outerDestination: destination, identifier: identifier, hasIdentifier: hasIdentifier)
        guard tunnels.push(entry) else {
            flag(.tunnelTooDeep)
            return false
        }
        innerVLANs.removeAll()
        resetNetwork()
        return true
    }
}
