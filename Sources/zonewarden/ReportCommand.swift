import Alerting
import ArgumentParser
import Capture
import Detect
import Foundation
import Platform
import Report
import Sensor
import Zones

extension ReportFormat: ExpressibleByArgument {}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "The M 5.154 audit and who talks to whom across the zones (HTML, Markdown, JSON or DOT).",
        discussion: """
        Reads the captures as analyze does and writes a zone-by-zone \
        communication matrix: flows, packets, bytes and the top services of \
        each pair of zones, the pairs that break the role rules or the allow \
        list, VLANs and VNIs no zone declares, addresses in no zone, and alert \
        counts by rule and zone pair. Memory stays bounded whatever the size of \
        the captures. The HTML report is one self-contained file (inline SVG, \
        no scripts) with a heat map of the matrix and a zone graph.

        It opens with the M 5.154 audit: a verdict per point of the measure \
        (violated, no violation observed, not assessed) with the Kompendium \
        requirements it maps to and the reason, the findings with names, \
        the zone plan, and the coverage (each capture's SHA-256 and span).

        With --merge, the arguments are JSON reports of several sensors \
        (report --format json, run --report FILE.json): one site report is \
        written from them (no -c needed). Reports of different versions or \
        zone plans are refused.

        Examples:
          zonewarden report -c site.yaml -o report.html day1/*.pcap
          zonewarden report -c site.yaml --format dot audit.pcap | \\
              dot -Tsvg > zones.svg
          zonewarden report --merge -o site.html sensor-a.json sensor-b.json
        """
    )

    @Option(name: [.short, .customLong("config")], help: ArgumentHelp("Zone configuration (YAML); not with --merge. Default: \(defaultConfigPath).", valueName: "CONFIG"))
    var config: String?

    @Flag(help: "Merge the JSON reports given as arguments into one site report instead of reading captures.")
    var merge = false

    @Option(help: ArgumentHelp("html, markdown, json or dot (default: from the -o file's extension, else markdown).", valueName: "FORMAT"))
    var format: ReportFormat?

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Write the report to this file instead of standard output.", valueName: "PATH"))
    var output: String?

    @Option(help: ArgumentHelp("Only count packets matching this BPF expression (libpcap syntax).", valueName: "EXPR"))
    var bpf: String?

    @Option(help: ArgumentHelp("Keep the packets of every finding as a pcap file in this directory (as analyze --evidence; secrets masked) and link them from the report's Evidence section (relative to the report's file, so the two can be moved together).", valueName: "DIR"))
    var evidence: String?

    @OptionGroup var archiveOptions: ArchiveOptions

    @Argument(help: ArgumentHelp("pcap or pcapng files (gzip, zstd, xz or lz4 compressed too) or folders of them, read as one capture in time order; - reads standard input, compressed or not (with --merge: JSON reports).", valueName: "PCAP"), completion: .file())
    var captures: [String]

    func validate() throws {
        try refuseRepeatedOptions()
        if format == nil, let output, output != "-" { try refuseUnknownReportExtension(output, option: "-o", formatOption: "--format") }
        if merge {
            if captures.isEmpty { throw ValidationError("--merge needs the JSON reports to merge") }
            if config != nil || bpf != nil || evidence != nil { throw ValidationError("--merge reads reports, not captures: -c, --bpf and --evidence do not apply") }
            return
        }
        if captures.isEmpty { throw ValidationError("give at least one capture file or folder (or - for standard input)") }
        if captures.filter({ $0 == "-" }).count > 1 { throw ValidationError("standard input (-) can be read only once") }
    }

    func run() throws {
        let chosen = format ?? output.flatMap { ReportFormat(fileName: $0) } ?? .markdown
        if merge {
            try checkOutput()
            var site: CommunicationReport
            do throws(ReportMerge.Failure) {
                site = try ReportMerge.merge(paths: captures)
            } catch {
                writeError("zonewarden: \(error)")
                throw ExitCode(ExitStatus.usage)
            }
            // Links to the evidence files relative to the site report, as a sensor's own report has them.
            site.outputPath = output == "-" ? nil : output
            let linked = Set(site.evidence.values.flatMap { $0.map(\.pcap) } + site.findings.compactMap(\.pcap)).filter { !$0.isEmpty }
            let missing = linked.filter { !FileManager.default.fileExists(atPath: $0) }
            if !missing.isEmpty {
                writeError("zonewarden: note: \(missing.count) of the \(linked.count) evidence files the reports link are not there (first: \(Escaping.controls(missing.sorted()[0]))): their links will not open; keep each report beside its evidence folder")
            }
            return try write(chosen.render(site))
        }
        let config = self.config ?? defaultConfigPath
        let zones = try loadZones(config)
        if let bpf, let problem = PcapHandle.filterError(bpf) {
            writeError("zonewarden: --bpf \"\(bpf)\": \(problem)")
            throw ExitCode(ExitStatus.usage)
        }
        try checkOutput()
        // Every detection counts (no throttling): the report says how often, not just that.
        let collector = ReportCollector(report: CommunicationReport(zones: zones), zones: zones)
        let alerts = AlertStage(sinks: [collector], throttle: AlertThrottle(windowSeconds: 0))
        alerts.exceptions = try acceptedRisks(zones)
        collector.dataChannels = alerts.dataChannels
        let pipeline = try makePipeline(zones, alerts)
        pipeline.onFlowEnd = { record, _ in collector.add(record) }
        let evidenceOpening = try openEvidence(evidence, maximumMegabytes: zones.config.sensor.evidence.maximumMegabytes,
                                               queueMegabytes: zones.config.sensor.evidence.memoryMegabytes)
        let evidenceDirectory = evidenceOpening.directory
        if let directory = evidenceDirectory {
            let e = zones.config.sensor.evidence
            pipeline.attachEvidence(directory, packetsPerFlow: e.packetsPerFlow, memoryBytes: e.memoryMegabytes << 20)
        }
        collector.outputPath = output == "-" ? nil : output
        var analysis = OfflineAnalysis(pipeline: pipeline, filter: bpf)
        var failed = 0
        let (archive, accounts, meter) = try openArchive(captures, archiveOptions, alerts: alerts, writingToStandardOutput: output == nil || output == "-")
        analysis.window = archiveOptions.window
        collector.window(archiveOptions.window.flatMap { AnalysisWindow(start: $0.start, end: $0.end) })
        analysis.accounts = accounts
        analysis.link = continuousLinkName(captures, archive)
        meter?.start()
        defer { meter?.stop() }
        // Where the next file read begins: a file that goes on past it is merged with it.
        let nextStarts = archive.files.indices.map { i in archive.files[(i + 1)...].first { !$0.outsideWindow }?.first }
        var errors: [String: String] = [:]
        for (index, file) in archive.files.enumerated() {
            collector.addCapture(file.path == "-" ? "standard input" : file.path)
            if file.outsideWindow {
                accounts.skipped(file.path)
                meter?.fileDone(bytes: 0, packets: 0)
                continue
            }
            let before = pipeline.statistics.packets
            analysis.nextFileStart = nextStarts[index]
            let error = analysis.run(path: file.path)
            meter?.fileDone(bytes: file.size, packets: Int(pipeline.statistics.packets - before))
            for error in ([error].compactMap { $0 } + analysis.takeOtherErrors()) {
                failed += 1
                errors[error.source] = error.detail
                writeError(error.description)
            }
        }
        for error in ([analysis.finishOverlapping()].compactMap { $0 } + analysis.takeOtherErrors()) {
            failed += 1
            errors[error.source] = error.detail
            writeError(error.description)
        }
        // The audit's coverage: each file with its hash (read again, after the analysis) and its own span.
        // A file that could not be opened had no packets: its span is none (not the last file's).
        for file in archive.files {
            let path = file.path, name = path == "-" ? "standard input" : path
            let sha = path == "-" ? nil : FileDigest.sha256(file: path)
            if file.outsideWindow {
                collector.addCoverage(CaptureCoverage(name: name, sha256: sha, packets: 0, first: 0, last: 0,
                                                      error: "outside the time window (--since/--until), not read"))
                continue
            }
            let account = accounts.list.first { $0.path == path }
            if account == nil && StopSignals.requested {
                collector.addCoverage(CaptureCoverage(name: name, sha256: sha, packets: 0, first: 0, last: 0, error: "not read: the run was stopped first"))
                continue
            }
            let packets = UInt64(account?.packets ?? 0)
            let first = packets == 0 ? 0 : account?.first ?? 0
            var coverage = CaptureCoverage(name: name, sha256: sha, packets: packets, first: first,
                                           last: first == 0 ? 0 : account?.last ?? 0, error: errors[path])
            var details: [String] = []
            if let compression = account?.compression { details.append(compression) }
            if let n = account?.decodeErrors, n > 0 { details.append("\(n) decode error\(n == 1 ? "" : "s")") }
            if let n = account?.outsideWindow, n > 0 { details.append("\(n) packets outside the time window") }
            if file.outOfOrder { details.append("read out of the given order") }
            if account?.outcome == .stoppedPartway { details.append("read up to the stop, not to its end") }
            coverage.details = details.isEmpty ? nil : details.joined(separator: ", ")
            collector.addCoverage(coverage)
        }
        meter?.stop()
        pipeline.finish()
        evidenceDirectory?.stop()
        // Only files written link from the report (not one a full disk refused, nor one the bound removed since).
        if let evidenceDirectory { collector.keepEvidence(where: evidenceDirectory.holds) }
        pipeline.flows.removeAll()
        collector.span(first: pipeline.firstTimestamp, last: pipeline.lastTimestamp)
        collector.acceptedRisks(CommunicationReport.AcceptedRisk.list(alerts.exceptions, at: pipeline.lastTimestamp))
        // Rule 7002 compares with a state file, which report does not keep: on, it still cannot fire.
        collector.describe(enabledRules: Set(pipeline.detector.metadata.map(\.sid)), version: zoneWardenBuild,
                           configSHA256: FileDigest.sha256(file: config), inertRules: [7002])
        // Not one packet could be read (every capture missing or broken): an earlier report in its place is kept.
        if failed > 0 && pipeline.statistics.packets == 0 {
            if let output, output != "-" { writeError("zonewarden: no packet could be read: \(output) is left as it was") }
            throw ExitCode(ExitStatus.captureUnreadable)
        }
        if let note = nothingAnalysedNote(packets: UInt64(pipeline.statistics.packets), window: archiveOptions.window, bpf: bpf, accounts: accounts,
                                          what: "the report covers nothing") { writeError(note) }
        try write(chosen.render(collector.report))
        // A file not written (4) comes before an unreadable capture (3), as for analyze.
        if evidenceOpening.sayWhatIsMissing(alertsWritten: alerts.alertsWritten) { throw ExitCode(ExitStatus.outputFailed) }
        if failed > 0 { throw ExitCode(ExitStatus.captureUnreadable) }
    }

    /// The report is written at the end: an output that cannot be written is said before the work.
    private func checkOutput() throws {
        // The report replaces its file at the end: never one of the captures or reports it reads.
        try refuseSharedPaths([("-o", output)], inputs: captures, configuration: merge ? nil : config ?? defaultConfigPath,
                              evidence: evidence.map { ("--evidence", $0) })
        guard let output, output != "-" else { return }
        do throws(SafeFile.Failure) {
            try SafeFile.checkWritable(output)
        } catch {
            writeError("zonewarden: \(error)")
            throw ExitCode(ExitStatus.usage)
        }
    }

    private func write(_ text: String) throws {
        guard let output, output != "-" else { return try writeOut(text) }
        do throws(SafeFile.Failure) {
            try SafeFile.replace(output, with: text, mode: SafeFile.privateMode)
        } catch {
            writeError("zonewarden: \(error)")
            throw ExitCode(ExitStatus.outputFailed)
        }
    }
}

/// A report file whose name says another format (zones.svg, report.pdf) is
/// not quietly written as Markdown or HTML: a usage error, unless the format is given.
func refuseUnknownReportExtension(_ path: String, option: String, formatOption: String) throws {
    guard ReportFormat(fileName: path) == nil, let ext = ReportFormat.fileExtension(path) else { return }
    throw ValidationError("\(option) \(path): a report cannot be told from the extension .\(ext): give \(formatOption) (html, markdown, json or dot; an SVG or PDF comes from dot through Graphviz, or from the HTML through a browser)")
}

/// Writes text to standard output; one that cannot take it (a full disk
/// behind `> draft.yaml`, a closed pipe) is said, with exit status 4.
func writeOut(_ text: String) throws {
    let output = FileOutput.standardOutput()
    do throws(SinkError) {
        try output.write(text)
        try output.flush()
    } catch {
        writeError("zonewarden: \(error)")
        throw ExitCode(ExitStatus.outputFailed)
    }
}
