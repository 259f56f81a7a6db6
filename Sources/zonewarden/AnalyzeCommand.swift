import Foundation
import Alerting
import ArgumentParser
import Capture
import Detect
import Evidence
import Platform
import Sensor
import Vocabulary
import Zones
#if canImport(Glibc)
import Glibc
#endif

struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Analyse pcap/pcapng files and print alerts.",
        discussion: """
        Reads each capture in turn (use - for standard input; folders are walked \
        recursively and their captures recognised by their first bytes; gzip, \
        zstd, xz and lz4 files are decompressed as they are read), decodes VLAN/QinQ \
        stacks, MPLS, VXLAN, Geneve, GRE/ERSPAN and IP-in-IP tunnels, sorts every \
        flow into the zones of the configuration and reports the rules it breaks. \
        Flows carry over from one file to the next, as for a rotated capture; \
        files are read in the order of their first packets (said on standard \
        error when that is not the order given).

        A capture that cannot be read (missing, not a capture, truncated, an \
        unsupported link type) is reported on one line naming the file and, for a \
        corrupt file, the packet; the other files are still analysed, every alert \
        before the fault is still written, and the exit status is 3.

        Example:
          zonewarden analyze -c config/example.yaml Captures/example-site.pcap
          zonewarden analyze -c site.yaml --format eve -o eve.json \\
              --summary day1/*.pcap
          zonewarden analyze -c site.yaml --syslog relp://10.0.9.5:2514 audit.pcapng
          zonewarden analyze -c site.yaml --since 2026-11-01 --until 2026-11-08 \\
              --summary /srv/mirror/
        """,
        aliases: ["analyse"]
    )

    @OptionGroup var alertOptions: AlertOptions

    @OptionGroup var archiveOptions: ArchiveOptions

    @Option(name: .customLong("fail-on"), help: ArgumentHelp("Exit with status 1 if an alert of this severity or higher was raised: critical, high, medium or low.", valueName: "SEVERITY"))
    var failOn: Severity?

    static let defaultSyslogTimeout: Double = 30

    /// Without --syslog-timeout, a collector that has taken nothing and cannot be reached is given this long.
    static let unreachableSyslogTimeout: Double = 3

    @Option(name: .customLong("syslog-timeout"), help: ArgumentHelp("Seconds to wait at the end for the collectors to take (and, over RELP, acknowledge) every alert (default \(Int(defaultSyslogTimeout)); without this option, a collector that could never be reached is given up after \(Int(unreachableSyslogTimeout)) s).", valueName: "SECONDS"))
    var syslogTimeout: Double?

    @Flag(help: "Print per-rule counts, packets, flows and decode errors on standard error at the end, then a line per capture file (packets, first and last packet, decode errors, what else became of it).")
    var summary = false

    @Option(parsing: .unconditional, help: ArgumentHelp("Analysing threads, 1-\(maximumWorkers) (default: one per core beyond the one that reads the files, at least 1). The flows are shared out among them by a hash of each flow; what they find is merged in capture order, so the alerts are those of one thread. Standard input is analysed by one.", valueName: "N"))
    var workers: Int?

    @Argument(help: ArgumentHelp("pcap or pcapng files (gzip, zstd, xz or lz4 compressed too) or folders of them; - reads standard input (compressed or not).", valueName: "PCAP"), completion: .file())
    var captures: [String]

    func validate() throws {
        if captures.isEmpty { throw ValidationError("give at least one capture file or folder (or - for standard input)") }
        if captures.filter({ $0 == "-" }).count > 1 { throw ValidationError("standard input (-) can be read only once") }
        if let syslogTimeout, !(0...3600).contains(syslogTimeout) { throw ValidationError("--syslog-timeout must be 0-3600 seconds") }
        if syslogTimeout != nil && alertOptions.syslog.isEmpty { throw ValidationError("--syslog-timeout applies to --syslog destinations, and none is given") }
        if let workers, !(1...maximumWorkers).contains(workers) { throw ValidationError("--workers must be 1-\(maximumWorkers), not \(workers)") }
    }

    func run() throws {
        let options = alertOptions
        let zones = try loadZones(options.config)
        if let bpf = options.bpf, let problem = PcapHandle.filterError(bpf) {
            writeError("zonewarden: --bpf \"\(bpf)\": \(problem)")
            throw ExitCode(ExitStatus.usage)
        }
        let flowLogPath = options.flowLog ?? zones.config.sensor.flowLog
        let flowLogLabel = options.flowLog != nil ? "--flow-log" : "sensor.flow_log"
        let evidenceSetting = zones.config.sensor.evidence
        let evidencePath = options.evidence ?? evidenceSetting.directory
        let evidenceLabel = options.evidence != nil ? "--evidence" : "sensor.evidence.dir"
        try refuseSharedPaths([("-o", options.output), (flowLogLabel, flowLogPath)], inputs: captures, configuration: options.config,
                              evidence: (evidenceLabel, evidencePath))
        if evidencePath != nil, let workers, workers > 1 {
            writeError("zonewarden: \(evidenceLabel) keeps each flow's packets in one pipeline: give --workers 1 (or leave it out)")
            throw ExitCode(ExitStatus.usage)
        }
        // The flow log is opened after the alerts' file: one it cannot open must not have emptied that file first.
        if let flowLogPath, flowLogPath != "-" {
            do throws(SafeFile.Failure) {
                try SafeFile.checkWritable(flowLogPath)
            } catch {
                writeError("zonewarden: \(flowLogLabel): \(error)")
                throw ExitCode(ExitStatus.usage)
            }
        }
        // Whatever can still be refused is refused before -o is opened: a usage error must not empty the file.
        // SIGINT and SIGTERM stop the analysis; every alert found is still written.
        StopSignals.blockForNewThreads()
        let collectors = try makeOutputs(options.syslogDestinations, queueSize: 1_000_000, context: .current(zones.config))
        StopSignals.install()
        let exceptions = try acceptedRisks(zones)
        let evidenceOpening = try openEvidence(evidencePath, label: evidenceLabel, maximumMegabytes: evidenceSetting.maximumMegabytes,
                                               queueMegabytes: evidenceSetting.memoryMegabytes)
        let evidence = evidenceOpening.directory
        let alerts = AlertStage(sinks: collectors, throttle: AlertThrottle(windowSeconds: zones.config.sensor.alertThrottleSeconds))
        alerts.exceptions = exceptions
        // Several workers read regular files; a stream is read by one (its reads may block a stop).
        let threads = captures.contains(where: CaptureArchive.isStream) || evidence != nil ? 1 : workers ?? defaultWorkers
        if let note = workersTableNote(maxFlows: zones.config.sensor.maxFlows, workers: threads) { writeError(note) }
        let analysis = try Analysis(zones: zones, alerts: alerts, workers: threads, filter: options.bpf)
        if let evidence {
            analysis.pipeline?.attachEvidence(evidence, packetsPerFlow: evidenceSetting.packetsPerFlow, memoryBytes: evidenceSetting.memoryMegabytes << 20)
        }
        var failed = 0
        // Files and folders are one capture read in time order, whatever order they were given in
        // (no capture file at all is said here, and -o is left as it was).
        let (archive, accounts, meter) = try openArchive(captures, archiveOptions, alerts: alerts, writingToStandardOutput: options.output == nil || options.output == "-")
        // Not one capture can be read (missing, not a capture, a link type not decoded): said, and
        // -o and the flow log are left as they were (a mistyped name must not empty the last run's alerts).
        if !captures.contains(where: CaptureArchive.isStream) {
            var errors: [CaptureError] = []
            for file in archive.files {
                guard let error = OfflineAnalysis.openError(file.path) else {
                    errors = []
                    break
                }
                errors.append(error)
            }
            if !errors.isEmpty {
                for error in errors { writeError(error.description) }
                throw ExitCode(ExitStatus.captureUnreadable)
            }
        }
        let out: FileOutput
        if let output = options.output, output != "-" {
            do throws(SinkError) {
                out = try FileOutput(path: output, append: false)
            } catch {
                writeError("zonewarden: \(error)")
                throw ExitCode(ExitStatus.usage)
            }
        } else {
            out = FileOutput.standardOutput()
        }
        // Reading a stream (tcpdump -w - | zonewarden analyze -), each alert goes out as it is found.
        if captures.contains(where: CaptureArchive.isStream) { out.flushEachWrite = true }
        // With a core to spare the alerts are formatted and written by a thread of their own.
        let sink: any AlertSink = availableCores() > 1 ? BackgroundLineSink(output: out, format: options.format, context: .current(zones.config))
            : LineSink(output: out, format: options.format, context: .current(zones.config))
        alerts.sinks.insert(sink, at: 0)
        let flowLog = try openFlowLog(flowLogPath, label: flowLogLabel, append: false, alertsOnStandardOutput: options.output == nil || options.output == "-")
        analysis.flowLog = flowLog
        analysis.window = archiveOptions.window
        analysis.accounts = accounts
        analysis.link = continuousLinkName(captures, archive)
        meter?.start()
        defer { meter?.stop() }
        // Where the next file read begins: a file that goes on past it is merged with it.
        let nextStarts = archive.files.indices.map { i in archive.files[(i + 1)...].first { !$0.outsideWindow }?.first }
        for (index, file) in archive.files.enumerated() {
            if file.outsideWindow {
                accounts.skipped(file.path)
                meter?.fileDone(bytes: 0, packets: 0)
                continue
            }
            analysis.nextFileStart = nextStarts[index]
            let error = analysis.run(path: file.path)
            meter?.fileDone(bytes: file.size, packets: accounts.list.last?.packets ?? 0)
            for error in ([error].compactMap { $0 } + analysis.takeOtherErrors()) {
                failed += 1
                alerts.flush()
                writeError(error.description)
            }
            if StopSignals.requested { break }
        }
        for error in ([analysis.finishOverlapping()].compactMap { $0 } + analysis.takeOtherErrors()) {
            failed += 1
            writeError(error.description)
        }
        accounts.markReordered(Set(archive.files.filter(\.outOfOrder).map(\.path)))
        if StopSignals.requested { accounts.notReached(archive.files.map(\.path)) }
        analysis.finish()
        // The last line counts what the end of the input gave too (5003 judges the link at the end).
        meter?.stop()
        if let note = nothingAnalysedNote(packets: UInt64(analysis.packets), window: archiveOptions.window, bpf: options.bpf, accounts: accounts,
                                          what: "nothing was analysed") { writeError(note) }
        // Every evidence file written before the summary counts them.
        evidence?.stop()
        if let flowLog {
            // The flows still open at the end of the input get their records.
            analysis.endAllFlows(.shutdown)
            flowLog.stop()
        }
        // Every alert is in its file before anything below is said (the alerts are written by a thread of their own).
        alerts.flush()
        if let signal = StopSignals.name {
            // Only when it is so: an output that failed is said below, with the alerts it lost.
            let written = alerts.failure == nil ? "every alert found is written" : "the alert output failed (below)"
            writeError("zonewarden: \(signal): stopped after \(analysis.packets) packets; \(written)")
        }
        // Collectors get up to --syslog-timeout seconds to take what is queued and acknowledge it;
        // by default one that could never be reached (nothing delivered, failing now) gets a few.
        let now = monotonicSeconds()
        QueuedOutput.stop(collectors, deadline: now + (syslogTimeout ?? Self.defaultSyslogTimeout),
                          unreachableAfter: syslogTimeout == nil ? now + Self.unreachableSyslogTimeout : nil)
        if summary {
            writeError(analysis.summary(files: archive.files.count, failedFiles: failed))
            let order = Dictionary(archive.files.enumerated().map { ($1.path, $0) }, uniquingKeysWith: { a, _ in a })
            writeError(fileAccounting(accounts.list.sorted { order[$0.path, default: 0] < order[$1.path, default: 0] }))
            if let evidence, let recorder = analysis.pipeline?.evidence { writeError(evidenceSummary(evidence, recorder.statistics)) }
        }
        for warning in analysis.tableWarnings { writeError("zonewarden: note: \(warning.text)") }
        // Alerts that did not reach a collector, or may not have (a collector that went away right after taking them).
        let undelivered = collectors.map(\.statistics).filter { $0.notDelivered > 0 || $0.possiblyLost > 0 }
        for o in undelivered {
            let refused = o.refusedSessions > 0 ? "; \(o.refusedSessions) TLS session\(o.refusedSessions == 1 ? "" : "s") refused, nothing sent on \(o.refusedSessions == 1 ? "it" : "them")" : ""
            let why = o.possiblyLostReason
            var parts: [String] = []
            if o.notDelivered > 0 { parts.append("\(o.notDelivered) alert\(o.notDelivered == 1 ? "" : "s") not delivered\(o.lastError.map { " (\($0))" } ?? "")") }
            if o.possiblyLost > 0 { parts.append("\(o.possiblyLost) possibly lost (\(why)\(o.notDelivered == 0 ? o.lastError.map { "; \($0)" } ?? "" : ""))") }
            writeError("zonewarden: output \(o.name): \(parts.joined(separator: "; "))\(refused)")
        }
        if let flowLog, let failure = flowLog.failure {
            writeError("zonewarden: flow log \(flowLog.name): \(failure); \(flowLog.unwritten) flow record\(flowLog.unwritten == 1 ? "" : "s") not written")
            if alerts.failure == nil { throw ExitCode(ExitStatus.outputFailed) }
        }
        if evidenceOpening.sayWhatIsMissing(alertsWritten: alerts.alertsWritten), alerts.failure == nil { throw ExitCode(ExitStatus.outputFailed) }
        if let failure = alerts.failure {
            let lost = alerts.unwritten.map { "\($0.count) alert\($0.count == 1 ? "" : "s") not written to \($0.sink)" }
            writeError("zonewarden: alert output \(failure)" + (lost.isEmpty ? "" : "; " + lost.joined(separator: ", ")))
            throw ExitCode(ExitStatus.outputFailed)
        }
        if failed > 0 { throw ExitCode(ExitStatus.captureUnreadable) }
        if !undelivered.isEmpty { throw ExitCode(ExitStatus.outputFailed) }
        if let failOn, let highest = alerts.highestSeverity, highest >= failOn {
            throw ExitCode(ExitStatus.alertAtFailOn)
        }
    }
}

