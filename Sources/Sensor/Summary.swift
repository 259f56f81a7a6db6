import Alerting
import Detect
import Flows
import Vocabulary

/// The `--summary` report: per-rule counts, packets, flows and decode errors.
public enum Summary {
    public static func render(pipeline: Pipeline, files: Int, failedFiles: Int) -> String {
        render(statistics: pipeline.statistics, flows: pipeline.flows.statistics, flowCapacity: pipeline.flows.capacity,
               alerts: pipeline.alerts, rules: pipeline.detector.enabledRules, files: files, failedFiles: failedFiles)
    }

    /// The summary of several workers' analysis.
    public static func render(_ analysis: ShardedAnalysis, rules: [(RuleMetadata, Severity)], files: Int, failedFiles: Int) -> String {
        render(statistics: analysis.statistics, flows: analysis.flowStatistics, flowCapacity: analysis.flowCapacity,
               alerts: analysis.alerts, rules: rules, files: files, failedFiles: failedFiles)
    }

    static func render(statistics s: SensorStatistics, flows f: FlowTableStatistics, flowCapacity: Int, alerts d: AlertStage,
                       rules: [(RuleMetadata, Severity)], files: Int, failedFiles: Int) -> String {
        var lines: [String] = []
        lines.append("zonewarden summary: \(files) capture\(files == 1 ? "" : "s")\(failedFiles > 0 ? " (\(failedFiles) with errors)" : ""), \(s.packets) packets, \(s.bytes) bytes")
        let inspected = f.evictedInspected > 0 ? ", \(f.evictedInspected) of them while inspected (flow.evicted_inspected)" : ""
        lines.append("  flows: \(f.created) created, \(f.peak) at most at once, \(f.evicted) evicted\(inspected) (table limit \(flowCapacity)); \(s.packetsWithoutFlow) packets outside flows")
        let errors = s.decodeErrorsByLayer
        if errors.isEmpty {
            lines.append("  decode errors: 0")
        } else {
            lines.append("  decode errors: \(s.decodeErrors) (" + errors.map { "\($0.layer) \($0.count)" }.joined(separator: ", ") + ")")
            for (name, count) in s.anomalyCounts { lines.append("    \(name): \(count)") }
        }
        let detected = d.detectedBySID.values.reduce(0, +)
        let written = d.writtenBySID.values.reduce(0, +)
        let accepted = d.acceptedBySID.values.reduce(0, +)
        let covered = d.dataChannels.coveredBySID.values.reduce(0, +)
        lines.append("  alerts: \(written) written, \(detected - written) suppressed by throttling"
                     + (d.exceptions.map { $0.isEmpty } ?? true ? "" : ", \(accepted) accepted by exceptions")
                     + (covered == 0 ? "" : ", \(covered) on FTP data connections (their session's alerts cover them)"))
        for (meta, severity) in rules {
            let det = d.detectedBySID[meta.sid] ?? 0
            guard det > 0 else { continue }
            let wr = d.writtenBySID[meta.sid] ?? 0
            let name = meta.name.padding(toLength: 36, withPad: " ", startingAt: 0)
            let sev = severity.name.padding(toLength: 9, withPad: " ", startingAt: 0)
            lines.append("    \(meta.sid) \(name) \(sev) \(wr) written, \(det - wr) suppressed")
        }
        if let exceptions = d.exceptions, !exceptions.isEmpty {
            lines.append("  accepted risks (exceptions):")
            let now = AlertExceptions.wallClock()
            for i in exceptions.settings.indices {
                let e = exceptions.settings[i]
                let state = e.isExpired(at: now) ? "expired on \(e.expires!)" : e.expires.map { "until \($0)" } ?? "no expiry"
                lines.append("    \(exceptions.label(i)): \(exceptions.accepted[i]) finding\(exceptions.accepted[i] == 1 ? "" : "s"), \(state); reason: \(e.reason)")
            }
        }
        return lines.joined(separator: "\n")
    }
}
