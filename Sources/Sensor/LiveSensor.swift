import Alerting
import Capture
import Decode
import Detect
import Evidence
import Flows
import Platform
import Report
import Zones
#if canImport(Glibc)
import Glibc
#endif

/// How `zonewarden run` captures.
public struct LiveSettings: Sendable {
    public var interfaces: [String]
    public var capture = LiveCaptureOptions(snaplen: Int32(SensorSettings().snaplen))
    public var bpf: String?
    /// Seconds between statistics lines, metrics file updates and link reports (5003).
    public var statsInterval = SensorSettings().statsInterval
    public var metricsFile: String?
    /// The account to switch to once the interfaces are open.
    public var user: String?
    /// Where rule 7002 keeps the infrastructure endpoints it has seen.
    public var stateFile: String?
    public var baselineSeconds = SensorSettings().baselineSeconds
    /// The communication report, rewritten every `reportInterval` seconds and at the end.
    public var reportPath: String?
    public var reportFormat: ReportFormat = .html
    public var reportInterval = 300
    /// `zonewarden VERSION`, for the report's coverage.
    public var version = ""
    /// The alert files of the outputs (checked for writing before capturing).
    public var outputPaths: [String] = []
    /// Where every flow's record goes when it ends (`--flow-log`), shared by the capture threads.
    public var flowLog: FlowLog?
    /// Where the packets behind the alerts go (`--evidence`, `sensor.evidence`); opened once privileges are dropped.
    public var evidence = EvidenceSetting()
    /// Whether an interface may get a reading thread of its own (it does when
    /// the machine has two cores or more per interface): one busy interface then keeps two cores busy.
    public var readAhead = true
    /// Analysing threads per interface (`--workers`): 1 is one pipeline on
    /// the capture thread; more share the flows out (``LiveWorkers``), with
    /// a reading thread. Not with `--report` or evidence (one pipeline's).
    public var workers = 1
    public init(interfaces: [String]) { self.interfaces = interfaces }
}

/// The continuous sensor: a capture thread per interface, each with its own
/// pipeline, all feeding the same queued outputs; the main thread waits for
/// signals (SIGINT/SIGTERM stop, SIGUSR2 reloads the configuration, SIGHUP reopens
/// output files) and writes statistics.
public final class LiveSensor {
    private let configPath: String
    private let settings: LiveSettings
    private let outputs: [QueuedOutput]
    private let control: SensorControl
    private let log: @Sendable (String) -> Void
    private var threads: [CaptureThread] = []
    private var endpointMemory: EndpointMemory?
    /// With several interfaces: findings they all saw, written once.
    private var deduplication: InterfaceDeduplication?
    /// The evidence directory the capture threads share (`--evidence`).
    public private(set) var evidenceDirectory: EvidenceDirectory?

    /// The exit statuses `run()` returns, as DESIGN.md's.
    public enum Status: Int32 {
        case stopped = 0
        case configuration = 2
        case capture = 3
        case outputs = 4
    }

    /// How long the outputs get at the stop to deliver what is queued.
    static let outputStopSeconds = 10.0

    /// Stops every output against one deadline, saying so when some still have
    /// alerts to deliver; a second SIGINT or SIGTERM stops at once (what is left
    /// is counted as undelivered, and the exit status is 4).
    private func stopOutputs(_ signals: inout sigset_t) {
        let deadline = monotonicSeconds() + Self.outputStopSeconds
        for o in outputs { o.beginStop(deadline: deadline) }
        let delivering = outputs.filter(\.isStillDelivering)
        if !delivering.isEmpty {
            log("waiting up to \(Int(Self.outputStopSeconds)) s for \(delivering.map(\.name).joined(separator: ", ")) to take the alerts queued; SIGINT or SIGTERM again stops at once")
        }
        while outputs.contains(where: { !$0.hasStopped }) {
            var timeout = timespec(tv_sec: 0, tv_nsec: 50_000_000)
            let signal = sigtimedwait(&signals, nil, &timeout)
            if signal == SIGINT || signal == SIGTERM {
                log("\(signal == SIGINT ? "SIGINT" : "SIGTERM") again: stopping now; the alerts still queued are counted as not delivered")
                for o in outputs { o.hurry() }
                break
            }
        }
        for o in outputs { o.join() }
    }

