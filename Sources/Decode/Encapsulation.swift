import Vocabulary

/// The kind of tunnel or mirror encapsulation a packet was found inside.
public enum TunnelKind: UInt8, Sendable, CaseIterable {
    case vxlan = 1
    case geneve
    case gre
    /// GRE with transparent Ethernet bridging and a key: NVGRE's virtual subnet id.
    case nvgre
    case erspan1
    case erspan2
    case erspan3
    case ipv4InIPv4
    case ipv6InIPv4
    case ipv4InIPv6
    case ipv6InIPv6

    /// The name used in alerts and EVE (`vxlan`, `geneve`, `gre`, `erspan`, `ipip`, `6in4`...).
    public var name: String {
        switch self {
        case .vxlan: return "vxlan"
        case .geneve: return "geneve"
        case .gre: return "gre"
        case .nvgre: return "nvgre"
        case .erspan1: return "erspan1"
        case .erspan2: return "erspan2"
        case .erspan3: return "erspan3"
        case .ipv4InIPv4: return "ipip"
        case .ipv6InIPv4: return "6in4"
        case .ipv4InIPv6: return "4in6"
        case .ipv6InIPv6: return "6in6"
        }
    }

    /// Whether the tunnel carries a virtual network id that zones may declare (`vnis:`).
    public var hasVirtualNetworkID: Bool {
        self == .vxlan || self == .geneve || self == .nvgre
    }

    /// ERSPAN carries mirrored copies of traffic, not forwarded traffic.
    public var isMirror: Bool { self == .erspan1 || self == .erspan2 || self == .erspan3 }
}

/// One level of encapsulation: which tunnel, between which outer endpoints.
@frozen
public struct Encapsulation: Sendable {
    public var kind: TunnelKind
    /// Outer source and destination of the tunnel (the VTEPs, GRE endpoints, ...).
    public var outerSource: IPAddress
    public var outerDestination: IPAddress
    /// VNI, GRE key, or ERSPAN session id; meaningful when ``hasIdentifier``.
    public var identifier: UInt32
    public var hasIdentifier: Bool

    public init(kind: TunnelKind, outerSource: IPAddress, outerDestination: IPAddress, identifier: UInt32 = 0, hasIdentifier: Bool = false) {
        self.kind = kind
        self.outerSource = outerSource
        self.outerDestination = outerDestination
        self.identifier = identifier
        self.hasIdentifier = hasIdentifier
    }

    /// The virtual network id (VNI, VSID) when the tunnel carries one.
    public var virtualNetworkID: UInt32? {
        kind.hasVirtualNetworkID && hasIdentifier ? identifier : nil
    }
}

/// The tunnels a packet was found inside, outermost first, stored inline.
@frozen
public struct EncapsulationStack: Sendable {
    /// Tunnels nested deeper than this are counted as `decode.tunnel.too_deep`.
    public static let capacity = 4

    var storage: InlineArray<4, Encapsulation>
    public private(set) var count: Int

    public init() {
        storage = InlineArray(repeating: Encapsulation(kind: .gre, outerSource: .zero, outerDestination: .zero))
        count = 0
    }

    public var isEmpty: Bool { count == 0 }
    public subscript(i: Int) -> Encapsulation { storage[i] }
    public var innermost: Encapsulation? { count == 0 ? nil : storage[count - 1] }

    @discardableResult
    public mutating func push(_ e: Encapsulation) -> Bool {
        guard count < EncapsulationStack.capacity else { return false }
        storage[count] = e
        count += 1
        return true
    }

    public mutating func removeAll() { count = 0 }
}
