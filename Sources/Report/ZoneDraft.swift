import Alerting
import Foundation
import Decode
import Vocabulary
import Zones

/// The draft configuration of `zonewarden learn`, from what a ``ZoneLearner`` gathered.
extension ZoneLearner {
    /// One zone of the draft.
    struct DraftZone {
        var name: String
        var role: Role
        var comments: [String]
        var vlans: [UInt16] = []
        var vnis: [UInt32] = []
        var outerVLANs: [UInt16] = []
        var subnets: [IPPrefix] = []
        var hosts: [IPAddress] = []
        var macs: [MACAddress] = []
        /// `subnets: [public]`: the internet.
        var isInternet = false

        var line: String {
            var fields = ["role: \(role.rawValue)"]
            if !vlans.isEmpty { fields.append("vlans: [" + vlans.map(String.init).joined(separator: ", ") + "]") }
            if !outerVLANs.isEmpty { fields.append("outer_vlans: [" + outerVLANs.map(String.init).joined(separator: ", ") + "]") }
            if !vnis.isEmpty { fields.append("vnis: [" + vnis.map(String.init).joined(separator: ", ") + "]") }
            let prefixes = subnets.map(\.description) + hosts.map { IPPrefix(address: $0, length: 128).description }
            if isInternet { fields.append("subnets: [public]") }
            if !prefixes.isEmpty { fields.append("subnets: [" + prefixes.map { "\"\($0)\"" }.joined(separator: ", ") + "]") }
            if !macs.isEmpty { fields.append("macs: [" + macs.map { "\"\($0)\"" }.joined(separator: ", ") + "]") }
            // Comments name inventory assets and networks (text from files): kept on their line.
            return comments.map { "  # \(Escaping.controls($0))\n" }.joined() + "  \(name): { \(fields.joined(separator: ", ")) }\n"
        }
    }

    static let shortNames: [Role: String] = [.management: "mgmt", .admin: "admin", .storage: "storage", .migration: "migration",
                                             .transport: "underlay", .service: "services", .guest: "guests", .external: "external"]

    /// Which place each subnet belongs to: where its hosts' flows were seen
    /// most (a place where it only ended tunnels comes second: the endpoints
    /// are declared as transport hosts); on a tie, where it makes up the
    /// larger share of the traffic; then the first place.
    func owners() -> [IPPrefix: Place] {
        var totals: [Place: Int] = [:]
        for (key, n) in sightings { totals[key.place, default: 0] += n.total }
        var owner: [IPPrefix: (place: Place, flows: Int, tunnels: Int, share: Double)] = [:]
        for (key, n) in sightings.sorted(by: { $0.key.place < $1.key.place }) {
            let share = Double(n.total) / Double(max(totals[key.place] ?? 1, 1))
            if let current = owner[key.prefix], (current.flows, current.tunnels, current.share) >= (n.flows, n.tunnels, share) { continue }
            owner[key.prefix] = (key.place, n.flows, n.tunnels, share)
        }
        return owner.mapValues(\.place)
    }

    /// The guessed role of a zone from its evidence, and why: the label most of
    /// its flows had, if they outnumber the rest; otherwise guest. `isInside`
    /// tells whether a management server is in the zone judged (its clients elsewhere are admins).
    func guess(_ e: RoleEvidence, isInside: (IPAddress) -> Bool) -> (role: Role, evidence: String) {
        var scores = e.scores
        var guestLike = e.otherServices
        for (server, n) in e.managementServers.top(256) { scores[isInside(server) ? "management" : "admin", default: 0] += Int(n) }
        // SSH or HTTPS to a server that is a hypervisor or BMC is management too; to anything else, not.
        for (server, n) in e.genericManagement.top(256) {
            if distinctiveServers.contains(server) { scores[isInside(server) ? "management" : "admin", default: 0] += Int(n) } else { guestLike += Int(n) }
        }
        for (_, n) in e.managementClients.top(256) { scores["admin", default: 0] += Int(n) }
        for (server, n) in e.genericClients.top(256) {
            if distinctiveServers.contains(server) { scores["admin", default: 0] += Int(n) } else { guestLike += Int(n) }
        }
        let order = ["transport", "storage", "migration", "management", "admin", "service"]
        var best: (label: String, n: Int)?
        for label in order { if let n = scores[label], n > (best?.n ?? 0) { best = (label, n) } }
        let services = e.services.top(3).map { "\($0.key) ×\($0.count)" }.joined(separator: ", ")
        let total = max(e.flows, 1)
        if let (label, n) = best, n >= guestLike, let role = Role(rawValue: label) {
            let what = ["transport": "carried tunnels", "service": "reached shared services (DNS, NTP, directory, syslog)",
                        "admin": "were sessions to management services elsewhere"][label] ?? "reached \(label) services"
            return (role, "\(n) of \(total) flow\(total == 1 ? "" : "s") \(what)" + (services.isEmpty ? "" : " (\(services))"))
        }
        if e.flows == 0 { return (.guest, "no IP flows, only other frames: taken for guests") }
        return (.guest, "no infrastructure service dominates: taken for guests" + (services.isEmpty ? "" : " (\(services))"))
    }