/// The configuration's exceptions (validated with it); each expired one said on standard error.
func acceptedRisks(_ zones: ZoneMap) throws -> AlertExceptions? {
    guard !zones.config.exceptions.isEmpty else { return nil }
    do throws(ConfigErrors) {
        let exceptions = try AlertExceptions(zones)
        for note in exceptions.expiryNotes() + exceptions.warnings() { writeError("zonewarden: note: \(note)") }
        return exceptions
    } catch {
        for e in error.errors { writeError(e.description) }
        throw ExitCode(ExitStatus.usage)
    }
}

/// The most analysing threads `--workers` takes.
let maximumWorkers = 64

/// One analysing thread per core beyond the reading thread's: on two cores
/// one worker with the read-ahead thread is faster than two workers and a
/// reader (docs/performance.md has the figures).
var defaultWorkers: Int { max(1, min(availableCores() - 1, maximumWorkers)) }

/// The note when `max_flows` shared among the workers gives each fewer than
/// the 64 flows a worker's table holds at least: the tables are then larger in
/// all than the configuration says (memory follows them).
func workersTableNote(maxFlows: Int, workers: Int) -> String? {
    guard workers > 1, maxFlows / workers < Pipeline.minimumFlowsPerWorker else { return nil }
    return "zonewarden: note: sensor.max_flows \(maxFlows) shared among \(workers) workers is below \(Pipeline.minimumFlowsPerWorker) flows each: each worker's table holds \(Pipeline.minimumFlowsPerWorker) (\(workers * Pipeline.minimumFlowsPerWorker) flows in all)"
}

