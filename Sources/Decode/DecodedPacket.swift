import Vocabulary

/// The network layer a packet carries, after all tunnels.
public enum NetworkKind: UInt8, Sendable {
    case none
    case ipv4
    case ipv6
    case arp
    /// A recognised non-IP Ethernet protocol (FCoE, FIP, AoE, ...): see ``DecodedPacket/etherType``.
    case otherEthernet
}

/// The segment a packet travels on: a VLAN id and/or a virtual network id.
@frozen
public struct Segment: Hashable, Sendable {
    /// VLAN id, 0 when the packet is untagged (or priority-tagged only).
    public var vlan: UInt16
    /// VXLAN/Geneve VNI or NVGRE VSID; meaningful when ``hasVNI``.
    public var vni: UInt32
    public var hasVNI: Bool

    public init(vlan: UInt16 = 0, vni: UInt32 = 0, hasVNI: Bool = false) {
        self.vlan = vlan
        self.vni = vni
        self.hasVNI = hasVNI
    }
}

/// Everything the decoder found in one packet, as plain values: addresses,
/// ports, tags and offsets into the captured bytes. It is reused from packet to
/// packet (``reset(timestamp:capturedLength:wireLength:)``) and never allocates.
///
/// Addresses and ports are those of the innermost packet; the tunnels around it
/// are in ``tunnels``.
@frozen
public struct DecodedPacket: Sendable {
    // Capture
    public var timestamp: UInt64 = 0
    public var capturedLength: Int = 0
    public var wireLength: Int = 0

    // Link layer
    /// Whether the innermost frame had Ethernet (or cooked) source addresses.
    public var hasMACs = false
    public var sourceMAC = MACAddress.zero
    public var destinationMAC = MACAddress.zero
    /// How many tunnels deep the frame with those MACs was.
    public var macTunnelDepth = 0
    /// VLAN tags of the outermost frame, outermost first.
    public var vlans = VLANStack()
    /// VLAN tags of the frame inside the innermost tunnel.
    public var innerVLANs = VLANStack()
    /// The original VLAN an ERSPAN II/III header reports for a mirrored frame (0 if none).
    public var mirrorVLAN: UInt16 = 0
    /// The innermost Ethernet protocol type seen.
    public var etherType = EtherType(rawValue: 0)
    /// MPLS labels, outermost first (up to 4 kept; ``mplsLabelCount`` counts all).
    public var mplsLabels = InlineArray<4, UInt32>(repeating: 0)
    public var mplsLabelCount = 0
    public var viaPPPoE = false
    /// Tunnels and mirror encapsulations around the innermost packet.
    public var tunnels = EncapsulationStack()

    // Network layer
    public var network = NetworkKind.none
    public var source = IPAddress.zero
    public var destination = IPAddress.zero
    /// The transport protocol after IPv6 extension headers.
    public var ipProtocol = IPProtocol(rawValue: 0)
    public var ttl: UInt8 = 0
    /// End of the IP payload within the captured bytes (excludes Ethernet padding).
    public var ipPayloadEnd = 0
    public var isFragment = false
    /// Fragment offset in bytes.
    public var fragmentOffset = 0
    public var hasIPOptions = false

    // Transport layer
    /// Whether ports (or ICMP type/code) were decoded.
    public var hasTransport = false
    public var sourcePort: UInt16 = 0
    public var destinationPort: UInt16 = 0
    public var tcpFlags: UInt8 = 0
    public var tcpSequence: UInt32 = 0
    public var tcpAcknowledgement: UInt32 = 0
    public var icmpType: UInt8 = 0
    public var icmpCode: UInt8 = 0
    /// A UDP datagram that opens with an ONC RPC call (message type CALL, RPC
    /// version 2): its sender is the client, whatever its port (NFS clients
    /// call from reserved ports below 1024).
    public var isRPCCall = false
    /// Offset and captured length of the transport payload within the packet bytes.
    public var payloadOffset = 0
    public var payloadLength = 0

    // ARP (IPv4 over Ethernet)
    public var arpOperation: UInt16 = 0
    public var arpSenderMAC = MACAddress.zero
    public var arpSenderIP = IPAddress.zero
    public var arpTargetMAC = MACAddress.zero
    public var arpTargetIP = IPAddress.zero

    /// The first anomaly found, if any; decoding stops at the layer that has it.
    public var anomaly: DecodeAnomaly? = nil

    public init() {}

    /// Clears what the previous packet left, without touching inline storage.
    public mutating func reset(timestamp: UInt64, capturedLength: Int, wireLength: Int) {
        self.timestamp = timestamp
        self.capturedLength = capturedLength
        self.wireLength = wireLength
        hasMACs = false
        // A link layer without one (Linux cooked capture has only the sender's) must not keep the last frame's.
        sourceMAC = .zero
        destinationMAC = .zero
        vlans.removeAll()
        innerVLANs.removeAll()
        mirrorVLAN = 0
        etherType = EtherType(rawValue: 0)
        mplsLabelCount = 0
        viaPPPoE = false
        tunnels.removeAll()
        resetNetwork()
        arpOperation = 0
        anomaly = nil
    }

    /// Clears network and transport fields (when entering a tunnel's inner packet).
    public mutating func resetNetwork() {
        network = .none
        ipProtocol = IPProtocol(rawValue: 0)
        isFragment = false
        fragmentOffset = 0
        hasIPOptions = false
        hasTransport = false
        sourcePort = 0
        destinationPort = 0
        tcpFlags = 0
        icmpType = 0
        icmpCode = 0
        isRPCCall = false
        payloadOffset = 0
        payloadLength = 0
    }

    public var isIP: Bool { network == .ipv4 || network == .ipv6 }

    /// Whether the MACs are those of the frame that carries the innermost packet:
    /// false for IP-in-IP and plain GRE, whose inner packets have no frame (the
    /// MACs are then the outer hop's, not the inner endpoints').
    public var macsFrameInnermostPacket: Bool { hasMACs && macTunnelDepth == tunnels.count }

    /// The segment of the innermost packet: the innermost VLAN tag of its frame,
    /// else the tunnel's virtual network id (or an ERSPAN header's VLAN). Plain
    /// GRE and IP-in-IP inner packets have no segment of their own.
    public var segment: Segment {
        guard let tunnel = tunnels.innermost else {
            return Segment(vlan: vlans.innermostID ?? 0)
        }
        var s = Segment(vlan: innerVLANs.innermostID ?? (tunnel.kind.isMirror ? mirrorVLAN : 0))
        if let vni = tunnel.virtualNetworkID {
            s.vni = vni
            s.hasVNI = true
        }
        return s
    }

    /// The VLAN ids of the outermost frame followed by those inside the innermost
    /// tunnel, as EVE's `vlan` array reports them.
    public var reportedVLANs: VLANIDList {
        var ids = VLANIDList()
        ids.append(vlans)
        if !tunnels.isEmpty {
            ids.append(innerVLANs)
            if innerVLANs.isEmpty && mirrorVLAN != 0 { ids.append(mirrorVLAN) }
        }
        return ids
    }

    /// The MPLS labels kept (allocates; alert path and tests).
    public var mplsLabelList: [UInt32] { (0..<min(mplsLabelCount, 4)).map { mplsLabels[$0] } }

    mutating func flag(_ anomaly: DecodeAnomaly) {
        if self.anomaly == nil { self.anomaly = anomaly }
    }
}
