import Alerting
import ArgumentParser
import Detect

struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "List the rules with their sid, default severity and M 5.154 point."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Option(help: "Output format: text or json.")
    var format: Format = .text

    func run() throws {
        let rules = RuleRegistry.all.map { $0.metadata }
        switch format {
        case .text:
            print("SID   RULE                                 SEVERITY  M 5.154 POINT")
            for r in rules {
                let name = r.name.padding(toLength: 36, withPad: " ", startingAt: 0)
                let severity = r.defaultSeverity.name.padding(toLength: 9, withPad: " ", startingAt: 0)
                print("\(r.sid)  \(name) \(severity) \(r.measurePoint)")
            }
        case .json:
            let items = rules.map { r in
                "{\"sid\":\(r.sid),\"name\":\(Escaping.json(r.name)),\"severity\":\(Escaping.json(r.defaultSeverity.name)),"
                    + "\"measure_point\":\(Escaping.json(r.measurePoint)),\"summary\":\(Escaping.json(r.summary))}"
            }
            print("[" + items.joined(separator: ",") + "]")
        }
    }
}
