import Alerting
import ArgumentParser
import Capture
import Detect
import Platform
import Report
import Sensor
import Zones
#if canImport(Glibc)
import Glibc
#endif

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the continuous sensor on network interfaces.",
        discussion: """
        Captures on each interface (a mirror port, a Linux bridge or one of its \
        ports, a veth, an OVS mirror port) with a thread and a pipeline of its \
        own (or, with --workers N, a reading thread and N workers sharing its \
        flows), and writes alerts to standard output (or -o FILE, appended) and to \
        every --syslog destination. Outputs never block the capture: each has a \
        queue (--queue-size) and a thread that retries an unreachable collector \
        with backoff; what cannot be delivered is counted and reported.

        Signals: SIGINT and SIGTERM stop cleanly (every queue is delivered, up to \
        10 s for all outputs together; the same signal again stops at once); \
        SIGHUP reopens the output files and the flow log (log rotation) \
        and changes nothing else; SIGUSR2 re-reads the configuration (an \
        invalid one is reported and the running one kept) and the flows go on, \
        judged by the new zones from their next packet. SIGUSR1 is ignored \
        (statistics come every --stats-interval seconds).

        Statistics per interface and output go to standard error every \
        --stats-interval seconds and at the end; --metrics-file writes them in \
        the Prometheus text format. After opening the interfaces the sensor can \
        switch to an unprivileged --user; it never transmits on them.

        Examples:
          zonewarden run -c site.yaml -i eth1 --syslog relp://10.0.9.5:2514
          zonewarden run -c site.yaml -i br0 -i eth2 --format eve \\
              -o /var/log/zonewarden/eve.json --user zonewarden \\
              --metrics-file /var/lib/zonewarden/zonewarden.prom

        Exit status: 0 stopped; 2 usage or configuration error; 3 an interface \
        could not be opened (or every interface failed); 4 a file it must write \
        cannot be written as --user, alerts could not be delivered, or an output \
        file could not be reopened after rotation.
        """
    )

    @OptionGroup var alertOptions: AlertOptions

    @Option(name: [.short, .customLong("interface")], help: ArgumentHelp("Capture on this interface (repeatable); default: sensor.interfaces of the configuration.", valueName: "IFACE"))
    var interfaces: [String] = []

    @Option(name: .customLong("stats-interval"), help: ArgumentHelp("Seconds between statistics (default: sensor.stats_interval, \(SensorSettings().statsInterval)).", valueName: "SECONDS"))
    var statsInterval: Int?

    @Option(name: .customLong("metrics-file"), help: ArgumentHelp("Write statistics in the Prometheus text format to this file (node_exporter's textfile collector).", valueName: "PATH"))
    var metricsFile: String?

    @Option(help: ArgumentHelp("Switch to this user once the interfaces are open.", valueName: "NAME"))
    var user: String?

    @Option(name: .customLong("state-file"), help: ArgumentHelp("Remember infrastructure endpoints here across restarts (rule 7002); default: sensor.state_file.", valueName: "PATH"))
    var stateFile: String?

    @Option(help: ArgumentHelp("Bytes captured per packet (default: sensor.snaplen, \(SensorSettings().snaplen)).", valueName: "BYTES"))
    var snaplen: Int?

    @Option(name: .customLong("buffer-size"), help: ArgumentHelp("Kernel capture buffer in bytes (default: sensor.buffer_size, or libpcap's).", valueName: "BYTES"))
    var bufferSize: Int?

    @Flag(help: "Deliver each packet at once rather than in batches (lower latency, more CPU).")
    var immediate = false

    @Flag(name: .customLong("no-promiscuous"), help: "Do not put the interfaces into promiscuous mode.")
    var noPromiscuous = false

    @Option(help: ArgumentHelp("Write the communication report (zonewarden report) to this file every --report-interval seconds and at the end.", valueName: "PATH"))
    var report: String?

    @Option(name: .customLong("report-format"), help: ArgumentHelp("html, markdown, json or dot (default: from the file's extension, else html).", valueName: "FORMAT"))
    var reportFormat: ReportFormat?

    static let defaultReportInterval = LiveSettings(interfaces: []).reportInterval
    static let defaultQueueSize = 100_000

    @Option(name: .customLong("report-interval"), help: ArgumentHelp("Seconds between rewrites of --report (default \(defaultReportInterval)).", valueName: "SECONDS"))
    var reportInterval: Int = defaultReportInterval

    @Option(parsing: .unconditional, help: ArgumentHelp("Analysing threads per interface, 1-\(maximumWorkers) (default: the cores the process may run on, divided among the interfaces, less one each for its reading thread; at least 1). With 2 or more the flows are shared out among them by a hash of each flow and a reading thread feeds them; not with --report or evidence, which are one thread's.", valueName: "N"))
    var workers: Int?

    @Option(name: .customLong("queue-size"), help: ArgumentHelp("Alerts each output holds while its destination is away (default \(defaultQueueSize); a file output holds at least \(fileQueueFloor), so that a burst is not dropped while the disk keeps up).", valueName: "N"))
    var queueSize: Int = defaultQueueSize

    func validate() throws {
        if let statsInterval, !(1...86_400).contains(statsInterval) { throw ValidationError("--stats-interval must be 1-86400 seconds") }
        if let snaplen, !(64...262_144).contains(snaplen) { throw ValidationError("--snaplen must be 64-262144") }
        if let bufferSize, !(65_536...(1 << 31 - 1)).contains(bufferSize) { throw ValidationError("--buffer-size must be 65536-2147483647") }
        if !(1...10_000_000).contains(queueSize) { throw ValidationError("--queue-size must be 1-10000000") }
        if !(1...86_400).contains(reportInterval) { throw ValidationError("--report-interval must be 1-86400 seconds") }
        if let workers, !(1...maximumWorkers).contains(workers) { throw ValidationError("--workers must be 1-\(maximumWorkers), not \(workers)") }
        if let workers, workers > 1, report != nil { throw ValidationError("--report is written from one pipeline's flows: give --workers 1 (or leave it out)") }
        if reportFormat == nil, let report { try refuseUnknownReportExtension(report, option: "--report", formatOption: "--report-format") }
    }

    func run() throws {
        // Before any thread starts: the stop and reload signals go to the sensor's main loop only.
        LiveSensor.blockSignals()
        // A stray SIGUSR1 (meant for another daemon, or USR2 mistyped) must not end a sensor without its final statistics.
        signal(SIGUSR1, SIG_IGN)
        let options = alertOptions
        let config = options.config
        let zones = try loadZones(config)
        let sensor = zones.config.sensor
        var settings = LiveSettings(interfaces: interfaces.isEmpty ? sensor.interfaces : interfaces)
        if settings.interfaces.isEmpty {
            writeError("zonewarden: no interface: give -i IFACE or sensor.interfaces in \(config)")
            throw ExitCode(ExitStatus.usage)
        }
        // Captured twice, every alert would be written twice and the metrics file would repeat its series.
        if let twice = settings.interfaces.enumerated().first(where: { settings.interfaces[..<$0.offset].contains($0.element) })?.element {
            writeError("zonewarden: \(twice) is given twice (\(interfaces.isEmpty ? "sensor.interfaces of \(config)" : "-i")): name each interface once")
            throw ExitCode(ExitStatus.usage)
        }
        if let bpf = options.bpf, let problem = PcapHandle.filterError(bpf) {
            writeError("zonewarden: --bpf \"\(bpf)\": \(problem)")
            throw ExitCode(ExitStatus.usage)
        }
        settings.bpf = options.bpf
        settings.capture.snaplen = Int32(snaplen ?? sensor.snaplen)
        settings.capture.promiscuous = !noPromiscuous && sensor.promiscuous
        settings.capture.bufferSize = (bufferSize ?? sensor.bufferSize).map(Int32.init)
        settings.capture.immediateMode = immediate
        settings.statsInterval = statsInterval ?? sensor.statsInterval
        settings.metricsFile = metricsFile
        settings.user = user
        settings.stateFile = stateFile ?? sensor.stateFile
        settings.baselineSeconds = sensor.baselineSeconds
        settings.reportPath = report
        settings.reportFormat = reportFormat ?? report.flatMap { ReportFormat(fileName: $0) } ?? .html
        settings.reportInterval = reportInterval
        settings.version = zoneWardenBuild
        settings.evidence = sensor.evidence
        if let dir = options.evidence { settings.evidence.directory = dir }
        if let workers, workers > 1, settings.evidence.directory != nil {
            writeError("zonewarden: \(options.evidence != nil ? "--evidence" : "sensor.evidence.dir of \(config)") keeps each flow's packets in one pipeline: give --workers 1 (or leave it out) (see zonewarden help run)")
            throw ExitCode(ExitStatus.usage)
        }
        // By default each interface gets its reading thread and the cores left over; one worker on two cores.
        settings.workers = workers ?? max(1, min(availableCores() / settings.interfaces.count - 1, maximumWorkers))
        if let note = workersTableNote(maxFlows: zones.config.sensor.maxFlows, workers: settings.workers) { writeError(note) }

        // Outputs: the command line's, else the configuration's sensor.outputs, else text on standard output.
        var specs: [OutputSpec] = []
        let fromCommandLine = options.output != nil || !options.syslog.isEmpty
        if fromCommandLine || sensor.outputs.isEmpty {
            // Not silently: a service whose unit gives -o would otherwise ignore outputs added to the configuration.
            if fromCommandLine && !sensor.outputs.isEmpty {
                writeError("zonewarden: note: sensor.outputs of \(config) \(sensor.outputs.count == 1 ? "is" : "are") not used: the command line gives the outputs (-o, --syslog)")
            }
            specs.append(OutputSpec(format: options.format, path: options.output))
            specs += options.syslogDestinations
        } else {
            // Checked when the configuration was loaded.
            specs = sensor.outputs.map {
                OutputSpec(format: AlertFormat(name: $0.format) ?? .eve, path: $0.path, syslog: $0.syslog, tls: OutputSettingsCheck.settings($0.tls))
            }
        }
        settings.outputPaths = specs.compactMap(\.path)
        let flowLogLabel = options.flowLog != nil ? "--flow-log" : "sensor.flow_log"
        let outputLabels = specs.indices.map { fromCommandLine ? "-o" : "sensor.outputs[\($0 + 1)].path" }
        try refuseSharedPaths(zip(outputLabels, specs.map(\.path)).map { ($0, $1) } + [
            (flowLogLabel, options.flowLog ?? sensor.flowLog),
            ("--metrics-file", metricsFile), ("--report", report),
            (stateFile != nil ? "--state-file" : "sensor.state_file", settings.stateFile),
        ], configuration: config, evidence: (options.evidence != nil ? "--evidence" : "sensor.evidence.dir", settings.evidence.directory))
        // A folder that does not exist is a mistake in the command or the configuration: a usage error
        // (status 2) as for -o and --flow-log. What the sensor's user may write is checked once it runs
        // as that user (status 4, nothing captured).
        for case let (label, path?) in [("--metrics-file", metricsFile), ("--report", report),
                                        (stateFile != nil ? "--state-file" : "sensor.state_file", settings.stateFile),
                                        (options.evidence != nil ? "--evidence" : "sensor.evidence.dir", settings.evidence.directory)] where !path.isEmpty {
            // The folder that holds it (`DIR/` names DIR, which the evidence directory may create).
            let split = FileIdentity.split(path).folder, folder = split.isEmpty ? "." : split
            guard FileIdentity.isFolder(folder) else {
                writeError("zonewarden: \(label): \(path): no folder \(folder) to hold it")
                throw ExitCode(ExitStatus.usage)
            }
        }
        // An interface that does not exist (a typo) is said before any file is created (the alerts', the
        // flow log), as the sensor would say it; a file that cannot be made at all is still a usage error first.
        let flowLogPath = options.flowLog ?? sensor.flowLog
        for (label, path) in settings.outputPaths.map({ ("-o", $0) }) + (flowLogPath.map { [(flowLogLabel, $0)] } ?? []) where path != "-" {
            do throws(SafeFile.Failure) {
                try SafeFile.checkWritable(path)
            } catch {
                writeError(label == "-o" ? "zonewarden: \(error)" : "zonewarden: \(label): \(error)")
                throw ExitCode(ExitStatus.usage)
            }
        }
        for name in settings.interfaces where !PcapHandle.deviceExists(name) {
            writeError("zonewarden: \(name): No such device exists")
            throw ExitCode(ExitStatus.captureUnreadable)
        }
        settings.flowLog = try openFlowLog(flowLogPath, label: flowLogLabel, append: true,
                                           alertsOnStandardOutput: options.output == nil && options.syslog.isEmpty && sensor.outputs.isEmpty)
        let outputs = try makeOutputs(specs, queueSize: queueSize, context: .current(zones.config))
        let live = LiveSensor(configPath: config, zones: zones, settings: settings, outputs: outputs, log: { writeError("zonewarden: \($0)") })
        let status = live.run()
        if status != .stopped { throw ExitCode(status.rawValue) }
    }
}

