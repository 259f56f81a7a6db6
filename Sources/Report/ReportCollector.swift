import Alerting
import Flows
import Zones

/// Gathers a ``CommunicationReport``: each flow as it leaves a flow table
/// (``add(_:)``, wired to the pipeline's flow-end callback), and each alert
/// (as an alert sink of the pipeline's dispatcher).
public final class ReportCollector: AlertSink {
    public let name = "<report>"
    public private(set) var report: CommunicationReport

    public init(report: CommunicationReport) { self.report = report }

    /// The alert stage's data connections: one a session announced counts under the session's service.
    public var dataChannels: DataChannels?

    /// Counts a flow that left the table.
    public func add(_ record: borrowing FlowRecord) {
        if let channels = dataChannels, !record.key.isEthernet,
           let session = channels.sessionService(initiator: record.initiatorAddress, responder: record.responderAddress, port: record.responderPort) {
            report.add(record, service: session)
        } else {
            report.add(record)
        }
    }

    public func write(_ alert: Alert) throws(SinkError) { report.add(alert) }
    public func flush() throws(SinkError) {}

    /// Sets the time span of the packets seen.
    public func span(first: UInt64, last: UInt64) {
        report.firstTimestamp = first
        report.lastTimestamp = last
    }

    /// A new configuration: the report goes on under its zones (``CommunicationReport/rezoned(_:)``).
    public func rezone(_ zones: ZoneMap) { report = report.rezoned(zones) }

    /// Where the report will be written (its evidence links are relative to it).
    public var outputPath: String? {
        get { report.outputPath }
        set { report.outputPath = newValue }
    }

    /// The exceptions and what they accepted, for the report's "Accepted risks".
    public func acceptedRisks(_ risks: [CommunicationReport.AcceptedRisk]) { report.acceptedRisks = risks }

    /// The report as it stands, with the flows still in `flows` counted
    /// (for the live sensor's periodic report; the table is not changed).
    public func snapshot(_ flows: FlowTable, first: UInt64, last: UInt64) -> CommunicationReport {
        var copy = report
        flows.forEachFlow { copy.add($0) }
        copy.firstTimestamp = first
        copy.lastTimestamp = last
        return copy
    }

    public func addCapture(_ name: String) { report.captures.append(name) }
}
