import Alerting
import Detect
import Evidence

/// The live sensor's statistics: one line per interface and output for the
/// log, and the Prometheus text format for node_exporter's textfile collector.
public enum SensorReport {
    /// The findings each exception accepted, summed over the interfaces (the
    /// sensor's last lines: the accepted risks, counted per exception as the metrics count them).
    public static func exceptionLines(_ interfaces: [InterfaceSnapshot]) -> [String] {
        var accepted: [String: Int] = [:]
        for s in interfaces { for (label, n) in s.accepted { accepted[label, default: 0] += n } }
        return accepted.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "exception \($0.key): \($0.value) finding\($0.value == 1 ? "" : "s") accepted" }
    }

    /// One line per interface and per output.
    public static func lines(_ interfaces: [InterfaceSnapshot], _ outputs: [OutputStatistics], rules: [RuleMetadata]) -> [String] {
        var lines: [String] = []
        for s in interfaces {
            var line = "\(s.interface): "
            if let c = s.capture {
                line += "\(c.received) received, \(c.droppedByKernel) dropped by the kernel, \(c.droppedByInterface) by the interface; "
            }
            line += "\(s.packets) decoded, \(s.decodeErrors) decode errors; \(s.activeFlows) flows (\(s.flowsCreated) created, \(s.flowsEvicted) evicted"
            if s.flowsEvictedInspected > 0 { line += ", \(s.flowsEvictedInspected) of them while inspected: flow.evicted_inspected" }
            line += "); "
            let written = s.written.values.reduce(0, +), detected = s.detected.values.reduce(0, +)
            // The counts per rule are of the alerts written; the suppressed are repeats the throttle held back.
            line += "alerts \(written) written"
            if !s.written.isEmpty {
                line += " (by rule " + s.written.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + ")"
            }
            line += ", \(detected - written) suppressed by throttling"
            let accepted = s.accepted.values.reduce(0, +)
            if accepted > 0 { line += ", \(accepted) accepted by exceptions" }
            if let f = s.failure { line += "; stopped: \(f)" } else if s.linkDown { line += "; the link is down" }
            lines.append(line)
        }
        for o in outputs {
            var line = "output \(o.name): \(o.delivered) delivered, \(o.queued) queued"
            if o.droppedQueueFull > 0 { line += ", \(o.droppedQueueFull) dropped (queue full)" }
            if o.failed > 0 { line += ", \(o.failed) failed" }
            if o.resent > 0 { line += ", \(o.resent) sent again after a broken connection" }
            if o.possiblyLost > 0 { line += ", \(o.possiblyLost) possibly lost (\(o.possiblyLostReason))" }
            if o.undelivered > 0 { line += ", \(o.undelivered) undelivered at stop" }
            if o.reopenFailures > 0 { line += ", \(o.reopenFailures) failed reopen\(o.reopenFailures == 1 ? "" : "s")" }
            if o.refusedSessions > 0 { line += ", \(o.refusedSessions) TLS session\(o.refusedSessions == 1 ? "" : "s") refused (certificate check)" }
            if o.failing, let e = o.lastError { line += "; failing: \(e)" }
            lines.append(line)
        }
        return lines
    }

    /// The Prometheus text exposition format.
    /// - Parameter fileWriteFailures: failed writes of the sensor's own files
    ///   (metrics, state, report), by file.
    public static func prometheus(_ interfaces: [InterfaceSnapshot], _ outputs: [OutputStatistics], rules: [RuleMetadata],
                                  fileWriteFailures: [(file: String, count: UInt64)] = [], interfaceDuplicates: Int? = nil,
                                  evidence: EvidenceDirectory.Statistics? = nil) -> String {
        var text = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            text += "# HELP zonewarden_\(name) \(help)\n# TYPE zonewarden_\(name) \(type)\n"
            // A sample without labels is written without braces, as Prometheus's own exporters do.
            for s in samples { text += "zonewarden_\(name)\(s.labels.isEmpty ? "" : "{\(s.labels)}") \(s.value)\n" }
        }
        func label(_ key: String, _ value: String) -> String {
            "\(key)=\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n") + "\""
        }
        let names = Dictionary(uniqueKeysWithValues: rules.map { ($0.sid, $0.name) })
        metric("packets_received_total", "counter", "Packets the kernel received on the interface (pcap_stats).",
               interfaces.compactMap { s in s.capture.map { (label("interface", s.interface), "\($0.received)") } })
        metric("packets_dropped_total", "counter", "Packets dropped before the sensor saw them (pcap_stats), by where.",
               interfaces.flatMap { s in s.capture.map { [(label("interface", s.interface) + ",by=\"kernel\"", "\($0.droppedByKernel)"),
                                                             (label("interface", s.interface) + ",by=\"interface\"", "\($0.droppedByInterface)")] } ?? [] })
        metric("packets_decoded_total", "counter", "Packets the sensor decoded.", interfaces.map { (label("interface", $0.interface), "\($0.packets)") })
        metric("bytes_total", "counter", "Bytes on the wire of the packets decoded.", interfaces.map { (label("interface", $0.interface), "\($0.bytes)") })
        metric("decode_errors_total", "counter", "Packets with a decode anomaly.", interfaces.map { (label("interface", $0.interface), "\($0.decodeErrors)") })
        metric("flows_active", "gauge", "Flows in the flow table.", interfaces.map { (label("interface", $0.interface), "\($0.activeFlows)") })
        metric("flows_created_total", "counter", "Flows created.", interfaces.map { (label("interface", $0.interface), "\($0.flowsCreated)") })
        metric("flows_evicted_total", "counter", "Flows evicted because the table was full.", interfaces.map { (label("interface", $0.interface), "\($0.flowsEvicted)") })
        metric("flows_evicted_inspected_total", "counter", "Evicted flows an application inspection was following (a login in progress): a flood may have pushed them out.",
               interfaces.map { (label("interface", $0.interface), "\($0.flowsEvictedInspected)") })
        metric("alerts_total", "counter", "Alerts written, by rule.", interfaces.flatMap { s in
            s.written.sorted { $0.key < $1.key }.map { (label("interface", s.interface) + ",sid=\"\($0.key)\"," + label("rule", names[$0.key] ?? "?"), "\($0.value)") }
        })
        metric("alerts_suppressed_total", "counter", "Repeats of an alert counted but not written (throttling), by rule.", interfaces.flatMap { s in
            s.detected.sorted { $0.key < $1.key }.map { (label("interface", s.interface) + ",sid=\"\($0.key)\"," + label("rule", names[$0.key] ?? "?"), "\($0.value - (s.written[$0.key] ?? 0))") }
        })
        metric("exception_findings_total", "counter", "Findings an exception (accepted risk) kept from being written, by exception (file:line and what it accepts).",
               interfaces.flatMap { s in s.accepted.sorted { $0.key < $1.key }.map { (label("interface", s.interface) + "," + label("exception", $0.key), "\($0.value)") } })
        if let interfaceDuplicates {
            metric("interface_duplicates_total", "counter", "Copies of a finding that several interfaces saw (the same frames), not written: another interface's alert names them in seen_on. They count as suppressed on their interface too.",
                   [("", "\(interfaceDuplicates)")])
        }
        if let e = evidence {
            metric("evidence_files_total", "counter", "Evidence pcap files written (--evidence).", [("", "\(e.written)")])
            metric("evidence_failures_total", "counter", "Evidence files that could not be written (full disk, no permission, larger than the directory's bound); their alerts were written.",
                   [("", "\(e.failed + e.tooLarge)")])
            metric("evidence_removed_total", "counter", "Older evidence files removed to keep the directory under sensor.evidence.max_megabytes.", [("", "\(e.removed)")])
            metric("evidence_bytes", "gauge", "Bytes of the pcap files in the evidence directory.", [("", "\(e.bytesHeld)")])
        }
        metric("capture_running", "gauge", "1 while the interface is being captured (0 when its capture failed or its link is down).", interfaces.map { (label("interface", $0.interface), $0.running && !$0.linkDown ? "1" : "0") })
        metric("output_messages_total", "counter", "Alert messages per output and what became of them.", outputs.flatMap { o in
            [("delivered", o.delivered), ("dropped_queue_full", o.droppedQueueFull), ("failed", o.failed), ("resent", o.resent),
             ("possibly_lost", o.possiblyLost), ("undelivered", o.undelivered)].map { (label("output", o.name) + ",state=\"\($0.0)\"", "\($0.1)") }
        })
        metric("output_queue_length", "gauge", "Alert messages waiting for an output.", outputs.map { (label("output", $0.name), "\($0.queued)") })
        metric("output_failing", "gauge", "1 while an output cannot deliver.", outputs.map { (label("output", $0.name), $0.failing ? "1" : "0") })
        metric("file_write_failures_total", "counter", "Failed writes of the sensor's own files (metrics, endpoint state, communication report), by file.",
               fileWriteFailures.map { (label("file", $0.file), "\($0.count)") })
        metric("output_tls_refused_total", "counter", "TLS sessions refused because the collector's certificate failed the check (wrong CA, wrong name, expired); nothing was sent on them.",
               outputs.map { (label("output", $0.name), "\($0.refusedSessions)") })
        metric("output_reopen_failures_total", "counter", "Reopens of an output file (SIGHUP, log rotation) that failed.",
               outputs.map { (label("output", $0.name), "\($0.reopenFailures)") })
        return text
    }
}
