import Decode
import Flows
import Vocabulary
import Zones

/// What `zonewarden learn` gathers: per segment (VLAN, VNI, untagged) the
/// flows, the services they reach and the subnets of their hosts, to draft a
/// zone configuration with a guessed role per segment. Bounded: prefixes per
/// segment and segments overall are capped.
public struct ZoneLearner {
    /// What one segment showed.
    public struct SegmentStats {
        public var flows = 0
        /// Flows to a service of each class (the evidence of the role guess), and which services.
        public var classes: [String: Int] = [:]
        public var services = TopCounter<String>(capacity: 16)
        /// Flows that carried a tunnel on this (outer) segment: an underlay.
        public var tunnels = 0
        /// Flows to generic management services (SSH, HTTPS, WinRM ...) by server: they count for
        /// management only when that server also serves a hypervisor's or BMC's own service.
        public var genericManagement = TopCounter<IPAddress>(capacity: 1024)
        /// Servers of distinctive management services.
        public var managementServers = Set<IPAddress>()
        /// Flows to services no class lists: a guest's own traffic.
        public var otherServices = 0
        /// How often each /24 (IPv4) or /64 (IPv6) prefix was an endpoint here.
        public var prefixes = TopCounter<IPPrefix>(capacity: 256)
    }

    public private(set) var segments: [Segment: SegmentStats] = [:]
    public private(set) var flows = 0
    public private(set) var sawPublic = false
    public var captures: [String] = []
    static let segmentLimit = 4096
    let catalogue = ServiceCatalogue.builtIn
    /// Shared services (DNS, NTP, directory, syslog, backup) that suggest a service zone.
    static let sharedServices: Set<String> = ["udp/53", "tcp/53", "udp/123", "tcp/389", "tcp/636", "tcp/88", "udp/88", "udp/514", "tcp/514", "tcp/873", "udp/67"]

    public init() {}

    public mutating func add(_ r: borrowing FlowRecord) {
        flows += 1
        let key = r.key
        if key.isTunnelled {
            // The outer VLAN carried a tunnel: count it for the underlay.
            let outer = Segment(vlan: key.outerVLAN)
            if segments[outer] != nil || segments.count < Self.segmentLimit { segments[outer, default: SegmentStats()].tunnels += 1 }
        }
        let segment = key.segment
        guard segments[segment] != nil || segments.count < Self.segmentLimit else { return }
        var stats = segments[segment] ?? SegmentStats()
        stats.flows += 1
        if !key.isEthernet {
            let proto = IPProtocol(rawValue: UInt8(truncatingIfNeeded: key.protocolNumber))
            let port = r.responderPort
            let v = proto.rawValue
            let service = v == 6 || v == 17 ? "\(proto.serviceName)/\(port)" : proto.serviceName
            var classified = false
            for (cls, label) in [(ServiceClass.migration, "migration"), (.storage, "storage"), (.management, "management"), (.console, "management")] {
                guard let entry = catalogue.lookup(cls, proto, port) else { continue }
                classified = true
                if entry.distinctive || cls == .storage || cls == .migration {
                    stats.classes[label, default: 0] += 1
                    stats.services.add("\(entry.name) \(service)")
                    if label == "management" && stats.managementServers.count < 1024 { stats.managementServers.insert(r.responderAddress) }
                } else {
                    stats.genericManagement.add(r.responderAddress)
                }
                break
            }
            if Self.sharedServices.contains(service) {
                stats.classes["service", default: 0] += 1
                stats.services.add(service)
            } else if !classified {
                stats.otherServices += 1
            }
            for address in [r.initiatorAddress, r.responderAddress] where !address.isSpecialPurpose {
                if IPPrefix.publicInternet.contains(where: { $0.contains(address) }) {
                    sawPublic = true
                    continue
                }
                stats.prefixes.add(IPPrefix(address: address, length: address.isIPv4 ? 120 : 64).network)
            }
        } else {
            stats.services.add("ethertype 0x" + String(key.protocolNumber, radix: 16))
            if [0x8906, 0x8914, 0x88A2].contains(key.protocolNumber) { stats.classes["storage", default: 0] += 1 }
        }
        segments[segment] = stats
    }

