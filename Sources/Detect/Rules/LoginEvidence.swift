import Inspect
import Vocabulary
import Zones

/// Evidence and keys shared by the login rules (2001, 2002, 2004). The
/// secret is never here: only how it travelled and its length.
enum LoginEvidence {
    static func evidence(_ login: LoginEvent) -> Evidence {
        var e: Evidence = [("protocol", .text(login.proto)), ("method", .text(login.method))]
        if let user = login.user { e.append(("user", .text(user))) }
        if let length = login.secretInUser { e.append(("secret_in_user", .redacted(length: length))) }
        switch login.credential {
        case .cleartext(let length): e.append(("credential", .redacted(length: length)))
        case .cleartextUnattributed: e.append(("credential", .text("redacted (typed ahead of the prompts: which line is unknown)")))
        case .none(let why): e.append(("credential", .text("none (\(why))")))
        }
        e.append(("login", .text(login.success.map { $0 ? "succeeded" : "failed" } ?? "outcome not seen")))
        e.append(contentsOf: login.evidence)
        return e
    }

    /// One finding per rule, client, server, service, user and outcome: another
    /// user's login, or a success after failures, is another finding.
    static func key(sid: Int, _ e: FlowEvent, _ login: LoginEvent) -> FindingKey {
        var key = e.key(sid: sid)
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
    static func phrase(_ e: FlowEvent, _ login: LoginEvent) -> Message {
        "\(login.proto) login (\(login.method))\(who(login)) to \(server(e))"
    }

    static func who(_ login: LoginEvent) -> Message {
        guard let user = login.user else { return Message() }
        return user.isEmpty ? " by an empty user name" : " by user \(user)"
    }

    /// `10.10.0.5 (zone mgmt)`; an address in no zone on a zone's segment is
    /// judged as that zone's, and said to be so: `10.0.0.2 (no zone, on a segment of zone services)`.
    static func server(_ e: FlowEvent) -> Message {
        if e.destinationZone == 0 && e.segmentZone != 0 {
            return "\(e.responderEndpoint) (no zone, on a segment of zone \(e.zoneName(e.segmentZone)))"
        }
        return "\(e.responderEndpoint) (\(e.zoneClause(e.destinationZone)))"
    }
}
