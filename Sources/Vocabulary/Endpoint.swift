/// One end of a flow as messages name it: an IP address, or for a non-IP
/// frame its MAC address.
@frozen
public enum Endpoint: Hashable, Sendable, CustomStringConvertible {
    case ip(IPAddress)
    case mac(MACAddress)

    public var description: String {
        switch self {
        case .ip(let a): return a.description
        case .mac(let m): return m.description
        }
    }
}

extension Message.StringInterpolation {
    /// An endpoint: its address or MAC, typed.
    @inlinable
    public mutating func appendInterpolation(_ endpoint: Endpoint) {
        switch endpoint {
        case .ip(let a): append(.address(a))
        case .mac(let m): append(.mac(m))
        }
    }
}

extension EvidenceValue {
    /// An endpoint as evidence: its address or MAC.
    @inlinable
    public static func endpoint(_ e: Endpoint) -> EvidenceValue {
        switch e {
        case .ip(let a): return .address(a)
        case .mac(let m): return .mac(m)
        }
    }
}