    /// The draft configuration, commented with the evidence for each zone, and
    /// a review block of what the capture shows that the draft accepts.
    /// `findings`: what analysing the captures with this very draft reported
    /// (nil: not checked). Nil when nothing at all was seen.
    public func draft(findings: [String]? = nil) -> String? {
        let owner = owners()
        var zones: [DraftZone] = []
        var review: [String] = []
        var names = Set<String>()
        func unique(_ base: String) -> String {
            var name = base
            var n = 2
            while names.contains(name) { name = "\(base)-\(n)"; n += 1 }
            names.insert(name)
            return name
        }
        // The zone of each subnet, for tunnel endpoints and the review.
        var subnetZone: [IPPrefix: Int] = [:]
        // A VNI is declared once: by its own place, else by the first VLAN whose frames carry it.
        var declaredVNIs = Set<UInt32>()
        for case .vni(let n) in places.keys { declaredVNIs.insert(n) }
        // An overlay whose inner subnets all belong to other places extends the
        // zone of the subnet it carries most: its traffic must be in the VNI's zone (5004).
        var joiningVNIs: [(vni: UInt32, subnet: IPPrefix)] = []
        for case .vni(let n) in places.keys.sorted() where !owner.values.contains(.vni(n)) {
            let carried = sightings.filter { $0.key.place == .vni(n) }.max { ($0.value.total, $1.key.prefix.address) < ($1.value.total, $0.key.prefix.address) }
            if let carried { joiningVNIs.append((n, carried.key.prefix)) }
        }
        var pendingAdmins: [DraftZone] = []
        let allPlaces = Set(places.keys).union(owner.values).subtracting(joiningVNIs.map { .vni($0.vni) }).sorted()
        for place in allPlaces {
            let stats = places[place] ?? PlaceStats()
            let owned = owner.filter { $0.value == place }.keys.sorted { $0.address < $1.address }
            switch place {
            case .vlan, .vni:
                let isInside = { (server: IPAddress) in Self.subnet(of: server).map { owner[$0] == place } ?? false }
                let (role, why) = guess(stats.evidence, isInside: isInside)
                let short = Self.shortNames[role] ?? role.rawValue
                var zone = DraftZone(name: "", role: role, comments: ["\(place.label): \(why)"])
                // Outvoted by guest-like flows, management servers inside still deserve a look: a
                // management VLAN with a busy web console reads as guests, and the draft would accept it.
                let managementInside = role == .guest ? stats.evidence.managementServers.top(256).filter { isInside($0.key) }.map(\.key) : []
                switch place {
                case .vlan(let v):
                    zone.name = unique("\(short)-vlan\(v)")
                    zone.vlans = [v]
                    // The VNIs whose frames carry this VLAN, where the VLAN has subnets of its own.
                    zone.vnis = owned.isEmpty ? [] : stats.vnis.subtracting(declaredVNIs).sorted()
                    declaredVNIs.formUnion(zone.vnis)
                    if let stack = stacks[v] {
                        zone.outerVLANs = stack.outer.sorted()
                        review.append(stackNote(inner: v, stack))
                    }
                case .vni(let n):
                    zone.name = unique("\(short)-vni\(n)")
                    zone.vnis = [n]
                case .untagged: break
                }
                if !managementInside.isEmpty {
                    let hosts = managementInside.sorted { $0 < $1 }
                    review.append("\(zone.name) (\(place.label)) is proposed as guest, yet management services answer in it (\(hosts.prefix(3).map(\.description).joined(separator: ", "))\(hosts.count > 3 ? " and \(hosts.count - 3) more" : "")). If it is a management network, give it role management; as a guest zone, those hosts are management exposed to guests (1006).")
                }
                // Subnets whose hosts are management clients only: administrators' workstations, a zone of their own.
                let adminSubnets = role == .admin ? [] : owned.compactMap { s -> (IPPrefix, String)? in
                    guard ordinary.contains(s), let evidence = subnets[s], evidence.served == 0 else { return nil }
                    let (subnetRole, why) = guess(evidence) { Self.subnet(of: $0) == s }
                    return subnetRole == .admin ? (s, why) : nil
                }
                zone.subnets = owned.filter { s in !adminSubnets.contains { $0.0 == s } }
                if !adminSubnets.isEmpty {
                    var admins = DraftZone(name: "", role: .admin, comments: ["hosts on \(place.label) that opened sessions to management services:"] + adminSubnets.map { "  \($0.0): \($0.1)" })
                    admins.subnets = adminSubnets.map(\.0)
                    pendingAdmins.append(admins)
                }
                if role == .admin {
                    review.append("\(zone.name) (\(place.label)) is proposed as admin: its flows were sessions to management services in other zones. If its hosts are not administrators' workstations or jump hosts, they are guests reaching management (1001, 1004).")
                }
                for s in zone.subnets { subnetZone[s] = zones.count }
                zones.append(zone)
                for var admins in pendingAdmins {
                    admins.name = unique("admin-\(zone.name.split(separator: "-").dropFirst().joined(separator: "-"))")
                    review.append("\(admins.name) (\(admins.subnets.map(\.description).joined(separator: ", ")) on \(place.label)) is proposed as admin: its hosts opened sessions to management services. If they are not administrators' workstations or jump hosts, this accepts \(admins.name)'s hosts reaching management (1001, 1004).")
                    for s in admins.subnets { subnetZone[s] = zones.count }
                    zones.append(admins)
                }
                pendingAdmins.removeAll()
            case .untagged:
                // Untagged traffic is split by subnet, a role guessed for each; one zone per role.
                var byRole: [Role: [(IPPrefix, String)]] = [:]
                for s in owned {
                    if !ordinary.contains(s) {
                        byRole[.transport, default: []].append((s, "only tunnel endpoints"))
                        continue
                    }
                    let evidence = subnets[s] ?? RoleEvidence()
                    var (role, why) = guess(evidence) { Self.subnet(of: $0) == s }
                    if role == .admin && evidence.served > 0 {
                        // Hosts that serve are no administrators' workstations: the guess without their management sessions.
                        var servers = evidence
                        servers.managementClients = TopCounter(capacity: 1)
                        servers.genericClients = TopCounter(capacity: 1)
                        (role, why) = guess(servers) { Self.subnet(of: $0) == s }
                    }
                    byRole[role, default: []].append((s, why))
                }
                for role in Role.allCases {
                    guard let members = byRole[role] else { continue }
                    let name = unique("\(Self.shortNames[role] ?? role.rawValue)-untagged")
                    var zone = DraftZone(name: name, role: role, comments: ["untagged, by subnet:"] + members.map { "  \($0.0): \($0.1)" })
                    zone.subnets = members.map(\.0)
                    if role == .admin {
                        review.append("\(name) (\(members.map { $0.0.description }.joined(separator: ", "))) is proposed as admin: its hosts opened sessions to management services. If they are not administrators' workstations or jump hosts, they are guests reaching management (1001, 1004).")
                    }
                    for s in zone.subnets { subnetZone[s] = zones.count }
                    zones.append(zone)
                }
            }
        }
        for (vni, subnet) in joiningVNIs {
            guard let z = subnetZone[subnet] else { continue }
            zones[z].vnis.append(vni)
            zones[z].comments.append("VNI \(vni) carries \(subnet) of this zone")
        }
        // Tunnel endpoints belong to a transport zone: where their subnet's zone is
        // not one, they are declared as hosts of their own.
        var endpointHosts: [IPAddress] = []
        for (address, endpoint) in tunnelEndpoints.sorted(by: { $0.key < $1.key }) {
            guard let subnet = Self.subnet(of: address) else { continue }
            let zone = Self.isPublic(address) ? nil : subnetZone[subnet].map { zones[$0] }
            if zone?.role == .transport { continue }
            endpointHosts.append(address)
            let kinds = endpoint.kinds.sorted().joined(separator: ", ")
            if let zone, ordinary.contains(subnet) {
                review.append("tunnel endpoint \(address) (\(kinds)) is in \(subnet) of zone \(zone.name) (\(zone.role.rawValue)), declared as a transport host: a tunnel that ends among other hosts carries whole networks past the zones (5004).")
            } else if zone == nil {
                review.append("tunnel endpoint \(address) (\(kinds)) is a public address, declared as a transport host.")
            }
        }
        if !endpointHosts.isEmpty {
            var zone = DraftZone(name: unique("underlay-endpoints"), role: .transport, comments: ["tunnel endpoints (VTEPs, GRE and IP-in-IP ends) outside the transport subnets"])
            zone.hosts = endpointHosts
            zones.append(zone)
        }
        if sawPublic {
            zones.append(DraftZone(name: unique("internet"), role: .external, comments: ["Addresses outside private space were seen."], isInternet: true))
        }
        if zones.isEmpty {
            // No address at all: the hosts by their MACs (non-IP frames only).
            guard !macs.isEmpty else { return nil }
            // Mostly AoE or FCoE frames: a storage network, as rules 4001 and 4003 will judge it.
            let storage = storageFrames * 2 > nonIPFrames
            var zone = storage
                ? DraftZone(name: unique("storage-hosts"), role: .storage,
                            comments: ["no IP traffic: the hosts that sent frames, by MAC; \(storageFrames) of \(nonIPFrames) frames AoE, FCoE or FIP: taken for storage"])
                : DraftZone(name: unique("hosts"), role: .guest, comments: ["no IP traffic: the hosts that sent frames, by MAC; taken for guests"])
            zone.macs = macs.sorted { $0.rawValue < $1.rawValue }
            zones.append(zone)
        }
        // Gateways: MACs behind which several subnets appear on one place.
        var gatewaySubnets: [MACAddress: (places: Set<Place>, subnets: Set<IPPrefix>)] = [:]
        for (key, set) in macSubnets where set.count >= 3 {
            gatewaySubnets[key.mac, default: ([], [])].places.insert(key.place)
            gatewaySubnets[key.mac]!.subnets.formUnion(set)
        }
        var gateways: [String] = []
        for (i, (mac, seen)) in gatewaySubnets.sorted(by: { $0.key.rawValue < $1.key.rawValue }).enumerated() {
            let name = "gateway-\(i + 1)"
            let sample = seen.subnets.sorted { $0.address < $1.address }.prefix(4).map { Self.isPublic($0.address) ? "public" : $0.description }
            let placesText = seen.places.sorted().map(\.label).joined(separator: ", ")
            gateways.append("  # \(name): \(seen.subnets.count) subnets behind \(mac) on \(placesText) (\(Array(Set(sample)).sorted().joined(separator: ", ")))\n  - { name: \(name), macs: [\"\(mac)\"] }\n")
            review.append("\(mac) is taken for a gateway (\(name)): \(seen.subnets.count) subnets appeared behind it. If it is no router or firewall, it is a host between zones (6001, 6002).")
        }

        var inventoryLines = ""
        if let inventory {
            let (notes, renamed) = applyInventory(inventory, to: &zones, names: &names)
            // Notes written before the renaming name the zones by their new names.
            review = review.map { Self.rename(renamed, in: $0) } + notes
            inventoryLines = "inventory:\n" + inventory.loaded.map { source, count in
                "  # \(count) address\(count == 1 ? "" : "es")\n  - { format: \(source.format), path: \"\(source.resolvedPath)\"\(source.host.map { ", host: \"\($0)\"" } ?? "") }\n"
            }.joined()
        }
        let counts = "\(flows) flow\(flows == 1 ? "" : "s"), \(frames) frame\(frames == 1 ? "" : "s")"
        // A few captures on the first line; more (a folder) one per line, so that no line runs to thousands of characters.
        var text = captures.count <= 3
            ? "# Draft zone configuration from zonewarden learn: \(Escaping.controls(captures.joined(separator: ", "))) (\(counts)).\n"
            : "# Draft zone configuration from zonewarden learn: \(captures.count) captures (\(counts)):\n"
                + captures.map { "#   \(Escaping.controls($0))\n" }.joined()
        text += "# The roles are guesses from the services each zone carried: review every zone,\n"
        text += "# rename the zones as your site does, and check with: zonewarden check-config -c FILE\n"
        text += "#\n# Review before adopting: what the captures show and this draft accepts.\n"
        // Text from the wire (user names in findings) or from files stays on its comment line.
        text += review.isEmpty ? "#   nothing: no admin zone, gateway, QinQ stack or misplaced tunnel endpoint was guessed.\n"
            : review.map { "#   - " + Escaping.controls($0) + "\n" }.joined()
        text += "#\n# Findings when the captures are analysed with this draft (what looks like a violation):\n"
        if let findings {
            text += findings.isEmpty ? "#   none.\n" : findings.map { "#   " + Escaping.controls($0) + "\n" }.joined()
        } else {
            text += "#   not checked: a stream (standard input, a FIFO, a process substitution) is read once.\n"
        }
        text += inventoryLines
        text += "zones:\n" + zones.map(\.line).joined()
        if !gateways.isEmpty { text += "gateways:\n" + gateways.joined() }
        return text
    }

    /// What a stack of tags means: QinQ if the port is a QinQ trunk, VLAN hopping if not.
    private func stackNote(inner: UInt16, _ stack: Stack) -> String {
        let outer = stack.outer.sorted()
        var text = "VLAN \(inner) arrived inside outer VLAN \(outer.map(String.init).joined(separator: ", ")) (\(stack.tags.sorted().joined(separator: "; ")), \(stack.frames) frame\(stack.frames == 1 ? "" : "s")): declared as QinQ in outer_vlans."
        let alsoSingle = outer.filter { singleTagged.contains($0) }
        if !alsoSingle.isEmpty {
            text += " It looks like VLAN hopping: VLAN \(alsoSingle.map(String.init).joined(separator: ", ")) also carries single-tagged frames (5001)."
        } else {
            text += " If this port is no QinQ trunk, it is VLAN hopping (5001)."
        }
        if stack.outermostTPIDs.contains(0x8100) {
            text += " The outer tag is 0x8100, not an 802.1ad S-tag (0x88a8): QinQ switches use 0x88a8 (some 0x8100), VLAN hopping always 0x8100."
        }
        return text
    }
}

