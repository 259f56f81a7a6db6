import Zones

/// The last stage: counts detections, throttles repeats and hands alerts to
/// every sink. A failing sink is recorded (``failure``), never ignored.
///
/// Not thread-safe.
public final class AlertDispatcher {
    public var sinks: [any AlertSink]
    public let throttle: AlertThrottle
    /// Detections per sid, including throttled ones.
    public private(set) var detectedBySID: [Int: Int] = [:]
    /// Alerts written per sid.
    public private(set) var writtenBySID: [Int: Int] = [:]
    /// The most severe detection so far (for `--fail-on`).
    public private(set) var highestSeverity: Severity?
    /// The first sink failure; once set, the caller should stop and report it.
    public private(set) var failure: SinkError?

    public init(sinks: [any AlertSink], throttle: AlertThrottle) {
        self.sinks = sinks
        self.throttle = throttle
    }

    /// Counts the detection and, unless throttled, writes it to every sink.
    public func dispatch(_ alert: Alert, key: ThrottleKey) {
        detectedBySID[alert.sid, default: 0] += 1
        if highestSeverity.map({ alert.severity > $0 }) ?? true { highestSeverity = alert.severity }
        guard let suppressed = throttle.admit(key, now: alert.timestamp) else { return }
        var alert = alert
        alert.suppressed = suppressed
        writtenBySID[alert.sid, default: 0] += 1
        for sink in sinks {
            do throws(SinkError) {
                try sink.write(alert)
            } catch {
                if failure == nil { failure = error }
            }
        }
    }

    /// Flushes every sink; the first failure is recorded.
    public func flush() {
        for sink in sinks {
            do throws(SinkError) {
                try sink.flush()
            } catch {
                if failure == nil { failure = error }
            }
        }
    }
}
