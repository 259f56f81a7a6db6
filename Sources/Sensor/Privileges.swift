#if canImport(Glibc)
import Glibc
#endif

/// Giving up root once the capture handles are open: the sensor parses hostile
/// traffic and must not do it as root.
public enum Privileges {
    /// Switches to `user` (its group and supplementary groups), for good: a
    /// later `setuid(0)` must fail. The error says why it could not.
    public static func drop(to user: String) -> String? {
        guard let entry = getpwnam(user) else { return "--user \(user): no such user" }
        let uid = entry.pointee.pw_uid, gid = entry.pointee.pw_gid
        if initgroups(user, gid) != 0 { return "--user \(user): initgroups: \(String(cString: strerror(errno)))" }
        if setgid(gid) != 0 { return "--user \(user): setgid: \(String(cString: strerror(errno)))" }
        if setuid(uid) != 0 { return "--user \(user): setuid: \(String(cString: strerror(errno)))" }
        if uid != 0 && setuid(0) == 0 { return "--user \(user): root could be regained; refusing to run" }
        return nil
    }
}