/// `learn --inventory`: the draft's zones by the inventory's names.
extension ZoneLearner {
    /// `text` with each zone name of `renamed` replaced as a whole word (`web-vlan10` is not inside `web-vlan100`).
    static func rename(_ renamed: [String: String], in text: String) -> String {
        var out = text
        for (old, new) in renamed {
            let pattern = "(?<![A-Za-z0-9._-])" + NSRegularExpression.escapedPattern(for: old) + "(?![A-Za-z0-9._-])"
            guard let regex = try? NSRegularExpression(pattern: pattern) else { continue }
            out = regex.stringByReplacingMatches(in: out, range: NSRange(out.startIndex..., in: out), withTemplate: NSRegularExpression.escapedTemplate(for: new))
        }
        return out
    }

    /// The rules that report infrastructure of a role outside its zones.
    /// (``Role/isInfrastructure`` tells the roles the inventory's kinds can have.)
    static let misplacedRules: [Role: String] = [.management: "1004, 1006", .migration: "3001", .storage: "4001"]

    /// A zone name from a port group or network name: `VM Network 101` → `vm-network-101`.
    static func zoneName(_ network: String) -> String {
        var out = ""
        for c in network.lowercased().unicodeScalars {
            if ("a"..."z").contains(c) || ("0"..."9").contains(c) || c == "." || c == "_" {
                out.unicodeScalars.append(c)
            } else if !out.isEmpty && !out.hasSuffix("-") {
                out += "-"
            }
        }
        while out.hasSuffix("-") { out.removeLast() }
        return out
    }

