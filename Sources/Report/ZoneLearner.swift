import Decode
import Flows
import Vocabulary
import Zones

/// What `zonewarden learn` gathers to draft a zone configuration: per place
/// (a VLAN, a VNI, untagged traffic) the flows, the services they reached
/// and the subnets of their hosts; per subnet what its hosts served and
/// used (untagged traffic is split by subnet); the QinQ stacks, the tunnel
/// endpoints and the MACs behind which many subnets appear (gateways).
/// ``draft(findings:)`` (ZoneDraft.swift) writes the configuration.
///
/// Bounded: places, subnets, tunnel endpoints and MACs are capped, so a
/// capture of any size learns in bounded memory.
public struct ZoneLearner {
    /// Where a draft zone comes from: a VLAN (with the VNIs whose frames carry
    /// it), a VNI of an overlay whose frames are untagged, or untagged traffic.
    public enum Place: Hashable, Comparable, Sendable {
        case vlan(UInt16)
        case vni(UInt32)
        case untagged

        init(_ s: Segment) { self = s.vlan != 0 ? .vlan(s.vlan) : (s.hasVNI ? .vni(s.vni) : .untagged) }

        var label: String {
            switch self {
            case .vlan(let v): return "VLAN \(v)"
            case .vni(let n): return "VNI \(n)"
            case .untagged: return "untagged"
            }
        }
    }

    /// The evidence for a role: what a place's flows, or a subnet's hosts, served and used.
    public struct RoleEvidence {
        /// Flows per label: `storage`, `migration`, `service` (shared services), `transport` (tunnels carried).
        var scores: [String: Int] = [:]
        /// Flows to distinctive management or console services, by server: management
        /// where the server is in the zone, admin (its clients) where it is elsewhere.
        var managementServers = TopCounter<IPAddress>(capacity: 256)
        /// Flows to generic management services (SSH, HTTPS, WinRM) by server: they
        /// count only where that server also serves a distinctive one.
        var genericManagement = TopCounter<IPAddress>(capacity: 256)
        /// For a subnet: the management servers its hosts used (distinctive services, and generic ones).
        var managementClients = TopCounter<IPAddress>(capacity: 256)
        var genericClients = TopCounter<IPAddress>(capacity: 256)
        /// Flows to services no class lists (or served ones): a guest's own traffic.
        var otherServices = 0
        var services = TopCounter<String>(capacity: 16)
        var flows = 0
        /// For a subnet: flows its hosts served (a subnet that serves is no administrators' workstations).
        var served = 0
    }

    /// What one place showed.
    public struct PlaceStats {
        var evidence = RoleEvidence()
        /// Frames of every kind (ARP and other non-IP frames too).
        var frames = 0
        /// VNIs whose inner frames carried this VLAN.
        var vnis = Set<UInt32>()
    }

    /// A QinQ (or hopping) stack ending in one inner VLAN.
    public struct Stack {
        var outer = Set<UInt16>()
        var tags = Set<String>()
        /// The outermost tag's TPIDs: 802.1ad S-tags are 0x88a8, VLAN hopping's always 0x8100.
        var outermostTPIDs = Set<UInt16>()
        var frames = 0
    }

    /// A tunnel endpoint (VTEP, GRE or IP-in-IP end).
    public struct TunnelEndpoint {
        var place: Place
        var kinds = Set<String>()
        var packets = 0
    }

    struct PrefixPlace: Hashable {
        var prefix: IPPrefix
        var place: Place
    }

    struct MACPlace: Hashable {
        var mac: MACAddress
        var place: Place
    }

    public private(set) var places: [Place: PlaceStats] = [:]
    /// Per subnet, from its hosts' point of view (used to split untagged traffic).
    var subnets: [IPPrefix: RoleEvidence] = [:]
    /// How often each subnet was an endpoint on each place: of flows, and of tunnels.
    var sightings: [PrefixPlace: Sighting] = [:]