    public init(configPath: String, zones: ZoneMap, settings: LiveSettings, outputs: [QueuedOutput], log: @escaping @Sendable (String) -> Void) {
        self.configPath = configPath
        self.settings = settings
        self.outputs = outputs
        self.control = SensorControl(zones: zones)
        self.log = log
    }

    /// Blocks SIGINT, SIGTERM, SIGHUP and SIGUSR2 in the calling thread and every thread
    /// it starts from now on. Call it before any thread exists (the outputs'
    /// delivery threads, the flow log's writer): a thread that leaves them
    /// unblocked may be the one the kernel hands a SIGTERM to, and its default
    /// action ends the process before anything is drained or written.
    public static func blockSignals() {
        var signals = stopAndReloadSignals
        pthread_sigmask(SIG_BLOCK, &signals, nil)
    }

    private static var stopAndReloadSignals: sigset_t {
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in [SIGINT, SIGTERM, SIGHUP, SIGUSR2] { sigaddset(&signals, s) }
        return signals
    }

    /// Runs until SIGINT or SIGTERM (or every interface failed).
    public func run() -> Status {
        // Every thread inherits the blocked set: the signals go to sigtimedwait below.
        Self.blockSignals()
        var signals = Self.stopAndReloadSignals

        if let path = settings.stateFile {
            do throws(EndpointMemoryError) {
                endpointMemory = try EndpointMemory(path: path, baselineSeconds: settings.baselineSeconds)
            } catch {
                log(error.description)
                return .configuration
            }
            if endpointMemory!.learning { log("\(path) does not exist yet: learning infrastructure endpoints for \(settings.baselineSeconds) s before rule 7002 reports new ones") }
        }
        // Open every interface first (as root), then give root up.
        var handles: [(String, PcapHandle, LinkLayer)] = []
        for interface in settings.interfaces {
            do throws(CaptureError) {
                let handle = try PcapHandle.openLive(interface, options: settings.capture)
                if let bpf = settings.bpf { try handle.setFilter(bpf) }
                try handle.setNonblocking()
                guard let link = LinkLayer(handle.linkType) else {
                    throw CaptureError(.unsupportedLinkType, source: interface, message: LinkLayer.unsupportedMessage(handle.linkType))
                }
                handles.append((interface, handle, link))
            } catch {
                log(error.description)
                return .capture
            }
        }
        if let user = settings.user, let problem = Privileges.drop(to: user) {
            log(problem)
            return .configuration
        }
        // Read again at every SIGUSR2, as the user the sensor now is.
        if let user = settings.user, access(configPath, R_OK) != 0 {
            log("note: \(configPath) cannot be read as user \(user) (\(String(cString: strerror(errno)))): a reload (SIGUSR2) will keep the running configuration; let that user read it (its group, mode 0640)")
        }
        // Every file the sensor will write, checked as the user it now runs as,
        // before anything is captured: not "Permission denied" every interval later.
        let files = settings.outputPaths.map { ("alert output", $0) }
            + [("metrics file", settings.metricsFile), ("state file", settings.stateFile), ("report", settings.reportPath)].compactMap { k, v in v.map { (k, $0) } }
        for (what, path) in files {
            do throws(SafeFile.Failure) {
                // Replaced whole (metrics, state, report) or reopened after rotation (outputs):
                // the folder must be writable; an output file itself is already open.
                try SafeFile.checkWritable(path, byReplacing: true)
            } catch {
                log("the \(what) cannot be written\(settings.user.map { " as user \($0)" } ?? ""): \(error.description); nothing captured")
                return .outputs
            }
        }
        var evidence: EvidenceDirectory?
        if let dir = settings.evidence.directory {
            do throws(SafeFile.Failure) {
                evidence = try EvidenceDirectory(path: FileIdentity.absolutePath(dir), maximumMegabytes: settings.evidence.maximumMegabytes,
                                                 queueMegabytes: settings.evidence.memoryMegabytes)
            } catch {
                log("the evidence directory cannot be used\(settings.user.map { " as user \($0)" } ?? ""): \(error.description); nothing captured")
                return .outputs
            }
            evidence?.onFirstFailure = { [log] in log($0) }
        }
        evidenceDirectory = evidence
        let zones = control.zones
        // Interfaces that see the same frames (a bridge and its port) find the same things: written once.
        deduplication = handles.count > 1 ? InterfaceDeduplication() : nil
        // A reading thread per interface when each can have a core of its own besides its analysis.
        let readAhead = settings.readAhead && handles.count * 2 <= availableCores()
        // Several workers share out one pipeline's work; the report and evidence are one pipeline's (the command refuses them together).
        let workers = evidence == nil && settings.reportPath == nil ? settings.workers : 1
        for (interface, handle, link) in handles {
            let alerts = AlertStage(sinks: outputs, throttle: AlertThrottle(windowSeconds: zones.config.sensor.alertThrottleSeconds))
            alerts.interfaceDeduplication = deduplication
            let analysis: CaptureThread.Analysis
            do throws(ConfigErrors) {
                alerts.exceptions = try AlertExceptions(zones)
                if workers > 1 {
                    let sharded = try ShardedAnalysis(zones: zones, alerts: alerts, workers: workers, filter: nil, endpointMemory: endpointMemory)
                    sharded.flowLog = settings.flowLog
                    analysis = .workers(sharded)
                } else {
                    let pipeline = try Pipeline(zones: zones, alerts: alerts, endpointMemory: endpointMemory)
                    pipeline.flowLog = settings.flowLog
                    if let evidence {
                        pipeline.attachEvidence(evidence, packetsPerFlow: settings.evidence.packetsPerFlow, memoryBytes: settings.evidence.memoryMegabytes << 20)
                    }
                    analysis = .one(pipeline)
                }
            } catch {
                for e in error.errors { log(e.description) }
                return .configuration
            }
            let thread = CaptureThread(interface: interface, handle: handle, link: link, analysis: analysis, control: control,
                                       endpointMemory: endpointMemory, statsInterval: Double(settings.statsInterval),
                                       reportInterval: settings.reportPath == nil ? nil : Double(settings.reportInterval), log: log)
            thread.readsAhead = readAhead
            threads.append(thread)
        }
        for t in threads where !t.start() {
            log("\(t.interface): cannot start a capture thread")
            return .capture
        }
        log("capturing on \(settings.interfaces.joined(separator: ", ")) with \(configPath)\(workers > 1 ? " (\(workers) workers\(handles.count > 1 ? " each" : ""))" : ""); alerts to \(outputs.map(\.name).joined(separator: ", "))")
        if let exceptions = try? AlertExceptions(zones) { for note in exceptions.expiryNotes() + exceptions.warnings() { log("note: \(note)") } }

        var nextReport = monotonicSeconds() + Double(settings.statsInterval)
        var nextCommunicationReport = monotonicSeconds() + Double(settings.reportInterval)
        var allFailed = false
        while true {
            if settings.reportPath != nil && monotonicSeconds() >= nextCommunicationReport {
                nextCommunicationReport += Double(settings.reportInterval)
                writeCommunicationReport()
            }
            let wait = max(0.05, min(1, nextReport - monotonicSeconds()))
            var timeout = timespec(tv_sec: Int(wait), tv_nsec: Int((wait - Double(Int(wait))) * 1e9))
            let signal = sigtimedwait(&signals, nil, &timeout)
            if signal == SIGINT || signal == SIGTERM {
                log("\(signal == SIGINT ? "SIGINT" : "SIGTERM"): stopping")
                break
            }
            // As Suricata: SIGHUP is log rotation, SIGUSR2 a new configuration.
            if signal == SIGHUP { reopenFiles() }
            if signal == SIGUSR2 { reload() }
            watchLinks()
            if threads.allSatisfy({ !$0.snapshot.running && $0.snapshot.failure != nil }) {
                allFailed = true
                log("every interface has failed: stopping")
                break
            }
            if monotonicSeconds() >= nextReport {
                nextReport += Double(settings.statsInterval)
                report(final: false)
            }
        }

        control.stopTime.store(CaptureThread.wallClock(), ordering: .releasing)
        control.stopping.store(true, ordering: .releasing)
        for t in threads { t.interrupt() }
        for t in threads { t.join() }
        evidenceDirectory?.stop()
        stopOutputs(&signals)
        settings.flowLog?.stop()
        report(final: true)
        writeCommunicationReport()
        if allFailed { return .capture }
        if let flowLog = settings.flowLog, let failure = flowLog.failure {
            log("flow log \(flowLog.name): \(failure); \(flowLog.unwritten) flow records not written")
            return .outputs
        }
        return outputs.contains { $0.statistics.fellShort } ? .outputs : .stopped
    }

