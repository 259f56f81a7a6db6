import Vocabulary

/// SNMP over UDP (161/162). v1 and v2c carry the community string, the
/// protocol's only credential, in clear: reported with its length, and as
/// anonymous access when a vendor-default community is answered by the agent.
/// SNMPv3 without authentication (noAuthNoPriv) is weak; with auth it is not
/// cleartext.
final class SNMPInspector: SimpleStreamInspector {
    static let name = "snmp"
    static let transports: [IPProtocol] = [.udp]


    private struct Community: Hashable {
        var length: Int
        var isDefault: Bool
        var version: Int
    }

    private var requests = Set<Community>()
    private var answered = Set<Community>()
    private var reported = Set<Community>()
    private var weakUsers = Set<String>()

    /// Communities that ship as defaults on agents and management stations.
    static let defaultCommunities: Set<String> = ["public", "private", "community", "snmp", "default", "admin", "manager", "monitor", "secret", "cisco"]

    static func recognize(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ hints: FlowHints) -> SNMPInspector? {
        guard hints.transport == .udp, [161, 162].contains(hints.serverPort) || [161, 162].contains(hints.clientPort) else { return nil }
        return bytes.first == 0x30 ? SNMPInspector() : nil
    }

    func consume(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ out: inout InspectionOutput) {
        let message = Array(bytes)
        var top = BERReader(message)
        guard let seq = top.read(tag: 0x30) else { return }
        var r = top.inside(seq)
        guard let versionElement = r.read(tag: 0x02), let version = r.integer(versionElement) else { return }
        out.appProtocol = "snmp"
        if version == 0 || version == 1 {
            guard let community = r.read(tag: 0x04), let pdu = r.read() else { return }
            let text = ByteText.string(r.contents(community))
            out.secrets.append(WireSecret(r.contents(community)))
            let c = Community(length: community.contents.count, isDefault: Self.defaultCommunities.contains(text), version: version)
            if pdu.tag == 0xA2 || pdu.tag == 0xA8 {  // GetResponse / Report: the agent answered
                if requests.contains(c) { answered.insert(c) }
            } else {
                requests.insert(c)
            }
            flush(&out, final: false)
        } else if version == 3 {
            guard let global = r.read(tag: 0x30), let securityParameters = r.read(tag: 0x04) else { return }
            var g = r.inside(global)
            guard let _ = g.read(tag: 0x02), let _ = g.read(tag: 0x02), let flagsElement = g.read(tag: 0x04),
                  let flags = g.contents(flagsElement).first else { return }
            var usmOuter = BERReader(message, from: securityParameters.contents.lowerBound, to: securityParameters.contents.upperBound)
            guard let usm = usmOuter.read(tag: 0x30) else { return }
            var u = usmOuter.inside(usm)
            guard let _ = u.read(tag: 0x04), let _ = u.read(tag: 0x02), let _ = u.read(tag: 0x02), let userElement = u.read(tag: 0x04) else { return }
            let user = ByteText.string(u.contents(userElement))
            // Engine discovery is always noAuthNoPriv with an empty user: that is normal.
            if flags & 0x03 == 0, !user.isEmpty, weakUsers.insert(user).inserted {
                out.events.append(.weakAuthentication(LoginEvent(
                    proto: "snmp", user: user, credential: .none("SNMPv3 noAuthNoPriv"), method: "SNMPv3 noAuthNoPriv", success: nil)))
            }
        }
    }

    /// Reports each community once: as answered (success) as soon as the agent
    /// answers, or unanswered when the flow ends.
    private func flush(_ out: inout InspectionOutput, final: Bool) {
        for c in requests where !reported.contains(c) {
            let wasAnswered = answered.contains(c)
            guard wasAnswered || final else { continue }
            reported.insert(c)
            let versionName = c.version == 0 ? "SNMPv1" : "SNMPv2c"
            let login = LoginEvent(
                proto: "snmp", user: nil, credential: .cleartext(length: c.length), method: "\(versionName) community",
                success: wasAnswered ? true : nil,
                evidence: [("snmp_version", .text(versionName)), ("default_community", .flag(c.isDefault))])
            out.events.append(.login(login))
            if wasAnswered && c.isDefault { out.events.append(.anonymousAccess(login)) }
        }
    }

    func finish(_ out: inout InspectionOutput) { flush(&out, final: true) }
}
