#if canImport(Glibc)
import Glibc
#endif

/// Whether a network interface is up and running (its administrative state
/// and its carrier), asked of the kernel: a capture on a link that went down
/// receives nothing, without an error from libpcap.
public enum LinkState {
    /// `IFF_UP` and `IFF_RUNNING` both set; nil when the interface cannot be
    /// asked (`any`, a name the kernel does not know, no socket).
    public static func isUp(_ interface: String) -> Bool? {
        let name = Array(interface.utf8)
        guard !name.isEmpty, name.count < Int(IFNAMSIZ) else { return nil }
        let s = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { return nil }
        defer { close(s) }
        var request = ifreq()
        withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { field in
            for (i, byte) in name.enumerated() { field[i] = byte }
        }
        guard ioctl(s, UInt(SIOCGIFFLAGS), &request) == 0 else { return nil }
        let flags = Int32(request.ifr_ifru.ifru_flags)
        return flags & Int32(IFF_UP) != 0 && flags & Int32(IFF_RUNNING) != 0
    }
}