    struct Sighting {
        var flows = 0
        var tunnels = 0
        var total: Int { flows + tunnels }
    }
    /// Subnets seen as ordinary flow endpoints (not only as tunnel endpoints).
    var ordinary = Set<IPPrefix>()
    var stacks: [UInt16: Stack] = [:]
    /// VLANs seen with a single tag (an outer VLAN that also does: hopping, not QinQ).
    var singleTagged = Set<UInt16>()
    var tunnelEndpoints: [IPAddress: TunnelEndpoint] = [:]
    /// Subnets behind each MAC per place (a gateway has many).
    var macSubnets: [MACPlace: Set<IPPrefix>] = [:]
    /// MACs of frames without IP (a zone of MACs when nothing else was seen).
    var macs = Set<MACAddress>()
    /// Of those frames, how many were storage (AoE, FCoE, FIP): a zone of such MACs is storage, not guests.
    var nonIPFrames = 0, storageFrames = 0
    /// Servers of distinctive management services anywhere.
    var distinctiveServers = Set<IPAddress>()
    public private(set) var flows = 0
    public private(set) var frames = 0
    public private(set) var sawPublic = false
    public var captures: [String] = []
    /// Names for the draft (`learn --inventory`): zones are named after the
    /// port groups and networks of their addresses, infrastructure addresses
    /// marked, and the draft declares the same inventory.
    public var inventory: Inventory?

    static let placeLimit = 4096
    static let subnetLimit = 65_536
    static let endpointLimit = 4096
    static let macLimit = 16_384
    let catalogue = ServiceCatalogue.builtIn
    /// Shared services (DNS, NTP, directory, syslog, backup, DHCP) that suggest a service zone.
    static let sharedServices: Set<String> = ["udp/53", "tcp/53", "udp/123", "tcp/389", "tcp/636", "tcp/88", "udp/88", "udp/514", "tcp/514", "tcp/873", "udp/67"]

    public init() {}

    // MARK: packets

    /// One packet as the pipeline decoded it: its place, QinQ stacks, tunnel
    /// endpoints, and the subnets behind its MACs.
    public mutating func observe(_ packet: UnsafePointer<DecodedPacket>) {
        let p = packet.pointee
        frames += 1
        let place = Place(p.segment)
        if places[place] != nil || places.count < Self.placeLimit {
            places[place, default: PlaceStats()].frames += 1
            if case .vlan = place, let vni = p.tunnels.innermost?.virtualNetworkID, places[place]!.vnis.count < 64 {
                places[place]!.vnis.insert(vni)
            }
        }
        if !p.tunnels.isEmpty {
            let outer = Place(Segment(vlan: p.vlans.innermostID ?? 0))
            if outer != place && (places[outer] != nil || places.count < Self.placeLimit) { places[outer, default: PlaceStats()].frames += 1 }
        }
        noteStack(p.vlans)
        if !p.tunnels.isEmpty { noteStack(p.innerVLANs) }
        // Tunnel endpoints: the outer frame's VLAN for the first level, no VLAN inside.
        for level in 0..<p.tunnels.count {
            let t = p.tunnels[level]
            guard !t.kind.isMirror else { continue }
            let at: Place = level == 0 ? Place(Segment(vlan: p.vlans.innermostID ?? 0)) : .untagged
            noteEndpoint(t.outerSource, kind: t.kind.name, at: at)
            noteEndpoint(t.outerDestination, kind: t.kind.name, at: at)
        }
        // GRE the decoder does not follow (keepalives, unknown payloads) is a tunnel all the same.
        if p.tunnels.isEmpty && p.isIP && p.ipProtocol.rawValue == 47 {
            noteEndpoint(p.source, kind: "GRE", at: place)
            noteEndpoint(p.destination, kind: "GRE", at: place)
        }
        if p.hasMACs && p.tunnels.isEmpty {
            if p.isIP {
                noteMAC(p.sourceMAC, behind: p.source, at: place)
                noteMAC(p.destinationMAC, behind: p.destination, at: place)
            } else if p.arpOperation != 0 {
                // ARP names the subnets of a segment even where no IP flow is seen.
                see(p.arpSenderIP, at: place, ordinary: true)
            } else {
                nonIPFrames += 1
                if ReportCollector.storageEtherTypes.contains(p.etherType.rawValue) { storageFrames += 1 }
                if macs.count < 64 && !p.sourceMAC.isGroup { macs.insert(p.sourceMAC) }
            }
        }
    }

