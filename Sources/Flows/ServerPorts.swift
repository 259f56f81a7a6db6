import Decode
import Vocabulary

/// Ports that mark their end of a flow as the server, used to find the initiator
/// of a flow whose first packet is not a SYN (a capture that starts mid-flow).
public struct ServerPorts: Sendable {
    private var tcp = [UInt64](repeating: 0, count: 1024)
    private var udp = [UInt64](repeating: 0, count: 1024)

    /// Ports below 1024 plus `extra` ports.
    public init(extra: [(IPProtocol, UInt16)] = []) {
        for port in 0..<1024 {
            set(.tcp, UInt16(port))
            set(.udp, UInt16(port))
        }
        for (proto, port) in extra { set(proto, port) }
    }

    public mutating func set(_ proto: IPProtocol, _ port: UInt16) {
        let word = Int(port >> 6), bit = UInt64(1) << UInt64(port & 63)
        if proto == .tcp { tcp[word] |= bit } else if proto == .udp { udp[word] |= bit }
    }

    @inline(__always)
    public func contains(_ proto: UInt8, _ port: UInt16) -> Bool {
        let word = Int(port >> 6), bit = UInt64(1) << UInt64(port & 63)
        if proto == IPProtocol.tcp.rawValue { return tcp[word] & bit != 0 }
        if proto == IPProtocol.udp.rawValue { return udp[word] & bit != 0 }
        return false
    }
}
