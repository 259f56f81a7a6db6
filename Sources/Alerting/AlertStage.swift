import Detect
import Platform
import Synchronization
import Vocabulary
import Zones

/// The alert stage: every detection is counted, repeats of the same finding
/// are throttled, and the rest become alerts (``AlertBuilder``) that every
/// sink formats and writes. A failing sink is recorded (``failure``), never
/// ignored.
///
/// Not thread-safe: one per pipeline.
public final class AlertStage {
    public var sinks: [any AlertSink]
    public let throttle: AlertThrottle
    /// The capture interface the alerts come from (nil for files).
    public var interfaceName: String?
    /// Detections per sid, including throttled ones (not those an exception accepted).
    public private(set) var detectedBySID: [Int: Int] = [:]
    /// The accepted risks (`exceptions:`): what they match is counted there, not written.
    public var exceptions: AlertExceptions?
    /// Findings per sid that an exception accepted.
    public private(set) var acceptedBySID: [Int: Int] = [:]
    /// Data connections that sessions announced: their findings are the session's (``DataChannels``).
    public let dataChannels = DataChannels()
    /// Alerts written so far, for other threads (progress).
    public var alertsWritten: Int { written.load(ordering: .relaxed) }
    private let written = Atomic<Int>(0)
    /// Alerts written per sid.
    public private(set) var writtenBySID: [Int: Int] = [:]
    /// The most severe detection so far (for `--fail-on`).
    public private(set) var highestSeverity: Severity?
    /// The first sink failure. Detection goes on (other sinks may still work,
    /// and a full disk may clear); the caller reports it and ends with status 4.
    public private(set) var failure: SinkError?
    private var communityIDs = CommunityIDCache()
    /// With several capture interfaces: one finding seen on several of them is written once (``releaseHeld(all:)``).
    public var interfaceDeduplication: InterfaceDeduplication?
    /// Where the packets of each finding written are kept (`--evidence`); nil: nowhere, at no cost.
    public var evidence: (any AlertEvidence)?

    /// Alerts the sinks could not write, by sink name (only those that lost any).
    public var unwritten: [(sink: String, count: Int)] {
        sinks.compactMap { $0.unwritten > 0 ? ($0.name, $0.unwritten) : nil }
    }

    public init(sinks: [any AlertSink], throttle: AlertThrottle) {
        self.sinks = sinks
        self.throttle = throttle
    }

    /// Takes the detections of one moment, in order: counts each, throttles
    /// repeats, and writes the rest to every sink. `zones` names their zones.
    public func take(_ detections: [Detection], zones: ZoneMap) {
        for d in detections { take(d, zones: zones) }
    }

    public func take(_ d: Detection, zones: ZoneMap) {
        if dataChannels.covers(d) { return }
        if let exceptions, exceptions.accept(d) != nil {
            acceptedBySID[d.sid, default: 0] += 1
            return
        }
        detectedBySID[d.sid, default: 0] += 1
        if highestSeverity.map({ d.severity > $0 }) ?? true { highestSeverity = d.severity }
        guard let suppressed = throttle.admit(d.finding.key, now: d.subject.timestamp) else { return }
        var alert = AlertBuilder.alert(d, zones: zones, interface: interfaceName, cache: &communityIDs)
        alert.suppressed = suppressed
        if let evidence { alert.pcap = evidence.evidenceFile(for: d) }
        if let dedup = interfaceDeduplication, let name = interfaceName {
            switch dedup.decide(alert, key: d.finding.key, interface: name, now: monotonicSeconds()) {
            case .writeNow(let now): write(now)
            // Counted as written here, by the interface that found it, though another capture thread may write it
            // at the release: the counts per interface never step back (a held alert is no suppressed one).
            case .held: count(alert)
            case .copy: break
            }
            return
        }
        write(alert)
    }

    /// Writes the alerts held for the other interfaces' copies whose time has
    /// come (every one with `all`, at a stop). Called by each capture thread.
    public func releaseHeld(all: Bool = false) {
        guard let dedup = interfaceDeduplication else { return }
        // Counted when they were held.
        for alert in dedup.release(now: monotonicSeconds(), all: all) { write(alert, counted: true) }
    }

    /// Counts an alert as written.
    private func count(_ alert: Alert) {
        writtenBySID[alert.sid, default: 0] += 1
        written.add(1, ordering: .relaxed)
    }

    /// Writes an alert to every sink (and counts it, unless it was counted when held).
    public func write(_ alert: Alert, counted: Bool = false) {
        if !counted { count(alert) }
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

/// Keeps the packets of the findings written (the evidence recorder): the
/// alert stage asks it once for every alert it writes.
public protocol AlertEvidence: AnyObject {
    /// The path of the file that will hold the packets of `detection`'s flow
    /// (or its packet), or nil when there are none.
    func evidenceFile(for detection: Detection) -> String?
}
