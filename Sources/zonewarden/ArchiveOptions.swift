import Alerting
import ArgumentParser
import Foundation
import Sensor
#if canImport(Glibc)
import Glibc
#endif

/// A moment as --since and --until take it: RFC 3339
/// (`2026-11-01T00:00:00Z`, `2026-11-01` for midnight UTC) or relative to now
/// (`-7d`, `-36h`, `-90m`, `-30s`).
struct Moment: ExpressibleByArgument {
    let nanoseconds: UInt64

    init?(argument: String) {
        if let relative = Self.relative(argument, now: Date()) {
            nanoseconds = relative
        } else if let t = Timestamp.parseRFC3339(argument) ?? Timestamp.parseRFC3339(argument + "T00:00:00Z") {
            nanoseconds = t
        } else {
            return nil
        }
    }

    /// For `transform:`: a value that is no moment says what would be.
    static func parse(_ text: String) throws -> Moment {
        guard let moment = Moment(argument: text) else {
            throw ValidationError("give RFC 3339 with its offset (2026-11-26T14:00:00Z, 2026-11-26T15:00:00+01:00), a date (2026-11-26, midnight UTC) or a time relative to now (-7d, -36h, -90m, -30s)")
        }
        return moment
    }

    static func relative(_ text: String, now: Date) -> UInt64? {
        guard text.hasPrefix("-"), let unit = text.last, let amount = Double(text.dropFirst().dropLast()), amount >= 0 else { return nil }
        let seconds: Double
        switch unit {
        case "d": seconds = amount * 86_400
        case "h": seconds = amount * 3_600
        case "m": seconds = amount * 60
        case "s": seconds = amount
        default: return nil
        }
        let at = now.timeIntervalSince1970 - seconds
        return at > 0 ? UInt64(at * 1e9) : 0
    }

    static var defaultCompletionKind: CompletionKind { .default }
}

/// The options that make many captures one: the time window and the status line.
struct ArchiveOptions: ParsableArguments {
    // .unconditional: a relative moment starts with "-" (--since -7d).
    @Option(parsing: .unconditional,
            help: ArgumentHelp("Analyse only packets from this moment on: RFC 3339 (2026-11-01T00:00:00Z, 2026-11-01T01:00:00+01:00, or 2026-11-01 for midnight UTC) or relative to now (-7d, -36h, -90m, -30s). Files that end before it are not read (found from their record headers; a compressed file is decompressed to find its end); other packets before it are passed over without being decoded.", valueName: "TIME"), transform: Moment.parse)
    var since: Moment?

    @Option(parsing: .unconditional,
            help: ArgumentHelp("Analyse only packets up to this moment (as --since). Files that begin after it are not read at all.", valueName: "TIME"), transform: Moment.parse)
    var until: Moment?

    @Flag(help: "Show progress even when standard error is not a terminal: one line every --progress-interval seconds (on a terminal a status line is shown anyway).")
    var progress = false

    @Option(name: .customLong("progress-interval"), help: ArgumentHelp("Seconds between progress lines when standard error is not a terminal (default 10; implies --progress).", valueName: "SECONDS"))
    var interval: Double?

    @Flag(help: "No status line, even on a terminal, and no notes on how the inputs are read (files skipped as no capture, or given twice; the reading order). Errors are still said.")
    var quiet = false

    func validate() throws {
        if let since, let until, since.nanoseconds > until.nanoseconds { throw ValidationError("--since must not be after --until") }
        if let interval, !(0.5...3600).contains(interval) { throw ValidationError("--progress-interval must be 0.5-3600 seconds") }
        if (progress || interval != nil) && quiet { throw ValidationError("--\(progress ? "progress" : "progress-interval") and --quiet contradict each other") }
    }

    /// Seconds between progress lines.
    var progressInterval: Double { interval ?? 10 }

    /// The window in nanoseconds, nil when neither bound is given.
    var window: (start: UInt64, end: UInt64)? {
        since == nil && until == nil ? nil : (since?.nanoseconds ?? 0, until?.nanoseconds ?? .max)
    }

    /// Whether a status line is shown, and whether it is redrawn in place:
    /// on its own on a terminal only when what is written (alerts, a report)
    /// does not go to the same terminal, where the two would mix.
    func meter(writingToStandardOutput: Bool) -> (show: Bool, terminal: Bool) {
        let terminal = isatty(2) == 1
        if quiet { return (false, false) }
        return (progress || interval != nil || (terminal && !(writingToStandardOutput && isatty(1) == 1)), terminal)
    }
}

