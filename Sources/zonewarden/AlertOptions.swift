import Alerting
import ArgumentParser
import Vocabulary

extension AlertFormat: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { all.map(\.name) }
    public static var defaultCompletionKind: CompletionKind { .list(allValueStrings) }
}

extension Severity: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { allCases.map(\.name) }
    public static var defaultCompletionKind: CompletionKind { .list(allValueStrings) }
}

/// A format syslog collectors take (`--syslog-format`): the argument parser
/// offers and accepts only these.
struct SyslogFormatArgument: ExpressibleByArgument {
    let format: AlertFormat

    init(_ format: AlertFormat) { self.format = format }

    init?(argument: String) {
        guard let format = AlertFormat(name: argument), format.isSyslog else { return nil }
        self.format = format
    }

    static var allValueStrings: [String] { AlertFormat.syslog.map(\.name) }
    static var defaultCompletionKind: CompletionKind { .list(allValueStrings) }
    var defaultValueDescription: String { format.name }
}

/// The options `analyze` and `run` share: the configuration, where alerts go
/// and in which format, and the BPF filter.
struct AlertOptions: ParsableArguments {
    @Option(name: [.short, .customLong("config")], help: ArgumentHelp("Zone configuration (YAML).", valueName: "CONFIG"),
            completion: .file(extensions: ["yaml", "yml"]))
    var config: String = defaultConfigPath

    @Option(help: ArgumentHelp("Alert format on standard output or -o: \(AlertFormat.all.map { "\($0.name) (\($0.summary))" }.joined(separator: ", ")).",
                               valueName: "FORMAT"))
    var format: AlertFormat = .text

    @Option(name: [.short, .customLong("output")],
            help: ArgumentHelp("Write alerts to this file instead of standard output (analyze creates or truncates it; run appends and reopens it on SIGHUP).",
                               valueName: "PATH"), completion: .file())
    var output: String?

    @Option(help: ArgumentHelp("Also send alerts to a syslog collector (repeatable): unix:///dev/log (the local daemon, in its own form: RFC 3164 without the host name), udp://HOST:PORT, tcp://HOST:PORT (RFC 6587 octet counting), tls://HOST:PORT (RFC 5425, usually port 6514), relp://HOST:PORT (acknowledged) or relp+tls://HOST:PORT.",
                               valueName: "URL"))
    var syslog: [String] = []

    @Option(name: .customLong("syslog-ca"),
            help: ArgumentHelp("For tls:// and relp+tls://: the PEM file of the certificate authorities the collector's certificate must chain to (default: the system's, \(TLSSettings.systemCAFile)).", valueName: "FILE"), completion: .file())
    var syslogCA: String?

    @Option(name: .customLong("syslog-cert"),
            help: ArgumentHelp("For tls:// and relp+tls://: the sensor's own PEM certificate, for collectors that authenticate their clients (with --syslog-key).", valueName: "FILE"), completion: .file())
    var syslogCert: String?

    @Option(name: .customLong("syslog-key"), help: ArgumentHelp("The private key of --syslog-cert (PEM).", valueName: "FILE"), completion: .file())
    var syslogKey: String?

    @Option(name: .customLong("syslog-peer-name"),
            help: ArgumentHelp("For tls:// and relp+tls://: the name the collector's certificate must carry (default: the URL's host). A certificate that does not chain to the CA or does not carry the name is refused: nothing is sent.", valueName: "NAME"))
    var syslogPeerName: String?

    /// The TLS settings the command line gives its tls:// and relp+tls:// destinations.
    var syslogTLS: TLSSettings {
        TLSSettings(caFile: syslogCA, certificateFile: syslogCert, keyFile: syslogKey, peerName: syslogPeerName)
    }

    /// The command line's syslog destinations, each with the TLS settings it takes.
    var syslogDestinations: [OutputSpec] {
        syslog.map { OutputSpec(format: syslogFormat, syslog: $0, tls: syslogTLS) }
    }

    @Option(name: .customLong("syslog-format"),
            help: ArgumentHelp("Format for the network --syslog destinations: \(AlertFormat.names(AlertFormat.syslog)) (default rfc5424; local is RFC 3164 without the host name; unix:// always gets local).", valueName: "FORMAT"))
    var syslogFormatArgument: SyslogFormatArgument?

    var syslogFormat: AlertFormat { syslogFormatArgument?.format ?? .rfc5424 }

    func validate() throws {
        try refuseRepeatedOptions()
        // Options that shape --syslog destinations mean nothing without one: said, not silently ignored.
        let given = [("--syslog-format", syslogFormatArgument != nil), ("--syslog-ca", syslogCA != nil), ("--syslog-cert", syslogCert != nil),
                     ("--syslog-key", syslogKey != nil), ("--syslog-peer-name", syslogPeerName != nil)].filter(\.1).map(\.0)
        if syslog.isEmpty, !given.isEmpty {
            throw ValidationError("\(given.joined(separator: ", ")) \(given.count == 1 ? "applies" : "apply") to --syslog destinations, and none is given")
        }
    }

    @Option(help: ArgumentHelp("Only analyse packets matching this BPF expression (libpcap syntax).", valueName: "EXPR"))
    var bpf: String?

    @Option(name: .customLong("flow-log"),
            help: ArgumentHelp("Write a record of every flow to this file when it ends: a Suricata EVE flow event (packets and bytes each way, start, end, state, why it ended) with the zones of both ends and of the segment; flows still open are written at the end. analyze creates or truncates it, run appends. Overrides sensor.flow_log.",
                               valueName: "PATH"), completion: .file())
    var flowLog: String?

    @Option(name: .customLong("evidence"),
            help: ArgumentHelp("Keep the packets behind every alert written: one pcap file per alert in this directory (created with mode 0700; files 0600), holding its flow's first packets, the alert's packet and up to sensor.evidence.packets_per_flow (default 32) that follow. The alert names its file (pcap=..., EVE alert.metadata.zw_pcap). Passwords, communities and other secrets the inspectors recognise are overwritten with '*'. The directory is kept under sensor.evidence.max_megabytes (default 1024), the oldest files removed first. Overrides sensor.evidence.dir.",
                               valueName: "DIR"), completion: .directory)
    var evidence: String?
}

/// Refuses -c and -o given more than once: the parser keeps the last, and a
/// second -c would have the first configuration silently unchecked and unused.
func refuseRepeatedOptions(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) throws {
    let options = [("-c", "--config"), ("-o", "--output")]
    for (short, long) in options {
        var count = 0
        for a in arguments {
            if a == "--" { break }
            if a == short || a == long || a.hasPrefix(long + "=") || a.hasPrefix(short + "=") { count += 1 }
        }
        if count > 1 { throw ValidationError("\(short)/\(long) is given \(count) times: give it once") }
    }
}