/// `analyze`'s analysis: one pipeline, or several workers (`--workers`).
final class Analysis {
    private var single: OfflineAnalysis?
    private let sharded: ShardedAnalysis?
    private let rules: [(RuleMetadata, Severity)]

    init(zones: ZoneMap, alerts: AlertStage, workers: Int, filter: String?) throws {
        let pipeline = try makePipeline(zones, alerts)
        rules = pipeline.detector.enabledRules
        if workers > 1 {
            do throws(ConfigErrors) {
                sharded = try ShardedAnalysis(zones: zones, alerts: alerts, workers: workers, filter: filter)
            } catch {
                for e in error.errors { writeError(e.description) }
                throw ExitCode(ExitStatus.usage)
            }
            single = nil
        } else {
            single = OfflineAnalysis(pipeline: pipeline, filter: filter)
            sharded = nil
        }
    }

    var flowLog: FlowLog? {
        get { single?.pipeline.flowLog ?? sharded?.flowLog }
        set {
            single?.pipeline.flowLog = newValue
            sharded?.flowLog = newValue
        }
    }

    func run(path: String) -> CaptureError? { single?.run(path: path) ?? sharded?.run(path: path) }
    /// Only packets from the first through the second timestamp (--since, --until).
    var window: (start: UInt64, end: UInt64)? {
        get { single?.window ?? sharded?.window }
        set {
            single?.window = newValue
            sharded?.window = newValue
        }
    }
    /// When the next file begins (files that overlap are merged).
    var nextFileStart: UInt64? {
        get { single?.nextFileStart ?? sharded?.nextFileStart }
        set {
            single?.nextFileStart = newValue
            sharded?.nextFileStart = newValue
        }
    }
    func finishOverlapping() -> CaptureError? { single?.finishOverlapping() ?? sharded?.finishOverlapping() }
    func takeOtherErrors() -> [CaptureError] { single?.takeOtherErrors() ?? sharded?.takeOtherErrors() ?? [] }
    /// The one link the inputs are.
    var link: String? {
        get { single?.link ?? sharded?.link }
        set {
            single?.link = newValue
            sharded?.link = newValue
        }
    }
    /// What became of each file.
    var accounts: FileAccounts? {
        get { single?.accounts ?? sharded?.accounts }
        set {
            single?.accounts = newValue
            sharded?.accounts = newValue
        }
    }
    func finish() {
        single?.pipeline.finish()
        sharded?.finish()
    }
    func endAllFlows(_ reason: FlowEndRecord.Reason) {
        single?.pipeline.endAllFlows(reason)
        sharded?.endAllFlows(reason)
    }
    /// The one pipeline (nil with several workers).
    var pipeline: Pipeline? { single?.pipeline }
    var packets: UInt64 { single?.pipeline.statistics.packets ?? sharded?.statistics.packets ?? 0 }
    var tableWarnings: [(name: String, text: String)] { single?.pipeline.tableWarnings ?? sharded?.tableWarnings ?? [] }
    func summary(files: Int, failedFiles: Int) -> String {
        if let single { return Summary.render(pipeline: single.pipeline, files: files, failedFiles: failedFiles) }
        return Summary.render(sharded!, rules: rules, files: files, failedFiles: failedFiles)
    }
}