/// The name of the one link the inputs are read as, for the rules that judge
/// a link (5003): the one input's own name (a file's or a folder's), else the
/// first file's in reading order and how many more (the same whatever order
/// the files were named in).
func continuousLinkName(_ inputs: [String], _ archive: CaptureArchive) -> String {
    func name(_ path: String) -> String {
        path == "-" ? "standard input" : (path.split(separator: "/").last.map(String.init) ?? path)
    }
    if inputs.count == 1 { return name(inputs[0]) }
    // Named after the files that hold packets (a missing or unreadable one is no part of the link).
    let read = archive.files.filter { $0.first != nil }
    guard let first = read.first ?? archive.files.first else { return name(inputs[0]) }
    let count = read.isEmpty ? archive.files.count : read.count
    return count == 1 ? name(first.path) : "\(name(first.path)) and \(count - 1) more"
}

/// The inputs as one capture (folders walked, files in time order, the time
/// window applied), said on standard error where that differs from what was
/// given; the accounts the analysis fills; the status line, if one is shown
/// (started by the caller, stopped by ``ProgressMeter/stop()``, idempotent).
/// No capture at all is exit status 3.
func openArchive(_ captures: [String], _ options: ArchiveOptions, alerts: AlertStage, writingToStandardOutput: Bool) throws -> (CaptureArchive, FileAccounts, ProgressMeter?) {
    var archive = CaptureArchive.gather(captures)
    for (folder, count) in archive.skipped where !options.quiet {
        writeError("zonewarden: \(folder): \(count) file\(count == 1 ? "" : "s") that \(count == 1 ? "is" : "are") not a capture skipped")
    }
    for path in archive.givenTwice where !options.quiet {
        writeError("zonewarden: \(path) is given more than once: read once")
    }
    if archive.files.isEmpty {
        writeError("zonewarden: no capture files in \(captures.joined(separator: ", "))")
        throw ExitCode(ExitStatus.captureUnreadable)
    }
    if archive.reordered && !options.quiet {
        let paths = archive.files.map(\.path)
        writeError("zonewarden: reading the captures in the order of their first packets"
                   + (paths.count <= 12 ? ": " + paths.joined(separator: ", ") : " (\(paths.count) files)"))
    }
    let settings = options.meter(writingToStandardOutput: writingToStandardOutput)
    if let window = options.window {
        archive.applyWindow(start: window.start, end: window.end) { count in
            // Compressed files are decompressed to find their last packets: a while, said where progress is shown.
            if settings.show { writeError("zonewarden: finding where the \(count) file\(count == 1 ? "" : "s") that begin\(count == 1 ? "s" : "") before --since end ...") }
        }
    }
    let accounts = FileAccounts()
    guard settings.show else { return (archive, accounts, nil) }
    let meter = ProgressMeter(totalFiles: archive.files.count, totalBytes: archive.bytesToRead, accounts: accounts,
                              alerts: { [alerts] in alerts.alertsWritten }, terminal: settings.terminal,
                              interval: options.progressInterval, write: { writeRaw($0) })
    meter.onTerminal = settings.terminal
    return (archive, accounts, meter)
}

/// The note when captures were read without a fault but not one packet was analysed: the
/// time window, the filter or the captures themselves left nothing, and a
/// run that judged nothing must not pass for a clean one. Nil when packets were analysed.
/// - Parameter what: what the command made of nothing ("nothing was analysed").
func nothingAnalysedNote(packets: UInt64, window: (start: UInt64, end: UInt64)?, bpf: String?, accounts: FileAccounts, what: String) -> String? {
    // A capture that failed has said so already, in a line of its own.
    guard packets == 0, !StopSignals.requested, !accounts.list.isEmpty,
          accounts.list.allSatisfy({ $0.outcome == .read || $0.outcome == .skippedByWindow }) else { return nil }
    if let window, accounts.list.contains(where: { $0.outsideWindow > 0 || $0.outcome == .skippedByWindow }) {
        return "zonewarden: note: no packet of the captures lies between \(window.start == 0 ? "the beginning" : Timestamp.rfc3339(window.start)) and \(window.end == .max ? "the end" : Timestamp.rfc3339(window.end)) (--since/--until): \(what)"
    }
    if let bpf {
        return "zonewarden: note: no packet of the captures passed --bpf '\(bpf)', or they hold none: \(what) (on VLAN-tagged traffic a filter matches only after `vlan and`)"
    }
    return "zonewarden: note: the captures hold no packets: \(what)"
}

