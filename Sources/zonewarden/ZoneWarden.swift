import CBuildInfo
import ArgumentParser
import Capture
import Sensor
#if canImport(Glibc)
import Glibc
#endif

/// Exit statuses (DESIGN.md): 0 done, 1 an alert at or above `--fail-on`,
/// 2 usage or configuration error, 3 a capture could not be read,
/// 4 an alert output could not be written.
enum ExitStatus {
    static let done: Int32 = 0
    static let alertAtFailOn: Int32 = 1
    static let usage: Int32 = 2
    static let captureUnreadable: Int32 = 3
    static let outputFailed: Int32 = 4
}

@main
struct ZoneWarden: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zonewarden",
        abstract: "Passive network sensor for virtualized data centres (BSI IT-Grundschutz M 5.154).",
        discussion: """
        ZoneWarden sorts traffic into zones by VLAN, overlay id (VXLAN/Geneve VNI) \
        and subnet, and raises alerts when the network of a virtual infrastructure \
        breaks M 5.154: guests reaching management networks, management services \
        exposed or misplaced, undeclared VLANs, addresses in no zone.

        Exit status: 0 done; 1 an alert at or above --fail-on; 2 usage or \
        configuration error; 3 a capture could not be read; 4 an alert output \
        could not be written.
        """,
        version: """
            \(zoneWardenVersion)
            commit \(String(cString: zw_build_commit())), built \(String(cString: zw_build_date()))
            \(PcapHandle.libraryVersion)
            """,
        subcommands: [AnalyzeCommand.self, RunCommand.self, ReportCommand.self, LearnCommand.self, CheckConfigCommand.self, RulesCommand.self]
    )

    /// Parses and runs a subcommand. Usage errors exit with status 2 and one
    /// line on standard error, as DESIGN.md requires (argument-parser's own
    /// default would be 64 and several lines).
    static func main() {
        signal(SIGPIPE, SIG_IGN)  // a closed pipe becomes a write error we report
        // `help NAME` of no subcommand: argument-parser prints the overview and exits 0, as if it were known.
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "help", arguments.count > 1, !arguments[1].hasPrefix("-"),
           !configuration.subcommands.contains(where: { $0.configuration.commandName == arguments[1] || $0.configuration.aliases.contains(arguments[1]) }) {
            let names = configuration.subcommands.compactMap { $0.configuration.commandName }
            writeError("zonewarden: help: no subcommand '\(arguments[1])'; the subcommands are \(names.joined(separator: ", ")) (see zonewarden --help)")
            Glibc.exit(ExitStatus.usage)
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let code as ExitCode {
            Glibc.exit(code.rawValue)
        } catch {
            if exitCode(for: error) == .success { exit(withError: error) }  // --help, --version
            let message = self.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
            // The help that lists the options meant: the subcommand's, when one was named.
            let given = CommandLine.arguments.dropFirst().first ?? ""
            let subcommand = configuration.subcommands.first { $0.configuration.commandName == given || $0.configuration.aliases.contains(given) }
            writeError("zonewarden: \(message) (see \(subcommand.flatMap { $0.configuration.commandName.map { "zonewarden help \($0)" } } ?? "zonewarden --help"))")
            Glibc.exit(ExitStatus.usage)
        }
    }
}

let zoneWardenVersion = "0.1.0"

/// `zonewarden 0.1.0 (commit 1a80f4d53053)`: what reports and the live sensor say made them.
var zoneWardenBuild: String { "zonewarden \(zoneWardenVersion) (commit \(String(cString: zw_build_commit())))" }

/// Writes one line to standard error.
func writeError(_ line: String) {
    // A status line on the terminal is cleared first; the meter redraws it.
    writeRaw((ProgressMeter.isLineShown ? "\r\u{1B}[K" : "") + (line.hasSuffix("\n") ? line : line + "\n"))
}

/// Writes text to standard error as it is (a status line redrawn in place).
func writeRaw(_ text: String) {
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress! + offset, $0.count - offset) }
        if n <= 0 { break }
        offset += n
    }
}
