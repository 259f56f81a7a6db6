import Alerting
import Zones

/// Evidence and throttling shared by the login rules (2001, 2002, 2004). The
/// secret is never here: only how it travelled and its length.
enum LoginEvidence {
    static func evidence(_ login: LoginEvent) -> [(key: String, value: EvidenceValue)] {
        var e: [(key: String, value: EvidenceValue)] = [("protocol", .text(login.proto)), ("method", .text(login.method))]
        if let user = login.user { e.append(("user", .text(user))) }
        switch login.credential {
        case .cleartext(let length): e.append(("credential", .text("redacted (\(length) chars)")))
        case .none(let why): e.append(("credential", .text("none (\(why))")))
        }
        e.append(("login", .text(login.success.map { $0 ? "succeeded" : "failed" } ?? "outcome not seen")))
        return e + login.evidence
    }

    /// Throttled per rule, client, server, service, user and outcome: another
    /// user's login, or a success after failures, is another finding.
    static func throttle(sid: Int, _ e: FlowEvent, _ login: LoginEvent) -> ThrottleKey {
        var key = e.throttleKey(sid: sid)
        let outcome: UInt64 = login.success.map { $0 ? 1 : 2 } ?? 3
        key.detail ^= fnv1a(login.user ?? "") << 24 | outcome << 22
        return key
    }

    /// A stable 40-bit hash (FNV-1a) of a user name.
    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h & 0xFF_FFFF_FFFF
    }

    /// `ftp login (USER/PASS) by user Admin to 10.10.0.5 (zone mgmt)`. The user
    /// name is escaped by each output format.
    static func phrase(_ e: FlowEvent, _ login: LoginEvent) -> String {
        "\(login.proto) login (\(login.method))\(who(login)) to \(server(e))"
    }

    static func who(_ login: LoginEvent) -> String {
        login.user.map { $0.isEmpty ? " by an empty user name" : " by user \($0)" } ?? ""
    }

    /// `10.10.0.5 (zone mgmt)`.
    static func server(_ e: FlowEvent) -> String {
        "\(e.responderText) (zone \(e.zoneName(e.destinationZone != 0 ? e.destinationZone : e.segmentZone)))"
    }
}
