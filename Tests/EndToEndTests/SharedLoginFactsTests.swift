import Foundation
import Testing
import TestSupport

/// A login-related fact from `../shared/captures/expected.json`.
struct LoginFact: CustomStringConvertible, Sendable {
    let file: String
    let kind: String
    let proto: String
    let client: String
    let server: String
    let port: Int
    let user: String?
    let detail: String
    var description: String { "\(file) \(kind) \(proto) \(user ?? "-")" }
}

/// Protocols the inspectors cover (the shared Redis capture starts mid-connection: not read).
let inspectedProtocols: Set<String> = ["ftp", "http-basic", "rfb", "snmp", "ldap", "telnet", "rsh", "postgresql", "mysql"]

let sharedLoginFacts: [LoginFact] = {
    guard let dir = sharedCaptures, let data = try? Data(contentsOf: dir.appendingPathComponent("expected.json")),
          let entries = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] else { return [] }
    var out: [LoginFact] = []
    for entry in entries {
        for f in entry["facts"] as! [[String: Any]] {
            let kind = f["kind"] as! String
            guard ["cleartext-login", "anonymous-login", "snmp-community", "rfb-security-type", "encrypted-session", "snmpv3-usm"].contains(kind),
                  let proto = f["proto"] as? String, inspectedProtocols.contains(proto) || kind == "encrypted-session",
                  let client = f["client"] as? String, let server = f["server"] as? String else { continue }
            out.append(LoginFact(file: entry["file"] as! String, kind: kind, proto: proto, client: client, server: server,
                                 port: f["port"] as? Int ?? 0, user: f["user"] as? String, detail: f["detail"] as? String ?? ""))
        }
    }
    return out
}()

/// Runs the binary with the fact's server in a management zone and its client in a guest zone; returns the EVE alerts.
func alerts(for fact: LoginFact) throws -> [[String: Any]] {
    let dir = temporaryDirectory()
    let serverPrefix = fact.server.contains(":") ? "\(fact.server)/128" : "\(fact.server)/32"
    var yaml = "zones:\n  mgmt: { role: management, subnets: [\"\(serverPrefix)\"] }\n"
    if fact.client != fact.server {
        let clientPrefix = fact.client.contains(":") ? "\(fact.client)/128" : "\(fact.client)/32"
        yaml += "  clients: { role: guest, subnets: [\"\(clientPrefix)\"] }\n"
    }
    yaml += "rules:\n  unknown-address: off\n  undeclared-vlan: off\n"
    let config = dir.appendingPathComponent("fact.yaml").path
    try yaml.write(toFile: config, atomically: true, encoding: .utf8)
    let r = try zonewarden(["analyze", "-c", config, "--format", "eve", sharedCaptures!.appendingPathComponent(fact.file).path])
    #expect(r.status == 0, "\(r.stderr)")
    return try r.stdoutLines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
}


@Suite("Shared captures: logins, anonymous access, communities, RFB security types",
       .enabled(if: sharedCaptures != nil, "../shared/captures is absent: skipping"))
struct SharedLoginFactsTests {
    @Test(arguments: sharedLoginFacts)
    func fact(_ fact: LoginFact) throws {
        let found = try alerts(for: fact)
        let onFlow = found.filter { ($0["dest_ip"] as? String) == fact.server && ($0["src_ip"] as? String) == fact.client }
        switch fact.kind {
        case "cleartext-login", "anonymous-login", "snmp-community":
            let sid = fact.kind == "anonymous-login" ? 2002 : 2001
            let matching = onFlow.filter { $0.sid == sid && ($0["dest_port"] as? Int) == fact.port }
            #expect(!matching.isEmpty, "\(fact): no \(sid) alert in \(found.map(\.sid))")
            if let user = fact.user {
                #expect(matching.contains { $0.evidence["user"] as? String == user }, "\(fact): users \(matching.map { $0.evidence["user"] ?? "-" })")
            }
            let detail = fact.detail.lowercased()
            let expected: String? = detail.contains("failed") || detail.contains("rejected") ? "failed"
                : (detail.contains("accepted") || detail.contains("success") || detail.contains("200 ok") || detail.contains("answered") ? "succeeded" : nil)
            if let expected {
                #expect(matching.contains { $0.evidence["login"] as? String == expected }, "\(fact): outcomes \(matching.map { $0.evidence["login"] ?? "-" })")
            }
            if fact.kind == "snmp-community" {
                let version = fact.detail.contains("SNMPv1") ? "SNMPv1" : "SNMPv2c"
                #expect(matching.contains { $0.evidence["snmp_version"] as? String == version })
                #expect(matching.allSatisfy { ($0.evidence["credential"] as? String)?.hasPrefix("redacted (") == true })
            }
        case "rfb-security-type":
            if fact.detail.contains("security type 2 ") {
                let weak = onFlow.filter { $0.sid == 2004 && $0.evidence["security_type"] as? Int == 2 }
                #expect(Set(weak.compactMap { $0.evidence["login"] as? String }).isSuperset(of: ["succeeded", "failed"]), "\(fact)")
            }
            let type = fact.detail.firstMatch(of: /security type (\d+)/).map { String($0.1) } ?? "?"
            #expect(onFlow.contains { $0.sid == 2005 && ($0.evidence["detail"] as? String)?.contains("security type \(type)") == true },
                    "\(fact): the console reached from a guest names its security type")
        case "snmpv3-usm":
            #expect(!found.contains { [2001, 2002].contains($0.sid) }, "SNMPv3 carries no community")
            #expect(found.contains { $0.sid == 2004 && $0.evidence["user"] as? String == fact.user })
        case "encrypted-session":
            #expect(!found.contains { [2001, 2002].contains($0.sid) }, "\(fact): an encrypted session is no cleartext login")
        default:
            Issue.record("unexpected kind \(fact.kind)")
        }
    }

    @Test func everyRequiredFactIsCovered() {
        let kinds = Dictionary(grouping: sharedLoginFacts, by: \.kind).mapValues(\.count)
        #expect(kinds["cleartext-login"] ?? 0 >= 8 && kinds["anonymous-login"] ?? 0 >= 5 && kinds["snmp-community"] == 2 && kinds["rfb-security-type"] == 2)
    }
}