    /// SIGHUP (logrotate): the alert files are reopened by their output
    /// threads, which say whether that worked, and the flow log between two
    /// batches. Nothing else changes: flows, inspections and the running
    /// report go on.
    private func reopenFiles() {
        for o in outputs { o.reopen() }
        if let flowLog = settings.flowLog {
            if let problem = flowLog.reopen() {
                log("SIGHUP: flow log \(flowLog.name): cannot reopen after rotation: \(problem); records still go to the file opened before")
            } else {
                log("flow log \(flowLog.name): reopened")
            }
        }
    }

    /// SIGUSR2: the configuration is read and checked; only a valid one
    /// replaces the running one. The flows and their inspections go on and
    /// are judged by the new zones from their next packet; the running
    /// report goes on under the new zone names.
    private func reload() {
        let config: ZoneConfig
        do throws(ConfigErrors) {
            config = try ZoneConfig.load(path: configPath, rules: RuleRegistry.catalogue, alsoChecking: OutputSettingsCheck.errors)
        } catch {
            for e in error.errors { log("SIGUSR2: \(e.description)") }
            log("SIGUSR2: \(configPath) has errors; keeping the running configuration")
            return
        }
        let zones = ZoneMap(config)
        do throws(ConfigErrors) {
            try SensorConfiguration.validate(zones)
        } catch {
            for e in error.errors { log("SIGUSR2: \(e.description)") }
            log("SIGUSR2: \(configPath) has errors; keeping the running configuration")
            return
        }
        let old = control.zones.config.sensor, new = config.sensor
        control.replace(zones)
        let afresh = old.maxFlows != new.maxFlows || old.streamWindow != new.streamWindow
        let resized = [("sensor.max_flows", old.maxFlows != new.maxFlows), ("sensor.stream_window", old.streamWindow != new.streamWindow)].filter(\.1).map(\.0)
        log("SIGUSR2: \(configPath) reloaded (\(config.summary(withOutputs: false))); " + (afresh ? "the flows start afresh (\(resized.joined(separator: " and ")) changed)" : "flows go on"))
        // What a reload cannot change is said, not silently left as it was.
        var restart: [String] = []
        if old.interfaces != new.interfaces { restart.append("sensor.interfaces") }
        if old.snaplen != new.snaplen { restart.append("sensor.snaplen") }
        if old.promiscuous != new.promiscuous { restart.append("sensor.promiscuous") }
        if old.bufferSize != new.bufferSize { restart.append("sensor.buffer_size") }
        if old.outputs != new.outputs { restart.append("sensor.outputs") }
        if old.flowLog != new.flowLog { restart.append("sensor.flow_log") }
        if old.evidence != new.evidence { restart.append("sensor.evidence") }
        if old.stateFile != new.stateFile { restart.append("sensor.state_file") }
        if !restart.isEmpty { log("SIGUSR2: note: \(restart.joined(separator: ", ")) changed: in force from the next start, not now") }
        if let exceptions = try? AlertExceptions(zones) { for note in exceptions.expiryNotes() + exceptions.warnings() { log("note: \(note)") } }
    }

