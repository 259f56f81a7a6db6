import Alerting
import Detect
import Flows

/// The `--summary` report: per-rule counts, packets, flows and decode errors.
public enum Summary {
    public static func render(pipeline: Pipeline, files: Int, failedFiles: Int) -> String {
        let s = pipeline.statistics
        let f = pipeline.flows.statistics
        let d = pipeline.alerts
        var lines: [String] = []
        lines.append("zonewarden summary: \(files) capture\(files == 1 ? "" : "s")\(failedFiles > 0 ? " (\(failedFiles) with errors)" : ""), \(s.packets) packets, \(s.bytes) bytes")
        let inspected = f.evictedInspected > 0 ? ", \(f.evictedInspected) of them while inspected (flow.evicted_inspected)" : ""
        lines.append("  flows: \(f.created) created, \(f.peak) at most at once, \(f.evicted) evicted\(inspected) (table limit \(pipeline.flows.capacity)); \(s.packetsWithoutFlow) packets outside flows")
        let errors = s.decodeErrorsByLayer
        if errors.isEmpty {
            lines.append("  decode errors: 0")
        } else {
            lines.append("  decode errors: \(s.decodeErrors) (" + errors.map { "\($0.layer) \($0.count)" }.joined(separator: ", ") + ")")
            for (name, count) in s.anomalyCounts { lines.append("    \(name): \(count)") }
        }
        let detected = d.detectedBySID.values.reduce(0, +)
        let written = d.writtenBySID.values.reduce(0, +)
        lines.append("  alerts: \(written) written, \(detected - written) suppressed by throttling")
        for (meta, severity) in pipeline.detector.enabledRules {
            let det = d.detectedBySID[meta.sid] ?? 0
            guard det > 0 else { continue }
            let wr = d.writtenBySID[meta.sid] ?? 0
            let name = meta.name.padding(toLength: 36, withPad: " ", startingAt: 0)
            let sev = severity.name.padding(toLength: 9, withPad: " ", startingAt: 0)
            lines.append("    \(meta.sid) \(name) \(sev) \(wr) written, \(det - wr) suppressed")
        }
        return lines.joined(separator: "\n")
    }
}