/// The flow log at `path` (nil: none). Standard output (`-`) only when the
/// alerts go elsewhere; a file that cannot be opened is a usage error (status 2).
/// `label` names where the path came from in messages (`--flow-log`, `sensor.flow_log`).
func openFlowLog(_ path: String?, label: String = "--flow-log", append: Bool, alertsOnStandardOutput: Bool) throws -> FlowLog? {
    guard let path else { return nil }
    if path == "-" && alertsOnStandardOutput {
        writeError("zonewarden: \(label) -: the alerts already go to standard output; give them -o FILE, or the flow log a file")
        throw ExitCode(ExitStatus.usage)
    }
    do throws(SinkError) {
        return try FlowLog(path: path, append: append)
    } catch {
        writeError("zonewarden: \(label): \(error)")
        throw ExitCode(ExitStatus.usage)
    }
}

/// What `--evidence` (or `sensor.evidence.dir`) gave `analyze` and `report`.
struct EvidenceOpening {
    /// Where the files go (nil: none asked for, or none can be created there).
    var directory: EvidenceDirectory?
    /// Why no file can be created where they were asked for (said at the start).
    var unwritable: SafeFile.Failure?

    /// Said after every alert is written: the alerts left without their
    /// evidence files. True when that makes the command's status 4.
    func sayWhatIsMissing(alertsWritten: Int) -> Bool {
        if let unwritable {
            // No alert: no file is missing (the start said why there would be none).
            guard alertsWritten > 0 else { return false }
            writeError("zonewarden: evidence \(unwritable.path): no file written for the \(alertsWritten) alert\(alertsWritten == 1 ? "" : "s") (\(unwritable.reason))")
            return true
        }
        guard let directory, directory.statistics.failed + directory.statistics.tooLarge > 0 else { return false }
        let s = directory.statistics
        writeError("zonewarden: evidence \(directory.path): \(s.failed + s.tooLarge) file\(s.failed + s.tooLarge == 1 ? "" : "s") not written"
                   + (s.firstFailure.map { " (first: \($0))" } ?? "") + (s.tooLarge > 0 ? "; \(s.tooLarge) larger than sensor.evidence.max_megabytes" : ""))
        return true
    }
}

