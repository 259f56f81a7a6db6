import Vocabulary

/// IP-in-IP tunnels: 4in4 (protocol 4), 6in4 (41), 4in6 and 6in6.
enum IPInIPDecoder {
    static func decode(_ b: ByteView, at o: Int, inner: IPProtocol, into p: inout DecodedPacket) -> NextLayer {
        let outerIsV4 = p.network == .ipv4
        if inner == .ipv4 {
            return p.enterTunnel(outerIsV4 ? .ipv4InIPv4 : .ipv4InIPv6) ? .ipv4(o) : .done
        }
        return p.enterTunnel(outerIsV4 ? .ipv6InIPv4 : .ipv6InIPv6) ? .ipv6(o) : .done
    }
}