    private mutating func noteStack(_ stack: VLANStack) {
        var ids: [UInt16] = []
        var tags: [String] = []
        var outermostTPID: UInt16 = 0
        for i in 0..<stack.count where stack[i].id != 0 {
            if ids.isEmpty { outermostTPID = stack[i].tpid }
            ids.append(stack[i].id)
            tags.append("\(stack[i].id) (0x\(String(stack[i].tpid, radix: 16)))")
        }
        if ids.count == 1 { singleTagged.insert(ids[0]); return }
        guard ids.count >= 2, let inner = ids.last, stacks[inner] != nil || stacks.count < Self.placeLimit else { return }
        var s = stacks[inner] ?? Stack()
        s.outer.formUnion(ids.dropLast())
        s.outermostTPIDs.insert(outermostTPID)
        if s.tags.count < 8 { s.tags.insert(tags.joined(separator: " > ")) }
        s.frames += 1
        stacks[inner] = s
    }

    private mutating func noteEndpoint(_ address: IPAddress, kind: String, at place: Place) {
        guard !address.isSpecialPurpose else { return }
        if var e = tunnelEndpoints[address] {
            e.packets += 1
            e.kinds.insert(kind)
            tunnelEndpoints[address] = e
            return
        }
        guard tunnelEndpoints.count < Self.endpointLimit else { return }
        tunnelEndpoints[address] = TunnelEndpoint(place: place, kinds: [kind], packets: 1)
        see(address, at: place, ordinary: false)
    }

    private mutating func noteMAC(_ mac: MACAddress, behind address: IPAddress, at place: Place) {
        guard !mac.isGroup, let prefix = Self.subnet(of: address) else { return }
        let key = MACPlace(mac: mac, place: place)
        guard macSubnets[key] != nil || macSubnets.count < Self.macLimit else { return }
        if macSubnets[key, default: []].count < 64 { macSubnets[key, default: []].insert(prefix) }
    }

    /// The subnet an address is learnt as: its /24 (IPv4) or /64 (IPv6); the
    /// loopback networks whole. Nil for other special-purpose addresses.
    static func subnet(of address: IPAddress) -> IPPrefix? {
        if address.isIPv4 && address.ipv4Value >> 24 == 127 { return IPPrefix(address: IPAddress(ipv4: 127 << 24), length: 104) }
        if address.high == 0 && address.low == 1 { return IPPrefix(address: address, length: 128) }
        guard !address.isSpecialPurpose else { return nil }
        return IPPrefix(address: address, length: address.isIPv4 ? 120 : 64).network
    }

    static func isPublic(_ address: IPAddress) -> Bool {
        IPPrefix.publicInternet.contains { $0.contains(address) }
    }

    /// An address seen on a place: its subnet is counted there (public addresses go to the internet zone).
    private mutating func see(_ address: IPAddress, at place: Place, ordinary isOrdinary: Bool) {
        guard let prefix = Self.subnet(of: address) else { return }
        // Public addresses go to the internet zone, but inside an overlay they are a tenant's network.
        let inOverlay: Bool
        if case .vni = place { inOverlay = true } else { inOverlay = false }
        if Self.isPublic(address) && !inOverlay {
            sawPublic = true
            return
        }
        let key = PrefixPlace(prefix: prefix, place: place)
        guard sightings[key] != nil || sightings.count < Self.subnetLimit else { return }
        if isOrdinary { sightings[key, default: Sighting()].flows += 1 } else { sightings[key, default: Sighting()].tunnels += 1 }
        if isOrdinary && ordinary.count < Self.subnetLimit { ordinary.insert(prefix) }
    }

    // MARK: flows

