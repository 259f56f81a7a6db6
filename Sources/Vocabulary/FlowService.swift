/// The service of a flow as operators write it: `tcp/443`, `icmp`, or for a
/// non-IP frame its EtherType (`ethertype 0x88a2`). A value, so that a
/// message or an evidence entry naming a service costs no allocation until
/// it is written out.
@frozen
public enum FlowService: Hashable, Sendable, CustomStringConvertible {
    /// A protocol with ports (TCP, UDP, SCTP) and the responder's port.
    case port(IPProtocol, UInt16)
    /// A protocol without ports (ICMP, GRE, ...).
    case ipProtocol(IPProtocol)
    /// A non-IP frame.
    case etherType(UInt16)

    public var description: String {
        switch self {
        case .port(let proto, let port): return "\(proto.serviceName)/\(port)"
        case .ipProtocol(let proto): return proto.serviceName
        case .etherType(let type): return "ethertype 0x" + String(type, radix: 16)
        }
    }
}