/// The evidence directory at `path`. A path that names no directory that
/// could be made (empty, a file, a missing parent) is a usage error (status
/// 2); a directory this user cannot create files in (permissions, a read-only
/// or full file system) is said once, and the alerts are written without
/// evidence files (``EvidenceOpening/sayWhatIsMissing(alertsWritten:)``: status 4 at the end).
func openEvidence(_ path: String?, label: String = "--evidence", maximumMegabytes: Int, queueMegabytes: Int) throws -> EvidenceOpening {
    guard let path else { return EvidenceOpening() }
    guard !path.isEmpty else {
        writeError("zonewarden: \(label): an empty path; give the directory for the evidence files")
        throw ExitCode(ExitStatus.usage)
    }
    do throws(SafeFile.Failure) {
        // Alerts name their files by this path: absolute, so that it means the same wherever it is read.
        let directory = try EvidenceDirectory(path: FileIdentity.absolutePath(path), maximumMegabytes: maximumMegabytes, queueMegabytes: queueMegabytes)
        directory.onFirstFailure = { writeError("zonewarden: \($0)") }
        if directory.isOpenToOthers { writeError("zonewarden: note: evidence directory \(path) can be listed by other users; its files are readable by this user only") }
        return EvidenceOpening(directory: directory)
    } catch {
        guard error.isDenied else {
            writeError("zonewarden: \(label): \(error)")
            throw ExitCode(ExitStatus.usage)
        }
        writeError("zonewarden: \(label): \(error); the alerts are written without evidence files")
        return EvidenceOpening(unwritable: error)
    }
}

