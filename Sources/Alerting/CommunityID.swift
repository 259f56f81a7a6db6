import Decode
import Foundation

/// Community ID v1 flow hashes (the identifier Zeek, Suricata and Elastic share):
/// `"1:" + base64(sha1(seed . saddr . daddr . proto . 0 . sport . dport))` over
/// the endpoints ordered so that both directions hash alike.
public enum CommunityID {
    /// The Community ID of a flow.
    ///
    /// - Parameters:
    ///   - ports: source and destination ports; for ICMP and ICMPv6 pass the
    ///     message type and code, which are mapped as the specification requires.
    ///     `nil` for protocols without ports.
    ///   - seed: the optional 16-bit seed (0 by default).
    public static func compute(proto: UInt8, source: IPAddress, destination: IPAddress, ports: (UInt16, UInt16)?, seed: UInt16 = 0) -> String {
        var sourcePort: UInt16 = 0, destinationPort: UInt16 = 0
        var oneWay = false
        if let (s, d) = ports {
            if proto == 1 || proto == 58 {
                let mapped = ICMPPorts.map(type: UInt8(truncatingIfNeeded: s), code: UInt8(truncatingIfNeeded: d), v6: proto == 58)
                sourcePort = mapped.source
                destinationPort = mapped.destination
                oneWay = mapped.oneWay
            } else {
                sourcePort = s
                destinationPort = d
            }
        }
        var a = source, b = destination, pa = sourcePort, pb = destinationPort
        let ordered = oneWay || a < b || (a == b && pa < pb)
        if !ordered {
            swap(&a, &b)
            swap(&pa, &pb)
        }
        var input: [UInt8] = [UInt8(seed >> 8), UInt8(seed & 0xFF)]
        a.withNetworkBytes { input += $0 }
        b.withNetworkBytes { input += $0 }
        input += [proto, 0]
        if ports != nil {
            input += [UInt8(pa >> 8), UInt8(pa & 0xFF), UInt8(pb >> 8), UInt8(pb & 0xFF)]
        }
        return "1:" + Data(SHA1.digest(input)).base64EncodedString()
    }
}
