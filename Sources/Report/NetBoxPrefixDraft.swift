import Alerting
import Foundation
import Vocabulary
import Zones

/// `learn --netbox-prefixes`: a draft zone plan from NetBox's
/// `/api/ipam/prefixes/` JSON: a zone per VLAN (named after it) with its
/// prefixes, prefixes without a VLAN by their role; the zone's role guessed
/// from the words of the NetBox role, the VLAN's name and the description.
/// Containers and deprecated prefixes are left out.
public enum NetBoxPrefixDraft {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Words that say a role, strongest first; anything else is taken for guests.
    static let roleWords: [(Role, [String])] = [
        (.migration, ["vmotion", "migration", "ft-logging", "fault-tolerance"]),
        (.storage, ["storage", "san", "iscsi", "nfs", "ceph", "vsan", "nvme"]),
        (.management, ["management", "mgmt", "oob", "out-of-band", "ipmi", "bmc", "idrac", "ilo"]),
        (.admin, ["admin", "jump", "bastion", "paw"]),
        (.transport, ["transport", "underlay", "vtep"]),
        (.service, ["services", "shared", "dns", "ntp", "directory"]),
        (.external, ["internet", "external", "public", "transit"]),
    ]

    /// The role the words suggest, and the word that decided.
    static func role(_ text: String) -> (Role, String)? {
        let words = text.lowercased().split { !$0.isLetter && !$0.isNumber && $0 != "-" }.flatMap { w in [String(w)] + w.split(separator: "-").map(String.init) }
        for (role, keys) in roleWords {
            if let hit = keys.first(where: { words.contains($0) }) { return (role, hit) }
        }
        return nil
    }

    /// The draft; `findings`: what analysing captures with it reported (nil: no captures given).
    public static func draft(_ data: Data, file: String, findings: [String]?) throws(Failure) -> String {
        guard let json = try? JSONSerialization.jsonObject(with: data) else { throw Failure(description: "\(file): not JSON") }
        let results: [[String: Any]]
        if let list = json as? [[String: Any]] {
            results = list
        } else if let page = json as? [String: Any], let list = page["results"] as? [[String: Any]] {
            results = list
        } else {
            throw Failure(description: "\(file): not a NetBox API answer: expected an object with \"results\" (from /api/ipam/prefixes/)")
        }
        func text(_ v: Any?, _ key: String) -> String? { ((v as? [String: Any])?[key] as? String).flatMap { $0.isEmpty ? nil : $0 } }
        struct Group { var vid: Int?; var label: String; var words: [String]; var prefixes: [IPPrefix] = []; var described: [String] = [] }
        var groups: [String: Group] = [:], order: [String] = []
        var skipped = 0
        var seen: [IPPrefix: String] = [:], duplicates: [String] = []
        for (i, p) in results.enumerated() {
            let status = text(p["status"], "value") ?? (p["status"] as? String) ?? "active"
            if status == "container" || status == "deprecated" { skipped += 1; continue }
            guard let written = p["prefix"] as? String else { throw Failure(description: "\(file): results[\(i)].prefix is missing") }
            guard case .success(let prefix) = IPPrefix.parse(written) else { throw Failure(description: "\(file): results[\(i)].prefix: \"\(written)\" is not a prefix") }
            // The same prefix in another VRF is the same addresses to the sensor: declared once.
            if let first = seen[prefix] {
                duplicates.append("\(written) appears again (results[\(i)]): declared once, in the zone of \(first)")
                continue
            }
            seen[prefix] = written
            let vlan = p["vlan"] as? [String: Any]
            let roleName = text(p["role"], "name") ?? text(p["role"], "slug")
            let key: String, label: String
            if let vid = vlan?["vid"] as? Int {
                key = "vlan \(vid)"
                label = (vlan?["name"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? "vlan\(vid)"
            } else {
                key = "role \(roleName ?? "")"
                label = roleName ?? "netbox-unassigned"
            }
            if groups[key] == nil {
                order.append(key)
                groups[key] = Group(vid: vlan?["vid"] as? Int, label: label, words: [])
            }
            groups[key]!.prefixes.append(prefix)
            groups[key]!.words += [roleName, text(p["role"], "slug"), vlan?["name"] as? String, p["description"] as? String].compactMap { $0 }
            groups[key]!.described.append("\(written)" + (roleName.map { " (role \($0))" } ?? ""))
        }
        guard !order.isEmpty else { throw Failure(description: "\(file): no prefix to plan zones from (\(skipped) containers or deprecated)") }
        var names = Set<String>(), zones: [ZoneLearner.DraftZone] = [], review: [String] = []
        for key in order {
            let g = groups[key]!
            var base = ZoneLearner.zoneName(g.label)
            if base.isEmpty { base = g.vid.map { "vlan\($0)" } ?? "netbox" }
            var name = base, n = 2
            while names.contains(name) { name = "\(base)-\(n)"; n += 1 }
            names.insert(name)
            let guessed = role(g.words.joined(separator: " "))
            var zone = ZoneLearner.DraftZone(name: name, role: guessed?.0 ?? .guest,
                                             comments: ["NetBox \(g.vid.map { "VLAN \($0) \(g.label)" } ?? g.label): " + g.described.joined(separator: ", "),
                                                        guessed.map { "role \($0.0.rawValue): \"\($0.1)\" in its NetBox role, VLAN name or description" } ?? "no role word in its NetBox role, VLAN name or description: taken for guests"])
            if let vid = g.vid, (1...4094).contains(vid) { zone.vlans = [UInt16(vid)] }
            zone.subnets = g.prefixes
            if let (role, word) = guessed {
                review.append("\(name) (\(g.prefixes.map(\.description).joined(separator: ", "))) is taken for \(role.rawValue): the word \"\(word)\" in its NetBox role, VLAN name or description; if that is not its role, the rules judge it wrongly.")
            }
            if guessed == nil { review.append("\(name) (\(g.prefixes.map(\.description).joined(separator: ", "))) is taken for guests: its NetBox role, VLAN name and description name no other role.") }
            zones.append(zone)
        }
        review += duplicates
        var out = "# Draft zone configuration from zonewarden learn --netbox-prefixes: \(file) (\(results.count - skipped) prefix\(results.count - skipped == 1 ? "" : "es")"
            + (skipped > 0 ? ", \(skipped) containers or deprecated left out" : "") + ").\n"
        out += "# The roles are guesses from the words of NetBox's roles, VLAN names and descriptions:\n# review every zone, and check with: zonewarden check-config -c FILE\n#\n# Review before adopting:\n"
        out += review.map { "#   - \(Escaping.controls($0))\n" }.joined()
        out += "#\n# Findings when the captures are analysed with this draft (what looks like a violation):\n"
        if let findings {
            out += findings.isEmpty ? "#   none.\n" : findings.map { "#   \(Escaping.controls($0))\n" }.joined()
        } else {
            out += "#   not checked: no capture given.\n"
        }
        return out + "zones:\n" + zones.map(\.line).joined()
    }
}
