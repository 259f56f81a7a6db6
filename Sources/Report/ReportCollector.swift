import Alerting
import Detect
import Vocabulary
import Flows
import Zones

/// Gathers a ``CommunicationReport``: each flow as it leaves a flow table
/// (``add(_:)``, wired to the pipeline's flow-end callback), and each alert
/// (as an alert sink of the pipeline's dispatcher).
public final class ReportCollector: AlertSink {
    public let name = "<report>"
    public private(set) var report: CommunicationReport

    /// The zones and service catalogue flows are judged by (the audit's observations); nil: none kept.
    public private(set) var zones: ZoneMap?

    public init(report: CommunicationReport, zones: ZoneMap? = nil) {
        self.report = report
        self.zones = zones
    }

    /// The alert stage's data connections: one a session announced counts under the session's service.
    public var dataChannels: DataChannels?

    /// Counts a flow that left the table.
    public func add(_ record: borrowing FlowRecord) { count(record, into: &report) }

    /// Counts a flow in `target`: its cell, its service (a data connection's session's), and the infrastructure service it is.
    private func count(_ record: borrowing FlowRecord, into target: inout CommunicationReport) {
        var serviceClass: ServiceClass?
        if let zones {
            serviceClass = Self.serviceClass(record, zones)
            // Not judged, but not unseen either: the audit says that storage or migration ran outside every zone.
            if serviceClass == nil, let outside = Self.serviceOutsideZones(record, zones) { target.noteOutsideZones(record, outside) }
        }
        if let channels = dataChannels, !record.key.isEthernet,
           let session = channels.sessionService(initiator: record.initiatorAddress, responder: record.responderAddress, port: record.responderPort) {
            target.add(record, service: session, serviceClass: serviceClass)
        } else {
            target.add(record, serviceClass: serviceClass)
        }
    }

    /// EtherTypes of storage: FCoE, FIP, AoE.
    static let storageEtherTypes: Set<UInt16> = [0x8906, 0x8914, 0x88A2]
    static let classRoles: [(ServiceClass, Role)] = [(.management, .management), (.migration, .migration), (.storage, .storage), (.console, .management)]

    /// The infrastructure service a flow is, by the catalogue: a distinctive
    /// service anywhere, a generic one (SSH, HTTPS, SMB) only where its
    /// responder's zone has the class's role.
    static func serviceClass(_ r: borrowing FlowRecord, _ zones: ZoneMap) -> ServiceClass? {
        if r.key.isEthernet { return storageEtherTypes.contains(r.key.protocolNumber) ? .storage : nil }
        let proto = IPProtocol(rawValue: UInt8(truncatingIfNeeded: r.key.protocolNumber))
        guard proto.hasPorts else { return nil }
        // What the inventory calls the responder (a BMC, a VMkernel interface), else its zone's role.
        var role = zones.role(r.destinationZone != 0 ? r.destinationZone : r.segmentZone)
        if r.state & FlowState.infrastructureAsset != 0, let inventoryRole = FlowClassifier(zones: zones).infrastructureRole(responderOf: r) { role = inventoryRole }
        let port = r.responderPort
        for (serviceClass, classRole) in classRoles {
            guard let entry = zones.services.lookup(serviceClass, proto, port) else { continue }
            // Migration and storage ports mean that only at infrastructure, as rules 3001 and 4001 judge
            // them (by zone or inventory): port 8000 between two guests is no vMotion.
            if serviceClass == .migration || serviceClass == .storage {
                if role == classRole || (entry.distinctive && (role?.isInfrastructure ?? false)) { return serviceClass }
                continue
            }
            if entry.distinctive || role == classRole { return serviceClass }
        }
        return nil
    }

    /// A distinctive storage or migration service whose responder and segment are in no zone:
    /// the rules cannot judge it, and the audit says so rather than "no storage traffic seen".
    static func serviceOutsideZones(_ r: borrowing FlowRecord, _ zones: ZoneMap) -> ServiceClass? {
        guard !r.key.isEthernet, r.destinationZone == 0, r.segmentZone == 0 else { return nil }
        let proto = IPProtocol(rawValue: UInt8(truncatingIfNeeded: r.key.protocolNumber))
        guard proto.hasPorts else { return nil }
        for serviceClass in [ServiceClass.storage, .migration] {
            if let entry = zones.services.lookup(serviceClass, proto, r.responderPort), entry.distinctive { return serviceClass }
        }
        return nil
    }

    public func write(_ alert: Alert) throws(SinkError) { report.add(alert) }
    public func flush() throws(SinkError) {}

    /// Sets the time span of the packets seen.
    public func span(first: UInt64, last: UInt64) {
        report.firstTimestamp = first
        report.lastTimestamp = last
    }

    /// A new configuration: the report goes on under its zones (``CommunicationReport/rezoned(_:)``).
    public func rezone(_ zones: ZoneMap) {
        report = report.rezoned(zones)
        if self.zones != nil { self.zones = zones }
    }

    /// Where the report will be written (its evidence links are relative to it).
    public var outputPath: String? {
        get { report.outputPath }
        set { report.outputPath = newValue }
    }

    /// The exceptions and what they accepted, for the report's "Accepted risks".
    public func acceptedRisks(_ risks: [CommunicationReport.AcceptedRisk]) { report.acceptedRisks = risks }

    /// Keeps the links to the evidence files for which `exists` holds (the others were never written, or are gone).
    public func keepEvidence(where exists: (String) -> Bool) { report.keepEvidence(where: exists) }

    /// The report as it stands, with the flows still in `flows` counted
    /// (for the live sensor's periodic report; the table is not changed).
    public func snapshot(_ flows: FlowTable, first: UInt64, last: UInt64) -> CommunicationReport {
        var copy = report
        // The flows still open count as the ended ones do, in the observations behind the verdicts too
        // (an iSCSI or NFS session stays open for hours: it must not read as "no storage traffic seen").
        flows.forEachFlow { count($0, into: &copy) }
        copy.firstTimestamp = first
        copy.lastTimestamp = last
        return copy
    }

    public func addCapture(_ name: String) { report.captures.append(name) }

    /// A capture read to its end (or its error), for the audit's coverage.
    public func addCoverage(_ c: CaptureCoverage) { report.coverage.append(c) }
    /// The time window the analysis kept to (`--since`, `--until`).
    public func window(_ w: AnalysisWindow?) { report.window = w }

    /// What the audit needs besides the traffic: the rules that ran, the sensor's version, the configuration's hash.
    /// - Parameter inertRules: rules on that cannot fire in this run (7002 without a state file).
    public func describe(enabledRules: Set<Int>, version: String, configSHA256: String?, inertRules: Set<Int> = []) {
        report.describe(enabledRules: enabledRules, version: version, configSHA256: configSHA256)
        report.inertRules = inertRules
    }
}