/// The summary's line on the evidence written.
func evidenceSummary(_ directory: EvidenceDirectory, _ r: EvidenceRecorder.Statistics) -> String {
    let d = directory.statistics
    var line = "evidence: \(r.alerts) alert\(r.alerts == 1 ? "" : "s") with a pcap file, \(d.written) written (\(d.bytesWritten) bytes) in \(directory.path)"
    line += "; \(d.files) files (\(d.bytesHeld) bytes) held there, limit \(directory.maximumBytes >> 20) MB, \(d.removed) older removed"
    line += "; \(d.maskedBytes) secret bytes masked, \(d.withheld) file\(d.withheld == 1 ? "" : "s") with payload withheld"
    if d.failed + d.tooLarge > 0 { line += "; \(d.failed + d.tooLarge) not written" }
    line += "; \(r.packetsKept) packets (\(r.bytesKept) bytes) kept in the ring, \(r.packetsAppended) copied into files"
    if r.writtenEarly > 0 { line += ", \(r.writtenEarly) files written before their flow ended (memory_megabytes)" }
    return line
}

/// The pipeline for a validated configuration (a failure here is a configuration error, status 2).
func makePipeline(_ zones: ZoneMap, _ alerts: AlertStage) throws -> Pipeline {
    do throws(ConfigErrors) {
        return try Pipeline(zones: zones, alerts: alerts)
    } catch {
        for e in error.errors { writeError(e.description) }
        throw ExitCode(ExitStatus.usage)
    }
}

