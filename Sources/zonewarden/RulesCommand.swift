import Alerting
import ArgumentParser
import Detect

struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "List the rules with their sid, default severity and M 5.154 point.",
        discussion: """
        text: one line per rule, with when it fires; json: an array of objects (sid, name, severity, \
        measure_point, summary); markdown: the table of the README's rule catalogue.
        """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json, markdown
    }

    @Option(help: "Output format: text, json or markdown.")
    var format: Format = .text

    func run() throws {
        let rules = RuleRegistry.all.map { $0.metadata }
        var text = ""
        switch format {
        case .text:
            let width = rules.map(\.measurePoint.count).max() ?? 0
            text += "SID   RULE                                 SEVERITY  " + "M 5.154 POINT".padding(toLength: width + 2, withPad: " ", startingAt: 0) + "FIRES WHEN\n"
            for r in rules {
                let name = r.name.padding(toLength: 36, withPad: " ", startingAt: 0)
                let severity = r.defaultSeverity.name.padding(toLength: 9, withPad: " ", startingAt: 0)
                text += "\(r.sid)  \(name) \(severity) \(r.measurePoint.padding(toLength: width + 2, withPad: " ", startingAt: 0))\(r.summary)\n"
            }
        case .json:
            let items = rules.map { r in
                "{\"sid\":\(r.sid),\"name\":\(Escaping.json(r.name)),\"severity\":\(Escaping.json(r.defaultSeverity.name)),"
                    + "\"measure_point\":\(Escaping.json(r.measurePoint)),\"summary\":\(Escaping.json(r.summary))}"
            }
            text = "[" + items.joined(separator: ",") + "]\n"
        case .markdown:
            text = Self.markdown(rules)
        }
        // A full disk behind `> rules.json` is said, with status 4, as for the other commands.
        try writeOut(text)
    }

    /// The rule catalogue as a Markdown table (the README's is this output).
    static func markdown(_ rules: [RuleMetadata]) -> String {
        func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
        var text = "| sid | rule | severity | M 5.154 point | fires when |\n|---|---|---|---|---|\n"
        for r in rules {
            text += "| \(r.sid) | \(r.name) | \(r.defaultSeverity.name) | \(cell(r.measurePoint)) | \(cell(r.summary)) |\n"
        }
        return text
    }
}
