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
        guard let suppressed = admit(sid: alert.sid, severity: alert.severity, timestamp: alert.timestamp, key: key) else { return }
        var alert = alert
        alert.suppressed = suppressed
        write(alert)
    }

    /// Counts a detection and asks the throttle about it: the number of repeats
    /// suppressed before it (build the alert and ``write(_:)`` it), or nil when
    /// it is a repeat. A repeat then costs a table lookup, not an alert's strings.
    public func admit(sid: Int, severity: Severity, timestamp: UInt64, key: ThrottleKey) -> Int? {
        detectedBySID[sid, default: 0] += 1
        if highestSeverity.map({ severity > $0 }) ?? true { highestSeverity = severity }
        return throttle.admit(key, now: timestamp)
    }

    /// Writes an admitted alert to every sink.
    public func write(_ alert: Alert) {
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
