import ArgumentParser
import Zones

struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a zone configuration.",
        discussion: """
        Prints one line per mistake as FILE:LINE:COLUMN: WHAT and exits with \
        status 2, or a summary of the zones and exits with 0.
        """
    )

    @Option(name: [.short, .customLong("config")], help: ArgumentHelp("Zone configuration (YAML).", valueName: "CONFIG"))
    var config: String

    func run() throws {
        let zones = try loadZones(config)
        print("\(config): OK: \(zones.config.summary)")
    }
}
