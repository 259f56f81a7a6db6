import Decode
import Flows
import Vocabulary
#if canImport(Glibc)
import Glibc
#endif

/// A security zone as declared in the configuration.
public struct Zone: Sendable {
    public var name: String
    public var role: Role
    /// VLAN ids (1-4094) that belong to the zone.
    public var vlans: [ClosedRange<UInt16>]
    /// VXLAN/Geneve VNIs or NVGRE VSIDs that belong to the zone.
    public var vnis: [ClosedRange<UInt32>]
    public var subnets: [IPPrefix]
    /// Whether `subnets` includes the keyword `public` (expanded into ``IPPrefix/publicInternet``).
    public var includesPublic: Bool = false
    /// MAC addresses of the zone's hosts; used for non-IP frames (AoE, FCoE, ...).
    public var macs: [MACAddress]
    /// Outer (service) VLANs that may carry this zone's VLANs in a QinQ stack:
    /// such double-tagged frames are planned, not VLAN hopping (rule 5001).
    public var outerVLANs: [ClosedRange<UInt16>] = []
    public var description: String?
    public var position: SourcePosition
}

/// A security gateway (router, firewall) identified by its MAC addresses.
public struct Gateway: Sendable {
    public var name: String
    public var macs: [MACAddress]
    /// The zones between which this gateway routes; empty: any zones. Traffic
    /// between two zones that a gateway lists must pass one of those (rule 6002).
    public var zones: [String] = []
    public var position: SourcePosition
}

/// Which hosts may be in which zones at once (`multi_homed:`, rule 6001).
public struct MultiHomedSettings: Sendable {
    /// Role pairs that one MAC address must not send from. By default a guest
    /// with management, storage or migration: a hypervisor's own interfaces in
    /// management, storage and migration networks are normal.
    public var forbidden: [(Role, Role)] = [(.guest, .management), (.guest, .storage), (.guest, .migration)]
    /// Hosts allowed in any zones (besides gateways), e.g. a hypervisor whose one
    /// MAC carries several VLAN interfaces by design.
    public var allowedMACs: [MACAddress] = []
    public init() {}
}

/// An exception to the role rules and to `default-deny`.
public struct AllowRule: Sendable {
    /// Zone names; `nil` means any zone.
    public var from: [String]?
    public var to: [String]?
    /// Services covered; `nil` means all.
    public var services: [ServiceSpec]?
    public var position: SourcePosition
}

/// How cross-zone traffic is judged.
public enum Policy: String, Sendable {
    /// Only the role rules apply (default).
    case roles
    /// Additionally, every cross-zone flow that no `allow` entry covers is reported (rule 1005).
    case defaultDeny = "default-deny"
}

/// A per-rule override from the `rules:` section; the rule key is checked against
/// the rule catalogue by the detection stage.
public struct RuleOverride: Sendable {
    /// The rule's name (`unknown-address`) or sid (`7001`) as written.
    public var key: String
    public var enabled: Bool?
    public var severity: Severity?
    public var position: SourcePosition
}

/// One output of `zonewarden run` from the `sensor.outputs` list, as written:
/// the alert stage checks the format name and the syslog URL.
public struct OutputSetting: Sendable, Equatable {
    public var format: String
    public var path: String?
    public var syslog: String?
    /// For `tls://` and `relp+tls://`: the collector's CA, the sensor's certificate and key, the name to check.
    public var tls: OutputTLSSetting?
    /// Where the entry, its format and its syslog URL are, for messages.
    public var position: SourcePosition
    public var formatPosition: SourcePosition
    public var syslogPosition: SourcePosition

    public init(format: String, path: String?, syslog: String?, position: SourcePosition = .unknown) {
        self.format = format
        self.path = path
        self.syslog = syslog
        self.position = position
        self.formatPosition = position
        self.syslogPosition = position
    }
}

/// The `tls:` of an output: paths and the peer name as written (the alert stage reads the files).
public struct OutputTLSSetting: Sendable, Equatable {
    public var ca: String?
    public var cert: String?
    public var key: String?
    public var peerName: String?
    public var position: SourcePosition

    public init(ca: String? = nil, cert: String? = nil, key: String? = nil, peerName: String? = nil, position: SourcePosition = .unknown) {
        self.ca = ca
        self.cert = cert
        self.key = key
        self.peerName = peerName
        self.position = position
    }
}