    /// The guessed role of a segment and why: the class of infrastructure
    /// service most of its flows reached, if they outnumber the flows to
    /// everything else; otherwise guest.
    public func guess(_ s: SegmentStats) -> (role: Role, evidence: String) {
        var scores = s.classes
        if s.tunnels > 0 { scores["transport"] = s.tunnels }
        // SSH or HTTPS to a server that is a hypervisor or BMC is management too; to anything else, not.
        var guestLike = s.otherServices
        for (server, n) in s.genericManagement.top(1024) {
            if s.managementServers.contains(server) { scores["management", default: 0] += Int(n) } else { guestLike += Int(n) }
        }
        let best = scores.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.first
        let services = s.services.top(3).map { "\($0.key) ×\($0.count)" }.joined(separator: ", ")
        let total = s.flows + s.tunnels
        if let (label, n) = best, n > 0, n >= guestLike, let role = Role(rawValue: label) {
            let what = ["transport": "carried tunnels", "service": "reached shared services (DNS, NTP, directory, syslog)"][label] ?? "reached \(label) services"
            return (role, "\(n) of \(total) flow\(total == 1 ? "" : "s") \(what)" + (services.isEmpty ? "" : " (\(services))"))
        }
        return (.guest, "no infrastructure service dominates: taken for guests" + (services.isEmpty ? "" : " (\(services))"))
    }

    /// The draft configuration, commented with the evidence for each zone.
    public func draft() -> String {
        // Each prefix goes to the segment where it was seen most; on a tie, where it
        // makes up the larger share of the traffic; then the first segment.
        let ordered = segments.keys.sorted { a, b in
            (a.hasVNI ? 1 : 0, a.vlan, a.vni) < (b.hasVNI ? 1 : 0, b.vlan, b.vni)
        }
        var owner: [IPPrefix: (segment: Segment, count: UInt64, share: Double)] = [:]
        for segment in ordered {
            let top = segments[segment]!.prefixes.top(256)
            let total = Double(max(top.reduce(0) { $0 + $1.count }, 1))
            for (prefix, count) in top {
                let share = Double(count) / total
                if let current = owner[prefix], (current.count, current.share) >= (count, share) { continue }
                owner[prefix] = (segment, count, share)
            }
        }
        var text = "# Draft zone configuration from zonewarden learn: \(captures.joined(separator: ", ")) (\(flows) flows).\n"
        text += "# The roles are guesses from the services each segment carried: review every zone,\n"
        text += "# rename the zones as your site does, and check with: zonewarden check-config -c FILE\n"
        text += "zones:\n"
        var names = Set<String>()
        for segment in ordered {
            let stats = segments[segment]!
            let prefixes = owner.filter { $0.value.segment == segment }.keys.sorted { $0.address < $1.address }
            // A VNI's traffic inside a VLAN-tagged inner frame is declared by the VLAN; an untagged segment only by its subnets.
            if segment.vlan == 0 && !segment.hasVNI && prefixes.isEmpty { continue }
            let (role, evidence) = guess(stats)
            let short = ["management": "mgmt", "storage": "storage", "migration": "migration", "transport": "underlay", "service": "services", "guest": "guests"][role.rawValue] ?? role.rawValue
            var name = segment.hasVNI && segment.vlan == 0 ? "\(short)-vni\(segment.vni)" : (segment.vlan == 0 ? "\(short)-untagged" : "\(short)-vlan\(segment.vlan)")
            while names.contains(name) { name += "-2" }
            names.insert(name)
            let label = segment.hasVNI && segment.vlan == 0 ? "VNI \(segment.vni)" : (segment.vlan == 0 ? "untagged" : "VLAN \(segment.vlan)")
            text += "  # \(label): \(evidence)\n"
            var fields = ["role: \(role.rawValue)"]
            if segment.vlan != 0 { fields.append("vlans: [\(segment.vlan)]") } else if segment.hasVNI { fields.append("vnis: [\(segment.vni)]") }
            if !prefixes.isEmpty { fields.append("subnets: [" + prefixes.map { "\"\($0)\"" }.joined(separator: ", ") + "]") }
            text += "  \(name): { \(fields.joined(separator: ", ")) }\n"
        }
        if sawPublic {
            text += "  # Addresses outside private space were seen.\n  internet: { role: external, subnets: [public] }\n"
        }
        if names.isEmpty && !sawPublic {
            text += "  # Nothing to learn from: no IP traffic was seen.\n  unknown: { role: guest, vlans: [4094] }\n"
        }
        return text
    }
}

extension IPPrefix {
    /// The prefix with its host bits cleared.
    var network: IPPrefix {
        let keepHigh = min(length, 64), keepLow = max(length - 64, 0)
        let high = keepHigh == 0 ? 0 : address.high & (~UInt64(0) << UInt64(64 - keepHigh))
        let low = keepLow == 0 ? 0 : (keepLow >= 64 ? address.low : address.low & (~UInt64(0) << UInt64(64 - keepLow)))
        return IPPrefix(address: IPAddress(high: high, low: length <= 64 ? 0 : low), length: length)
    }
}