    /// One flow as it leaves the table: the services it reached, for its place
    /// and for the subnets of both ends.
    public mutating func add(_ r: borrowing FlowRecord) {
        flows += 1
        let key = r.key
        if key.isTunnelled {
            // The outer VLAN carried a tunnel: count it for the underlay.
            let outer = Place(Segment(vlan: key.outerVLAN))
            if places[outer] != nil || places.count < Self.placeLimit {
                places[outer, default: PlaceStats()].evidence.scores["transport", default: 0] += 1
                places[outer]!.evidence.flows += 1
            }
        }
        let place = Place(key.segment)
        guard places[place] != nil || places.count < Self.placeLimit else { return }
        var evidence = places[place]?.evidence ?? RoleEvidence()
        defer { places[place, default: PlaceStats()].evidence = evidence }
        guard !key.isEthernet else {
            evidence.flows += 1
            evidence.services.add("ethertype 0x" + String(key.protocolNumber, radix: 16))
            if [0x8906, 0x8914, 0x88A2].contains(key.protocolNumber) { evidence.scores["storage", default: 0] += 1 }
            return
        }
        let proto = IPProtocol(rawValue: UInt8(truncatingIfNeeded: key.protocolNumber))
        // Unfollowed GRE: its ends are tunnel endpoints (observe), the flow an underlay's.
        if proto.rawValue == 47 && !key.isTunnelled {
            evidence.flows += 1
            evidence.scores["transport", default: 0] += 1
            return
        }
        let client = r.initiatorAddress, server = r.responderAddress
        let port = r.responderPort
        let service = proto.rawValue == 6 || proto.rawValue == 17 ? "\(proto.serviceName)/\(port)" : proto.serviceName
        let use = classify(proto, port, service)
        if use.distinctiveManagement && distinctiveServers.count < Self.subnetLimit { distinctiveServers.insert(server) }
        evidence.record(use, server: server)
        see(client, at: place, ordinary: true)
        see(server, at: place, ordinary: true)
        // Each end's subnet: what its hosts served, and what they used.
        if let s = Self.subnet(of: server), !Self.isPublic(server), subnets[s] != nil || subnets.count < Self.subnetLimit {
            subnets[s, default: RoleEvidence()].record(use, server: server)
        }
        if let c = Self.subnet(of: client), !Self.isPublic(client), subnets[c] != nil || subnets.count < Self.subnetLimit {
            // Both ends in one subnet: one flow of its hosts, counted once (its comment said "12 of 12 flows" for 6).
            let counted = subnets[c] != nil && Self.subnet(of: server) == c && !Self.isPublic(server)
            subnets[c, default: RoleEvidence()].recordClient(use, server: server, countedAsServer: counted)
        }
    }

    /// What a flow to a service was for.
    struct Use {
        var label: String?
        var entry: String?
        var distinctiveManagement = false
        var genericManagement = false
        var shared = false
    }

    private func classify(_ proto: IPProtocol, _ port: UInt16, _ service: String) -> Use {
        var use = Use()
        for (cls, label) in [(ServiceClass.migration, "migration"), (.storage, "storage"), (.management, "management"), (.console, "management")] {
            guard let entry = catalogue.lookup(cls, proto, port) else { continue }
            if entry.distinctive || cls == .storage || cls == .migration {
                use.entry = "\(entry.name) \(service)"
                if label == "management" { use.distinctiveManagement = true } else { use.label = label }
            } else {
                use.genericManagement = true
            }
            break
        }
        if Self.sharedServices.contains(service) {
            use.shared = true
            use.label = use.label ?? "service"
            use.entry = use.entry ?? service
        }
        return use
    }
}

extension ZoneLearner.RoleEvidence {
    /// A flow counted for the zone it travelled in, or for its server's subnet.
    mutating func record(_ use: ZoneLearner.Use, server: IPAddress) {
        flows += 1
        served += 1
        if let entry = use.entry { services.add(entry) }
        if use.distinctiveManagement {
            managementServers.add(server)
        } else if use.genericManagement {
            genericManagement.add(server)
        } else if let label = use.label {
            scores[label, default: 0] += 1
        } else {
            otherServices += 1
        }
    }

    /// A flow counted for its client's subnet: storage and migration clients are
    /// in those networks too (a hypervisor's initiator); management clients are
    /// admins' (told apart by where the server is); shared services are used by all.
    /// `countedAsServer`: the server is in this subnet too and ``record(_:server:)``
    /// counted the flow already (its service and label): only the client's part is added.
    mutating func recordClient(_ use: ZoneLearner.Use, server: IPAddress, countedAsServer: Bool = false) {
        if !countedAsServer { flows += 1 }
        if use.distinctiveManagement {
            if let entry = use.entry, !countedAsServer { services.add(entry) }
            managementClients.add(server)
        } else if use.genericManagement {
            genericClients.add(server)
        } else if countedAsServer {
            return
        } else if let label = use.label, label != "service" {
            if let entry = use.entry { services.add(entry) }
            scores[label, default: 0] += 1
        } else if !use.shared {
            otherServices += 1
        }
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