    /// The communication report of every interface, merged, written whole.
    private func writeCommunicationReport() {
        guard let path = settings.reportPath else { return }
        var merged: CommunicationReport? = nil
        for t in threads {
            guard let r = t.communicationReport else { continue }
            if merged == nil { merged = r } else { merged!.merge(r) }
        }
        guard var report = merged else { return }
        report.captures = settings.interfaces
        report.sensorVersion = settings.version
        // Evidence linked relative to the report (pcap_link), as report writes it; 7002 runs only with a state file.
        report.outputPath = path
        if settings.stateFile == nil { report.inertRules = [7002] }
        writeOwnFile("report") { try SafeFile.replace(path, with: settings.reportFormat.render(report), mode: SafeFile.privateMode) }
    }

    /// Tables already said to have run full (interface and table name).
    private var warned = Set<String>()
    /// Interfaces whose link is down (not up, or no carrier): said once when it
    /// goes and once when it comes back, and `capture_running` is 0 meanwhile.
    private var linksDown = Set<String>()
    private var nextLinkCheck = 0.0

    /// Asks the kernel, about once a second, whether each interface's link is up:
    /// a link that goes down leaves libpcap waiting without an error.
    private func watchLinks() {
        let now = monotonicSeconds()
        guard now >= nextLinkCheck else { return }
        nextLinkCheck = now + 1
        for t in threads where t.snapshot.running {
            guard let up = LinkState.isUp(t.interface) else { continue }
            if !up && linksDown.insert(t.interface).inserted {
                log("\(t.interface): the link is down: nothing is captured on it until it is up again")
            } else if up && linksDown.remove(t.interface) != nil {
                log("\(t.interface): the link is up again")
            }
        }
    }
    /// Failed writes of the sensor's own files, by file; those failing now are said once.
    private var fileFailures: [String: UInt64] = [:]
    private var failing = Set<String>()