    /// Renames each zone after the network most of its inventory addresses are
    /// on, marks the infrastructure among them, and takes the role the
    /// inventory gives when all its infrastructure there agrees. Returns the
    /// review notes (what the inventory changed), and the renaming (old → new).
    func applyInventory(_ inventory: Inventory, to zones: inout [DraftZone], names: inout Set<String>) -> (notes: [String], renamed: [String: String]) {
        var notes: [String] = [], renamed: [String: String] = [:]
        for i in zones.indices {
            var members: [(address: String, asset: Asset)] = []
            for s in zones[i].subnets { members += inventory.assets(in: s).map { ("\($0.address)", $0.asset) } }
            for h in zones[i].hosts { if let a = inventory.asset(for: h) { members.append(("\(h)", a)) } }
            for m in zones[i].macs { if let a = inventory.asset(forMAC: m) { members.append(("\(m)", a)) } }
            guard !members.isEmpty else { continue }
            // Named after the network most of the addresses that fit the zone's role are on (VMs in a
            // guest zone: a VMkernel interface misplaced there does not name it), else most of all.
            let fitting = members.filter { $0.asset.kind.infrastructureRole == (zones[i].role.isInfrastructure ? zones[i].role : nil) }
            let voters = fitting.contains { $0.asset.network != nil } ? fitting : members
            var counts: [String: Int] = [:]
            for m in voters { if let n = m.asset.network { counts[n, default: 0] += 1 } }
            if let (network, n) = counts.max(by: { ($0.value, $1.key) < ($1.value, $0.key) }), n * 2 > voters.count {
                let base = Self.zoneName(network)
                if !base.isEmpty && base != zones[i].name {
                    names.remove(zones[i].name)
                    var name = base, k = 2
                    while names.contains(name) { name = "\(base)-\(k)"; k += 1 }
                    names.insert(name)
                    renamed[zones[i].name] = name
                    zones[i].comments.append("named after \"\(network)\" (the network of \(n) of its \(voters.count) \(voters.count == members.count ? "" : "\(zones[i].role.rawValue) ")inventory address\(voters.count == 1 ? "" : "es"); was \(zones[i].name))")
                    zones[i].name = name
                }
            } else if !counts.isEmpty {
                zones[i].comments.append("inventory networks: " + counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\"\($0.key)\" ×\($0.value)" }.joined(separator: ", ")
                                         + " of \(members.count) inventory addresses: none holds most, the name stays")
            }
            // VMs in a zone of infrastructure: guests on the management, storage or migration network.
            let vms = members.filter { $0.asset.kind == .vm }
            if zones[i].role.isInfrastructure && !vms.isEmpty {
                let rule = [Role.management: "1001", .storage: "1002", .migration: "1003"][zones[i].role] ?? "1001"
                notes.append("\(zones[i].name) (\(zones[i].role.rawValue)) holds VMs per the inventory: "
                             + vms.prefix(4).map { "\($0.asset.name) (\($0.address))" }.joined(separator: ", ") + (vms.count > 4 ? " and \(vms.count - 4) more" : "")
                             + ": if the zone's role is right, they are guests on the \(zones[i].role.rawValue) network (\(rule)).")
            }
            let infrastructure = members.filter { $0.asset.kind.infrastructureRole != nil }
            guard !infrastructure.isEmpty else { continue }
            let shown = infrastructure.prefix(6).map { "\($0.asset.name) (\($0.asset.kind.rawValue), \($0.address))" }
            zones[i].comments.append("infrastructure per inventory: " + shown.joined(separator: ", ") + (infrastructure.count > 6 ? " and \(infrastructure.count - 6) more" : ""))
            let roles = Set(infrastructure.compactMap { $0.asset.kind.infrastructureRole })
            // A zone whose inventory addresses are mostly infrastructure of one role (two at least) takes it.
            if roles.count == 1, let role = roles.first, infrastructure.count >= 2, infrastructure.count * 2 > members.count, role != zones[i].role {
                notes.append("\(zones[i].name) takes the role \(role.rawValue) from the inventory (\(infrastructure.count) of its \(members.count) inventory addresses are \(role.rawValue) infrastructure); the traffic suggested \(zones[i].role.rawValue).")
                zones[i].comments.append("role \(role.rawValue) from the inventory; the traffic suggested \(zones[i].role.rawValue)")
                zones[i].role = role
                continue
            }
            // Otherwise infrastructure of another role here is what an audit will ask about.
            for role in roles.sorted(by: { $0.rawValue < $1.rawValue }) where role != zones[i].role {
                let these = infrastructure.filter { $0.asset.kind.infrastructureRole == role }
                notes.append("\(zones[i].name) (\(zones[i].role.rawValue)) holds \(role.rawValue) infrastructure per the inventory: "
                             + these.prefix(4).map { "\($0.asset.name) (\($0.asset.kind.rawValue), \($0.address))" }.joined(separator: ", ")
                             + (these.count > 4 ? " and \(these.count - 4) more" : "") + ": if the zone's role is right, they are misplaced (\(Self.misplacedRules[role] ?? "1006")).")
            }
        }
        return (notes, renamed)
    }
}
