import Decode
import Vocabulary

/// A transport protocol and a port range, written `tcp/22`, `udp/161`,
/// `tcp/5900-5999` or `tcp/any`.
public struct ServiceSpec: Hashable, Sendable, CustomStringConvertible {
    public var proto: IPProtocol
    public var lowPort: UInt16
    public var highPort: UInt16

    public init(proto: IPProtocol, lowPort: UInt16, highPort: UInt16) {
        self.proto = proto
        self.lowPort = lowPort
        self.highPort = highPort
    }

    public init(_ proto: IPProtocol, _ port: UInt16) {
        self.init(proto: proto, lowPort: port, highPort: port)
    }

    /// Parses `tcp/22`, `udp/5404-5405`, `tcp/any`; nil with a reason on failure.
    public static func parse(_ text: String) -> Result<ServiceSpec, ServiceSpecError> {
        let parts = text.lowercased().split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return .failure(.init("expected PROTO/PORT such as tcp/22 or udp/5404-5405")) }
        let proto: IPProtocol
        switch parts[0] {
        case "tcp": proto = .tcp
        case "udp": proto = .udp
        case "sctp": proto = .sctp
        default: return .failure(.init("protocol must be tcp, udp or sctp"))
        }
        if parts[1] == "any" || parts[1] == "*" { return .success(ServiceSpec(proto: proto, lowPort: 0, highPort: 65535)) }
        let range = parts[1].split(separator: "-", omittingEmptySubsequences: false)
        guard range.count == 1 || range.count == 2 else { return .failure(.init("port must be a number or a range LOW-HIGH")) }
        var ports: [UInt16] = []
        for r in range {
            guard let v = Int(r), (0...65535).contains(v) else { return .failure(.init("port \"\(r)\" must be 0-65535")) }
            ports.append(UInt16(v))
        }
        let low = ports[0], high = ports.count == 2 ? ports[1] : ports[0]
        guard low <= high else { return .failure(.init("port range \(low)-\(high) is reversed")) }
        return .success(ServiceSpec(proto: proto, lowPort: low, highPort: high))
    }

    public func matches(_ proto: IPProtocol, _ port: UInt16) -> Bool {
        proto == self.proto && port >= lowPort && port <= highPort
    }

    public var description: String {
        let name = proto.serviceName
        if lowPort == 0 && highPort == 65535 { return "\(name)/any" }
        return lowPort == highPort ? "\(name)/\(lowPort)" : "\(name)/\(lowPort)-\(highPort)"
    }
}

public struct ServiceSpecError: Error, Sendable {
    public let reason: String
    init(_ reason: String) { self.reason = reason }
}