/// Loads and validates a zone configuration (including its `rules:` overrides and outputs);
/// prints every mistake on its own line and exits with status 2 on error.
/// Where `-c` points when it is not given: where the Debian package puts the example.
let defaultConfigPath = "/etc/zonewarden/zonewarden.yaml"

func loadZones(_ path: String) throws -> ZoneMap {
    if path == defaultConfigPath && !FileManager.default.fileExists(atPath: path) {
        writeError("zonewarden: no -c CONFIG given, and the default \(path) does not exist: give the zone configuration with -c CONFIG")
        throw ExitCode(ExitStatus.usage)
    }
    let config: ZoneConfig
    do throws(ConfigErrors) {
        config = try ZoneConfig.load(path: path, rules: RuleRegistry.catalogue, alsoChecking: OutputSettingsCheck.errors)
    } catch {
        for e in error.errors { writeError(e.description) }
        throw ExitCode(ExitStatus.usage)
    }
    let zones = ZoneMap(config)
    do throws(ConfigErrors) {
        try SensorConfiguration.validate(zones)
    } catch {
        for e in error.errors { writeError(e.description) }
        throw ExitCode(ExitStatus.usage)
    }
    return zones
}

extension FormatContext {
    /// This host's name and this process's id, the sensor's name and enterprise number from `config`.
    static func current(_ config: ZoneConfig) -> FormatContext {
        var name = [CChar](repeating: 0, count: 256)
        let host = gethostname(&name, name.count) == 0
            ? String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "-"
        var context = FormatContext(hostname: host, processID: getpid(), sensorName: config.sensor.effectiveName)
        context.enterpriseNumber = config.sensor.syslogEnterpriseNumber
        return context
    }
}


/// The summary's lines per capture file: packets, first and last packet,
/// decode errors, and what else became of it.
func fileAccounting(_ accounts: [CaptureFileAccount]) -> String {
    let skipped = accounts.filter { $0.outcome == .skippedByWindow }.count
    let stopped = accounts.filter { $0.outcome == .notReached }.count
    let partway = accounts.filter { $0.outcome == .stoppedPartway }.count
    let faulty = accounts.filter {
        if case .read = $0.outcome { return false }
        return $0.outcome != .skippedByWindow && $0.outcome != .notReached && $0.outcome != .stoppedPartway
    }.count
    var lines = ["  files: \(accounts.count - skipped - faulty - stopped - partway) read" + (skipped > 0 ? ", \(skipped) outside the time window (not read)" : "")
                 + (partway > 0 ? ", \(partway) read up to the stop" : "")
                 + (faulty > 0 ? ", \(faulty) truncated or unreadable" : "") + (stopped > 0 ? ", \(stopped) not reached (stopped first)" : "")]
    for a in accounts {
        var line = "    \(a.path)" + (a.compression.map { " (\($0))" } ?? "") + ": "
        switch a.outcome {
        case .skippedByWindow:
            lines.append(line + "outside the time window, not read")
            continue
        case .unreadable(let message):
            lines.append(line + "unreadable: \(message)")
            continue
        case .notReached:
            lines.append(line + "not read: the analysis was stopped first")
            continue
        case .read, .truncated, .stoppedPartway:
            break
        }
        line += "\(a.packets) packets"
        if let first = a.first, let last = a.last { line += ", \(Timestamp.rfc3339(first)) to \(Timestamp.rfc3339(last))" }
        line += ", \(a.decodeErrors) decode errors"
        if a.outsideWindow > 0 { line += ", \(a.outsideWindow) outside the time window" }
        if a.reordered { line += ", read out of the given order" }
        if case .truncated(let message) = a.outcome { line += "; read up to an error: \(message)" }
        if a.outcome == .stoppedPartway { line += "; read up to the stop, not to its end" }
        lines.append(line)
    }
    return lines.joined(separator: "\n")
}
