import Decode
import Vocabulary

/// Identifies a bidirectional flow: its segment (VLAN stack, tunnel and VNI) and
/// its endpoints in canonical order (the smaller address:port first), so both
/// directions map to the same key.
///
/// IP flows use addresses and ports (ICMP type/code mapped to port-like values
/// as Community ID does); non-IP Ethernet flows (AoE, FCoE, ...) use MAC
/// addresses and the EtherType.
@frozen
public struct FlowKey: Hashable, Sendable {
    public var aHigh: UInt64
    public var aLow: UInt64
    public var bHigh: UInt64
    public var bLow: UInt64
    /// portA << 48 | portB << 32 | protocol << 8 | kind.
    public var tuple: UInt64
    /// The outer frame's VLAN ids (``VLANStack/packedKey``).
    public var vlanKey: UInt64
    /// Innermost tunnel kind and identifier, an ERSPAN VLAN, and the inner frame's VLANs.
    public var overlayKey: UInt64

    public static let kindIP: UInt64 = 0
    public static let kindEthernet: UInt64 = 1

    public var isEthernet: Bool { tuple & 0xFF == FlowKey.kindEthernet }

    /// Whether the flow travels inside a tunnel or mirror encapsulation.
    public var isTunnelled: Bool { overlayKey != 0 }

    /// The VLAN id of the outer frame's innermost tag (0: untagged; only the first five tags are kept).
    public var outerVLAN: UInt16 {
        let count = min(Int(vlanKey >> 60), 5)
        var i = count - 1
        while i >= 0 {
            let id = UInt16(truncatingIfNeeded: vlanKey >> UInt64(12 * i)) & 0x0FFF
            if id != 0 { return id }
            i -= 1
        }
        return 0
    }

    /// The flow's segment, as ``Decode/DecodedPacket/segment`` has it for its packets.
    public var segment: Segment {
        guard overlayKey != 0 else { return Segment(vlan: outerVLAN) }
        let kind = TunnelKind(rawValue: UInt8(truncatingIfNeeded: overlayKey >> 56))
        let innerVLAN = UInt16(truncatingIfNeeded: overlayKey >> 8) & 0x0FFF
        let mirrorVLAN = UInt16(truncatingIfNeeded: overlayKey >> 20) & 0x0FFF
        var s = Segment(vlan: innerVLAN != 0 ? innerVLAN : (kind?.isMirror == true ? mirrorVLAN : 0))
        if kind?.hasVirtualNetworkID == true {
            s.vni = UInt32(truncatingIfNeeded: overlayKey >> 32) & 0xFF_FFFF
            s.hasVNI = true
        }
        return s
    }
    public var addressA: IPAddress { IPAddress(high: aHigh, low: aLow) }
    public var addressB: IPAddress { IPAddress(high: bHigh, low: bLow) }
    public var portA: UInt16 { UInt16(truncatingIfNeeded: tuple >> 48) }
    public var portB: UInt16 { UInt16(truncatingIfNeeded: tuple >> 32) }
    /// The IP protocol, or the EtherType for Ethernet flows.
    public var protocolNumber: UInt16 { UInt16(truncatingIfNeeded: tuple >> 8) }

    /// The key of the flow `p` belongs to, and whether `p`'s sender is endpoint A.
    /// `nil` for packets that belong to no flow: ARP, undecodable packets and
    /// later IP fragments (which carry no ports).
    @inline(__always)
    public static func make(_ p: DecodedPacket) -> (key: FlowKey, senderIsA: Bool)? {
        withUnsafePointer(to: p) { make($0) }
    }

    /// As ``make(_:)-(DecodedPacket)``, reading the packet in place.
    @inline(__always)
    public static func make(_ packet: UnsafePointer<DecodedPacket>) -> (key: FlowKey, senderIsA: Bool)? {
        let p = UnsafePointer(packet)
        return makeKey(p)
    }

    @inline(__always)
    static func makeKey(_ pointer: UnsafePointer<DecodedPacket>) -> (key: FlowKey, senderIsA: Bool)? {
        let p = pointer.pointee
        var sendHigh: UInt64, sendLow: UInt64, recvHigh: UInt64, recvLow: UInt64
        var sendPort: UInt16 = 0, recvPort: UInt16 = 0
        var proto: UInt64
        let kind: UInt64
        switch p.network {
        case .ipv4, .ipv6:
            if p.isFragment && p.fragmentOffset != 0 { return nil }
            sendHigh = p.source.high; sendLow = p.source.low
            recvHigh = p.destination.high; recvLow = p.destination.low
            proto = UInt64(p.ipProtocol.rawValue)
            kind = kindIP
            if p.hasTransport {
                let v = p.ipProtocol
                if v == .icmp || v == .icmpv6 {
                    let ports = ICMPPorts.map(type: p.icmpType, code: p.icmpCode, v6: v == .icmpv6)
                    sendPort = ports.source
                    recvPort = ports.destination
                } else {
                    sendPort = p.sourcePort
                    recvPort = p.destinationPort
                }
            }
        case .otherEthernet:
            guard p.hasMACs else { return nil }
            sendHigh = 0; sendLow = p.sourceMAC.rawValue
            recvHigh = 0; recvLow = p.destinationMAC.rawValue
            proto = UInt64(p.etherType.rawValue)
            kind = kindEthernet
        case .arp, .none:
            return nil
        }
        let senderIsA: Bool
        if sendHigh != recvHigh {
            senderIsA = sendHigh < recvHigh
        } else if sendLow != recvLow {
            senderIsA = sendLow < recvLow
        } else {
            senderIsA = sendPort <= recvPort
        }
        var key = FlowKey(aHigh: 0, aLow: 0, bHigh: 0, bLow: 0, tuple: 0, vlanKey: p.vlans.packedKey, overlayKey: 0)
        let portA: UInt16, portB: UInt16
        if senderIsA {
            key.aHigh = sendHigh; key.aLow = sendLow; key.bHigh = recvHigh; key.bLow = recvLow
            portA = sendPort; portB = recvPort
        } else {
            key.aHigh = recvHigh; key.aLow = recvLow; key.bHigh = sendHigh; key.bLow = sendLow
            portA = recvPort; portB = sendPort
        }
        key.tuple = UInt64(portA) << 48 | UInt64(portB) << 32 | proto << 8 | kind
        if let tunnel = p.tunnels.innermost {
            // kind(8) | identifier(24) | mirror VLAN(12) | innermost inner VLAN(12) | inner tag count(8)
            key.overlayKey = UInt64(tunnel.kind.rawValue) << 56 | UInt64(tunnel.identifier & 0xFF_FFFF) << 32
                | UInt64(p.mirrorVLAN & 0x0FFF) << 20 | UInt64(p.innerVLANs.innermostID ?? 0) << 8
                | UInt64(min(p.innerVLANs.count, 255))
        }
        return (key, senderIsA)
    }

    /// A seeded 64-bit hash of the key (multiply-xorshift over its words).
    @inline(__always)
    public func hash(seed: UInt64) -> UInt64 {
        var h = seed
        @inline(__always) func mix(_ w: UInt64) {
            h = (h ^ w) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 29
        }
        mix(aHigh); mix(aLow); mix(bHigh); mix(bLow); mix(tuple); mix(vlanKey); mix(overlayKey)
        h = (h ^ (h >> 32)) &* 0xD6E8_FEB8_6659_FD93
        return h ^ (h >> 32)
    }
}

