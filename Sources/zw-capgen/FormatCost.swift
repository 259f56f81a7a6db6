import Alerting
import ArgumentParser
import Detect
import Foundation
import Platform
import Sensor
import Zones

/// The cost of formatting and writing one alert, alone: the alerts of a
/// capture are collected in memory first, then written again and again
/// through the sink `zonewarden analyze -o` uses, to /dev/null. For
/// `scripts/bench`, whose budget is 2 µs for an EVE alert.
struct FormatCost: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "format-cost",
        abstract: "Time formatting and writing the alerts of a capture, per format (nanoseconds per alert).")

    @Option(name: .shortAndLong, help: "Zone configuration.")
    var config: String

    @Option(help: "Formats to time (default: all).")
    var format: [String] = []

    @Option(help: "Seconds to spend on each format (the fastest of five rounds is reported).")
    var seconds: Double = 0.5

    @Flag(help: "Also time writing each finding once when two interfaces find it (`run -i br0 -i PORT`): both offers and the release.")
    var deduplication = false

    @Argument(help: "A capture that raises alerts.")
    var capture: String

    final class Collector: AlertSink {
        let name = "<memory>"
        var alerts: [Alert] = []
        func write(_ alert: Alert) throws(SinkError) { alerts.append(alert) }
        func flush() throws(SinkError) {}
    }

    func run() throws {
        let zones = ZoneMap(try ZoneConfig.load(path: config))
        let collector = Collector()
        let pipeline = try Pipeline(zones: zones, alerts: AlertStage(sinks: [collector], throttle: AlertThrottle(windowSeconds: 0)))
        if let error = OfflineAnalysis(pipeline: pipeline, filter: nil).run(path: capture) { throw ValidationError(error.description) }
        pipeline.finish()
        let alerts = collector.alerts
        guard !alerts.isEmpty else { throw ValidationError("\(capture) raises no alerts with \(config)") }
        let formats = format.isEmpty ? AlertFormat.all : try format.map { name in
            guard let f = AlertFormat(name: name) else { throw ValidationError("unknown format \(name)") }
            return f
        }
        let context = FormatContext(hostname: "sensor", processID: 1)
        for f in formats {
            let sink = LineSink(output: try FileOutput(path: "/dev/null", append: true), format: f, context: context)
            var best = Double.infinity
            for _ in 0..<5 {
                var written = 0
                let start = monotonicSeconds()
                while monotonicSeconds() - start < seconds / 5 {
                    for a in alerts { try sink.write(a) }
                    written += alerts.count
                }
                try sink.flush()
                best = min(best, (monotonicSeconds() - start) / Double(written))
            }
            print("\(f.name) \(Int((best * 1e9).rounded())) ns per alert (\(alerts.count) distinct alerts)")
        }
        if deduplication {
            let keys = alerts.map { FindingKey(sid: $0.sid, first: $0.sourceIP ?? .zero, second: $0.destinationIP ?? .zero, detail: UInt64($0.destinationPort ?? 0)) }
            var best = Double.infinity
            for _ in 0..<5 {
                var found = 0
                let start = monotonicSeconds()
                while monotonicSeconds() - start < seconds / 5 {
                    let dedup = InterfaceDeduplication(holdSeconds: 0)
                    for (a, k) in zip(alerts, keys) {
                        _ = dedup.offer(a, key: k, interface: "br0", now: 0)
                        _ = dedup.offer(a, key: k, interface: "port", now: 0)
                    }
                    _ = dedup.release(now: 1, all: true)
                    found += alerts.count
                }
                best = min(best, (monotonicSeconds() - start) / Double(found))
            }
            print("two interfaces: \(Int((best * 1e9).rounded())) ns per finding to write it once (two copies offered, one released; \(alerts.count) distinct alerts)")
        }
    }
}
