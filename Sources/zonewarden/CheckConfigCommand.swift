import ArgumentParser
import Zones

struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a zone configuration.",
        discussion: """
        Prints one line per mistake as FILE:LINE:COLUMN: WHAT and exits with \
        status 2, or a summary of the zones and exits with 0. An exception \
        (accepted risk) past its expires: date is said on standard error; it \
        no longer applies, and the configuration is still valid.
        """
    )

    @Option(name: [.short, .customLong("config")], help: ArgumentHelp("Zone configuration (YAML).", valueName: "CONFIG"))
    var config: String = defaultConfigPath

    func validate() throws { try refuseRepeatedOptions() }

    func run() throws {
        let zones = try loadZones(config)
        // What analyze and run would refuse of the files the configuration names: one file for two
        // things, or the configuration itself as an output.
        let sensor = zones.config.sensor
        try refuseSharedPaths(sensor.outputs.enumerated().map { ("sensor.outputs[\($0.offset + 1)].path", $0.element.path) }
                              + [("sensor.flow_log", sensor.flowLog), ("sensor.state_file", sensor.stateFile)],
                              configuration: config, evidence: ("sensor.evidence.dir", sensor.evidence.directory))
        _ = try acceptedRisks(zones)
        try writeOut("\(config): OK: \(zones.config.summary)\n")
    }
}
