/// The names and sids of the rules, for the configuration loader: a rule
/// name that names no rule (in `rules:` or an exception) is reported with
/// every other mistake of the file. The detect stage makes it
/// (`RuleRegistry.catalogue`); the loader cannot see the rules themselves.
public struct RuleCatalogue: Sendable {
    public let names: [String]
    public let sids: [Int]

    public init(names: [String], sids: [Int]) {
        self.names = names
        self.sids = sids
    }

    /// Whether `key` is a rule's name or sid.
    public func knows(_ key: String) -> Bool { names.contains(key) || Int(key).map(sids.contains) == true }

    /// ` (did you mean "guest-to-management"?)`, or where to look them up.
    public func suggestion(_ key: String) -> String {
        Spelling.suggestion(key, names, fallback: " (zonewarden rules lists them)")
    }
}
