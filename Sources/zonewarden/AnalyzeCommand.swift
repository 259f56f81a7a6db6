import Alerting
import ArgumentParser
import Capture
import Detect
import Sensor
import Zones
#if canImport(Glibc)
import Glibc
#endif

extension AlertFormat: ExpressibleByArgument {}

extension Severity: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { allCases.map(\.name) }
}

struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Analyse pcap/pcapng files and print alerts.",
        discussion: """
        Reads each capture in turn (use - for standard input), decodes VLAN/QinQ \
        stacks, MPLS, VXLAN, Geneve, GRE/ERSPAN and IP-in-IP tunnels, sorts every \
        flow into the zones of the configuration and reports the rules it breaks. \
        Flows carry over from one file to the next, as for a rotated capture.

        A capture that cannot be read (missing, not a capture, truncated, an \
        unsupported link type) is reported on one line naming the file and, for a \
        corrupt file, the packet; the other files are still analysed, every alert \
        before the fault is still written, and the exit status is 3.

        Example:
          zonewarden analyze -c config/example.yaml Captures/example-site.pcap
          zonewarden analyze -c site.yaml --format eve -o eve.json --summary day1/*.pcap
        """
    )

    @Option(name: [.short, .customLong("config")], help: ArgumentHelp("Zone configuration (YAML).", valueName: "CONFIG"))
    var config: String

    @Option(help: ArgumentHelp("Alert format: text, eve (Suricata-compatible JSON lines), rfc5424 or rfc3164.", valueName: "FORMAT"))
    var format: AlertFormat = .text

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Write alerts to this file (created or truncated) instead of standard output.", valueName: "PATH"))
    var output: String?

    @Option(help: ArgumentHelp("Only analyse packets matching this BPF expression (libpcap syntax).", valueName: "EXPR"))
    var bpf: String?

    @Option(name: .customLong("fail-on"), help: ArgumentHelp("Exit with status 1 if an alert of this severity or higher was raised: critical, high, medium or low.", valueName: "SEVERITY"))
    var failOn: Severity?

    @Flag(help: "Print per-rule counts, packets, flows and decode errors on standard error at the end.")
    var summary = false

    @Argument(help: ArgumentHelp("pcap or pcapng files; - reads standard input.", valueName: "PCAP"))
    var captures: [String]

    func validate() throws {
        if captures.isEmpty { throw ValidationError("give at least one capture file (or - for standard input)") }
        if captures.filter({ $0 == "-" }).count > 1 { throw ValidationError("standard input (-) can be read only once") }
    }

    func run() throws {
        let zones = try loadZones(config)
        if let bpf, let problem = PcapHandle.filterError(bpf) {
            writeError("zonewarden: --bpf \"\(bpf)\": \(problem)")
            throw ExitCode(ExitStatus.usage)
        }
        let out: FileOutput
        if let output {
            do throws(SinkError) {
                out = try FileOutput(path: output, append: false)
            } catch {
                writeError("zonewarden: \(error)")
                throw ExitCode(ExitStatus.usage)
            }
        } else {
            out = FileOutput.standardOutput()
        }
        let sink = LineSink(output: out, format: format, context: .current)
        let dispatcher = AlertDispatcher(sinks: [sink], throttle: AlertThrottle(windowSeconds: zones.config.sensor.alertThrottleSeconds))
        let pipeline: Pipeline
        do throws(ConfigErrors) {
            pipeline = try Pipeline(zones: zones, dispatcher: dispatcher)
        } catch {
            for e in error.errors { writeError(e.description) }
            throw ExitCode(ExitStatus.usage)
        }
        let analysis = OfflineAnalysis(pipeline: pipeline, filter: bpf)
        var failed = 0
        for path in captures {
            if let error = analysis.run(path: path) {
                failed += 1
                pipeline.dispatcher.flush()
                writeError(error.description)
            }
            if dispatcher.failure != nil { break }
        }
        pipeline.finish()
        if summary { writeError(Summary.render(pipeline: pipeline, files: captures.count, failedFiles: failed)) }
        if let failure = dispatcher.failure {
            writeError("zonewarden: alert output \(failure)")
            throw ExitCode(ExitStatus.outputFailed)
        }
        if failed > 0 { throw ExitCode(ExitStatus.captureUnreadable) }
        if let failOn, let highest = dispatcher.highestSeverity, highest >= failOn {
            throw ExitCode(ExitStatus.alertAtFailOn)
        }
    }
}

/// Loads and validates a zone configuration (including its `rules:` overrides);
/// prints every mistake on its own line and exits with status 2 on error.
func loadZones(_ path: String) throws -> ZoneMap {
    let config: ZoneConfig
    do throws(ConfigErrors) {
        config = try ZoneConfig.load(path: path)
    } catch {
        for e in error.errors { writeError(e.description) }
        throw ExitCode(ExitStatus.usage)
    }
    let zones = ZoneMap(config)
    do throws(ConfigErrors) {
        _ = try Detector(zones: zones, dispatcher: AlertDispatcher(sinks: [], throttle: AlertThrottle(windowSeconds: 0)))
    } catch {
        for e in error.errors { writeError(e.description) }
        throw ExitCode(ExitStatus.usage)
    }
    return zones
}

extension FormatContext {
    /// This host's name and this process's id.
    static var current: FormatContext {
        var name = [CChar](repeating: 0, count: 256)
        let host = gethostname(&name, name.count) == 0
            ? String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "-"
        return FormatContext(hostname: host, processID: getpid())
    }
}