/// One destination of alerts: a file (or standard output) or a syslog URL.
struct OutputSpec {
    var format: AlertFormat
    var path: String? = nil
    var syslog: String? = nil
    /// For tls:// and relp+tls://.
    var tls = TLSSettings()
}

/// Builds queued outputs; a bad URL, TLS files that cannot be used or a file
/// that cannot be opened exit with status 2.
/// The smallest queue of a file output (alerts), whatever `--queue-size` says.
let fileQueueFloor = 10_000

func makeOutputs(_ specs: [OutputSpec], queueSize: Int, context: FormatContext) throws -> [QueuedOutput] {
    var outputs: [QueuedOutput] = []
    // A mistyped URL is said first (its own message), then TLS settings without a TLS destination.
    for text in specs.compactMap(\.syslog) {
        if case .failure(let e) = SyslogURL.parse(text) {
            writeError("zonewarden: --syslog \"\(SyslogURL.redacted(text))\": \(e)")
            throw ExitCode(ExitStatus.usage)
        }
    }
    let urls = specs.compactMap { $0.syslog.flatMap { try? SyslogURL.parse($0).get() } }
    if specs.contains(where: { $0.tls.isSet }), !urls.contains(where: \.usesTLS) {
        writeError("zonewarden: --syslog-ca, --syslog-cert, --syslog-key and --syslog-peer-name apply to tls:// and relp+tls:// destinations, and none is given")
        throw ExitCode(ExitStatus.usage)
    }
    for spec in specs {
        let transport: MessageTransport
        var format = spec.format
        if let text = spec.syslog {
            switch SyslogURL.parse(text) {
            case .failure(let e):
                writeError("zonewarden: --syslog \"\(SyslogURL.redacted(text))\": \(e)")
                throw ExitCode(ExitStatus.usage)
            case .success(let url) where url.usesTLS:
                let made: Result<MessageTransport, TLSSetupError>
                switch url {
                case .tls(let host, let port): made = TCPTransport.tls(host: host, port: port, settings: spec.tls).map { $0 }
                case .relpTLS(let host, let port): made = RELPTransport.tls(host: host, port: port, settings: spec.tls).map { $0 }
                default: preconditionFailure("usesTLS covers tls and relp+tls")
                }
                switch made {
                case .success(let t): transport = t
                case .failure(let e):
                    writeError("zonewarden: \(url): \(e)")
                    throw ExitCode(ExitStatus.usage)
                }
            case .success(.unix(let path)):
                // The local socket reads the local form only (rsyslog imuxsock, journald).
                transport = DatagramTransport(unixPath: path)
                format = .local
            case .success(.udp(let host, let port)): transport = DatagramTransport(host: host, port: port)
            case .success(.tcp(let host, let port)): transport = TCPTransport(host: host, port: port)
            case .success(.relp(let host, let port)): transport = RELPTransport(host: host, port: port)
            case .success(.tls), .success(.relpTLS): preconditionFailure("handled above")
            }
        } else if let path = spec.path {
            do throws(SinkError) {
                transport = try FileTransport(path: path)
            } catch {
                writeError("zonewarden: \(error)")
                throw ExitCode(ExitStatus.usage)
            }
        } else {
            transport = FileTransport()
        }
        // A file is never away: its queue only has to hold a burst while its thread wakes, whatever
        // --queue-size says for collectors (3 lost 9 alerts of a 21-alert burst to a healthy file).
        let capacity = transport is FileTransport ? max(queueSize, fileQueueFloor) : queueSize
        outputs.append(QueuedOutput(transport: transport, format: format, context: context, capacity: capacity,
                                    log: { writeError("zonewarden: output \($0)") }))
    }
    return outputs
}