/// Settings of the sensor itself (`sensor:`); command-line flags override them.
public struct SensorSettings: Sendable {
    /// The sensor's name in reports (a site has one sensor per mirror port) and EVE's `host`; nil: the host name.
    public var name: String?
    /// The private enterprise number of RFC 5424's SD-ID (`zw@NUMBER`); default RFC 5612's for documentation.
    public var syslogEnterpriseNumber = 32473
    public var interfaces: [String] = []
    public var snaplen: Int = 65535
    public var promiscuous: Bool = true
    public var bufferSize: Int? = nil
    /// Most flows tracked at once; the oldest idle flow is evicted beyond it.
    public var maxFlows: Int = 262_144
    public var flowTimeouts = FlowTimeouts()
    /// An alert for the same (rule, source, destination, service) is repeated at
    /// most once per this many seconds; the repeats in between are counted.
    public var alertThrottleSeconds: Int = 3600
    public var statsInterval: Int = 60
    /// Bytes of each direction of a TCP stream that application inspection reads.
    public var streamWindow: Int = 16 * 1024
    /// Most MAC addresses whose zones are remembered (rule 6001); the least
    /// recently seen is forgotten beyond it.
    public var maxMACs: Int = 65_536
    /// Where the live sensor keeps the infrastructure endpoints it has seen (rule 7002).
    public var stateFile: String?
    /// With no state file yet, how long the live sensor learns before rule 7002 reports.
    public var baselineSeconds: Int = 600
    /// Where a record of every flow goes when it ends (`--flow-log` overrides it).
    public var flowLog: String?
    /// Where the packets behind the alerts go (`sensor.evidence`; `--evidence` overrides its directory).
    public var evidence = EvidenceSetting()
    public var outputs: [OutputSetting] = []
    public init() {}

    /// ``name``, else the machine's host name.
    public var effectiveName: String {
        if let name, !name.isEmpty { return name }
        var buffer = [CChar](repeating: 0, count: 256)
        return gethostname(&buffer, buffer.count) == 0 ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "sensor"
    }
}

/// `sensor.evidence`: a pcap file per alert, with the flow's packets.
public struct EvidenceSetting: Sendable, Equatable {
    /// The directory; nil: no evidence unless `--evidence` names one.
    public var directory: String?
    /// The most the directory's pcap files may hold together; the oldest go first.
    public var maximumMegabytes = 1024
    /// Packets kept of a flow before its alert, and taken after it.
    public var packetsPerFlow = 32
    /// The ring of every flow's first packets, per capture thread.
    public var memoryMegabytes = 32
    public init() {}
}

/// A parsed and validated zone configuration.
public struct ZoneConfig: Sendable {
    /// The file it was read from (as given), for messages.
    public var file: String
    public var zones: [Zone]
    public var gateways: [Gateway]
    public var allow: [AllowRule]
    public var policy: Policy
    public var ruleOverrides: [RuleOverride]
    public var services: ServiceCatalogue
    public var sensor: SensorSettings
    public var multiHomed = MultiHomedSettings()
    /// Accepted risks (`exceptions:`), in the order written.
    public var exceptions: [ExceptionSetting] = []
    /// The inventory files (`inventory:`), as written.
    public var inventorySources: [InventorySource] = []
    /// Names for addresses, read from ``inventorySources`` with the configuration.
    public var inventory: Inventory = .empty

    public init(file: String, zones: [Zone], gateways: [Gateway] = [], allow: [AllowRule] = [], policy: Policy = .roles,
                ruleOverrides: [RuleOverride] = [], services: ServiceCatalogue = .builtIn, sensor: SensorSettings = .init()) {
        self.file = file
        self.zones = zones
        self.gateways = gateways
        self.allow = allow
        self.policy = policy
        self.ruleOverrides = ruleOverrides
        self.services = services
        self.sensor = sensor
    }

    /// A one-line summary for `check-config`.
    public var summary: String { summary(withOutputs: true) }

    /// The summary; without the outputs, flow log and evidence folder for a
    /// reload, which keeps those the sensor started with.
    public func summary(withOutputs: Bool) -> String {
        var roles: [Role: Int] = [:]
        for z in zones { roles[z.role, default: 0] += 1 }
        let roleText = Role.allCases.compactMap { r in roles[r].map { "\($0) \(r.rawValue)" } }.joined(separator: ", ")
        let vlanCount = zones.reduce(0) { $0 + $1.vlans.reduce(0) { $0 + $1.count } }
        let vniCount = zones.reduce(0) { $0 + $1.vnis.reduce(0) { $0 + Int($1.upperBound - $1.lowerBound) + 1 } }
        let subnetCount = zones.reduce(0) { $0 + $1.subnets.count - ($1.includesPublic ? IPPrefix.publicInternet.count : 0) }
        let publicNote = zones.first(where: \.includesPublic).map { " (and public addresses in zone \($0.name))" } ?? ""
        func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
        return "\(plural(zones.count, "zone")) (\(roleText)), \(plural(vlanCount, "VLAN")), \(plural(vniCount, "VNI")), "
            + "\(plural(subnetCount, "subnet"))\(publicNote), \(plural(gateways.count, "gateway")), \(plural(allow.count, "allow rule")), policy \(policy.rawValue)"
            + (exceptions.isEmpty ? "" : ", \(plural(exceptions.count, "exception"))")
            + (inventory.isEmpty ? "" : "; \(inventory.summary)")
            + (withOutputs ? outputsSummary : "")
    }

    /// What the sensor writes to besides standard error: its outputs, flow log and evidence folder.
    private var outputsSummary: String {
        (sensor.outputs.isEmpty ? "" : "; outputs (run): " + sensor.outputs.map { "\($0.format) to \($0.syslog ?? $0.path ?? "-")" }.joined(separator: ", "))
            + (sensor.flowLog.map { "; flow log \($0)" } ?? "")
            + (sensor.evidence.directory.map { "; evidence in \($0)" } ?? "")
    }
}