    /// Writes one of the sensor's own files: a failure is counted and said
    /// once, until the file can be written again.
    private func writeOwnFile(_ file: String, _ write: () throws -> Void) {
        do {
            try write()
            if failing.remove(file) != nil { log("\(file) written again") }
        } catch {
            fileFailures[file, default: 0] += 1
            if failing.insert(file).inserted { log("\(error); said once, counted in zonewarden_file_write_failures_total") }
        }
    }

    /// Statistics on the log, the metrics file and the endpoint state file.
    private func report(final: Bool) {
        // A link that is down captures nothing: the gauge says so (the thread itself still waits on it).
        let interfaces = threads.map { t in
            var s = t.snapshot
            s.linkDown = linksDown.contains(s.interface)
            return s
        }
        for s in interfaces {
            for w in s.tableWarnings where warned.insert("\(s.interface) \(w.name)").inserted { log("\(s.interface): note: \(w.text)") }
        }
        if let memory = endpointMemory, memory.full, warned.insert("endpoints").inserted {
            log("note: the endpoint memory is full (\(memory.limit) addresses): rule 7002 neither remembers nor reports new ones")
        }
        let outputStats = outputs.map(\.statistics)
        let rules = RuleRegistry.all.map { $0.metadata }
        for line in SensorReport.lines(interfaces, outputStats, rules: rules) { log((final ? "final: " : "") + line) }
        if final { for line in SensorReport.exceptionLines(interfaces) { log("final: " + line) } }
        if let duplicates = deduplication?.duplicates, duplicates > 0 {
            log((final ? "final: " : "") + "findings seen on several interfaces: \(duplicates) cop\(duplicates == 1 ? "y" : "ies") not written (the first interface's alert names them in seen_on)")
        }
        if let e = evidenceDirectory?.statistics, e.written + e.failed + e.tooLarge > 0 {
            var line = "evidence \(evidenceDirectory!.path): \(e.written) files written, \(e.files) held (\(e.bytesHeld) bytes), \(e.removed) older removed"
            if e.failed + e.tooLarge > 0 { line += ", \(e.failed + e.tooLarge) not written (first: \(e.firstFailure ?? "larger than sensor.evidence.max_megabytes"))" }
            log((final ? "final: " : "") + line)
        }
        if let memory = endpointMemory {
            writeOwnFile("state file") { try memory.save() }
        }
        if let path = settings.metricsFile {
            // Each file the sensor writes has its counter's sample from the start (0), not only from its first failure.
            for (file, written) in [("metrics file", true), ("state file", endpointMemory != nil), ("report", settings.reportPath != nil)] where written {
                if fileFailures[file] == nil { fileFailures[file] = 0 }
            }
            let failures = fileFailures.sorted { $0.key < $1.key }.map { (file: $0.key, count: $0.value) }
            writeOwnFile("metrics file") {
                try SafeFile.replace(path, with: SensorReport.prometheus(interfaces, outputStats, rules: rules, fileWriteFailures: failures,
                                                                  interfaceDuplicates: deduplication?.duplicates,
                                                                  evidence: evidenceDirectory?.statistics),
                                     mode: SafeFile.publicMode)
            }
        }
    }
}
