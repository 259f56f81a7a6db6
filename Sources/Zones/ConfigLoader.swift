import Decode
import Foundation
import Platform
import Vocabulary
import Yams

extension ZoneConfig {
    /// Reads and validates a zone configuration file.
    ///
    /// - Throws: ``ConfigErrors`` with every mistake found, each as
    ///   `file:line:column: what is wrong`.
    /// - Parameter rules: the rule catalogue, to report rule names that name
    ///   no rule together with every other mistake (the detect stage checks them again).
    /// - Parameter alsoChecking: checks of a later stage (the outputs) that
    ///   need no valid zones: run on what was read when it has mistakes, so
    ///   that every mistake is said at once (with none, the caller runs them).
    public static func load(path: String, rules: RuleCatalogue? = nil,
                            alsoChecking: ((ZoneConfig) -> [ConfigError])? = nil) throws(ConfigErrors) -> ZoneConfig {
        let text: String
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            throw ConfigErrors([ConfigError(file: path, line: 0, column: 0, message: "cannot read configuration: no such file")])
        }
        if isDirectory.boolValue {
            throw ConfigErrors([ConfigError(file: path, line: 0, column: 0, message: "cannot read configuration: is a directory")])
        }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            guard let decoded = String(data: data, encoding: .utf8) else {
                throw ConfigErrors([ConfigError(file: path, line: 0, column: 0, message: "not UTF-8 text")])
            }
            text = decoded
        } catch let errors as ConfigErrors {
            throw errors
        } catch {
            let reason = FileManager.default.isReadableFile(atPath: path) ? "read error" : "permission denied"
            throw ConfigErrors([ConfigError(file: path, line: 0, column: 0, message: "cannot read configuration: \(reason)")])
        }
        return try parse(yaml: text, file: path, rules: rules, alsoChecking: alsoChecking)
    }

    /// The line (1-based) after `line` where `key` is written again at the same
    /// column as a mapping key (`key:`), or nil.
    static func repetition(of key: String, after line: Int, column: Int, in text: String) -> Int? {
        // Every line break YAML knows ("\r\n" is one Character in Swift, not "\n").
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        guard line >= 1, column >= 1, line < lines.count else { return nil }
        for n in line..<lines.count {
            let l = lines[n]
            let indent = l.prefix { $0 == " " }.count
            // A key in a flow mapping on one line ({ a: 1, a: 2 }) is not found this way: Yams's line is kept then.
            guard indent == column - 1, l.dropFirst(indent).hasPrefix(key) else { continue }
            let rest = l.dropFirst(indent + key.count).drop { $0 == " " }
            if rest.hasPrefix(":") { return n + 1 }
        }
        return nil
    }

    /// Parses and validates configuration text; `file` names it in messages.
    public static func parse(yaml text: String, file: String, rules: RuleCatalogue? = nil,
                             alsoChecking: ((ZoneConfig) -> [ConfigError])? = nil) throws(ConfigErrors) -> ZoneConfig {
        var reader = ConfigReader(file: file)
        reader.rules = rules
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            var converted = reader.convert(error)
            if case .duplicatedKeysInMapping(let keys, let context) = error, keys.count == 1,
               let again = Self.repetition(of: keys[0], after: context.mark.line, column: context.mark.column, in: text) {
                // Yams names the first occurrence; the one to remove or rename is the repetition.
                converted = ConfigError(file: file, line: again, column: context.mark.column,
                                        message: "duplicate key \"\(keys[0])\" in a mapping (first at line \(context.mark.line))")
            }
            // The commonest cause of a YAML error: a tab copied into the indentation.
            let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
            if converted.line > 0, converted.line <= lines.count, lines[converted.line - 1].prefix(while: { $0 == " " || $0 == "\t" }).contains("\t") {
                throw ConfigErrors([ConfigError(file: converted.file, line: converted.line, column: converted.column,
                                                message: converted.message + "; line \(converted.line) is indented with a tab: YAML indents with spaces only")])
            }
            throw ConfigErrors([converted])
        } catch {
            throw ConfigErrors([ConfigError(file: file, line: 0, column: 0, message: "invalid YAML: \(error)")])
        }
        guard let root else {
            throw ConfigErrors([ConfigError(file: file, line: 0, column: 0, message: "empty configuration: expected a mapping with a zones: section")])
        }
        var config = reader.readConfig(root)
        if let sources = config?.inventorySources, !sources.isEmpty {
            // Read whatever else is wrong, so that every mistake is said at once (sorted by line below):
            // a bad date must not hide an exception naming a host the inventory does not know.
            let (inventory, errors) = Inventory.load(sources, configFile: file)
            config?.inventory = inventory
            reader.errors += errors
            if errors.isEmpty {
                let known = Set(inventory.assets.map(\.name))
                for (name, key, at) in reader.inventoryNames where !known.contains(name) {
                    reader.errors.append(ConfigError(file: file, at: at, "exception \(key): \"\(name)\" is no zone, IP address, prefix, MAC or name in the inventory\(Spelling.suggestion(name, Array(known).sorted(), fallback: ""))"))
                }
            }
        }
        if !reader.errors.isEmpty, let config, let alsoChecking { reader.errors += alsoChecking(config) }
        if !reader.errors.isEmpty || config == nil {
            throw ConfigErrors(reader.errors.sorted { ($0.line, $0.column) < ($1.line, $1.column) })
        }
        return config!
    }
}

/// Walks the YAML node tree, collecting every mistake with its position.
struct ConfigReader {
    let file: String

    /// A path relative to the configuration's folder, so that the sensor finds
    /// the file from any working directory.
    func relativeToConfig(_ path: String) -> String {
        let folder = (file as NSString).deletingLastPathComponent
        return path.hasPrefix("/") || folder.isEmpty ? path : "\(folder)/\(path)"
    }
    var errors: [ConfigError] = []
    /// Exception ends that are names (`from: web-01`), for the inventory to confirm.
    var inventoryNames: [(name: String, key: String, position: SourcePosition)] = []
    /// The rule catalogue, when the caller knows it.
    var rules: RuleCatalogue?

    init(file: String) { self.file = file }

    // MARK: Node helpers

    func position(_ node: Node) -> SourcePosition {
        guard let mark = node.mark else { return .unknown }
        return SourcePosition(line: mark.line, column: mark.column)
    }

    mutating func error(_ node: Node, _ message: String) {
        errors.append(ConfigError(file: file, at: position(node), message))
    }

    /// The scalar's text exactly as written (no YAML 1.1 type guessing: a MAC
    /// such as 00:11:22:33:44:55 stays a string).
    mutating func scalar(_ node: Node, _ what: String) -> String? {
        if case .scalar(let s) = node { return s.string }
        error(node, "\(what) must be a single value, not a \(kindName(node))")
        return nil
    }

    /// A file or folder the sensor writes: relative to the configuration's
    /// folder, as every other path in it; `-` (standard output) as it is; left
    /// empty (`key:`) it is not set, and `""` is a mistake.
    mutating func writtenPath(_ node: Node, _ what: String) -> String? {
        // `key:`, `key: ~`, `key: null`: not set.
        if case .scalar(let s) = node, s.style == .plain || s.style == .any, ["", "~", "null", "Null", "NULL"].contains(s.string) { return nil }
        guard let text = scalar(node, what) else { return nil }
        if text.isEmpty {
            error(node, "\(what) is an empty path: give a file, or leave the key out")
            return nil
        }
        return text == "-" ? text : FileIdentity.absolutePath(relativeToConfig(text))
    }


    /// Items of a sequence; a single scalar counts as a one-item list.
    mutating func list(_ node: Node, _ what: String) -> [Node] {
        switch node {
        case .sequence(let seq): return Array(seq)
        case .scalar(let s) where s.string.isEmpty && s.tag.description.hasSuffix("null"): return []
        case .scalar: return [node]
        default:
            error(node, "\(what) must be a list")
            return []
        }
    }

    /// Key/value pairs of a mapping, with unknown keys reported.
    mutating func mapping(_ node: Node, _ what: String, allowed: [String]?) -> [(key: String, keyNode: Node, value: Node)]? {
        guard case .mapping(let map) = node else {
            if case .scalar(let s) = node, s.string.isEmpty { return [] }  // `zones:` with nothing after it
            error(node, "\(what) must be a mapping of key: value, not a \(kindName(node))")
            return nil
        }
        var out: [(String, Node, Node)] = []
        for (keyNode, value) in map {
            guard case .scalar(let k) = keyNode else {
                error(keyNode, "keys in \(what) must be plain names")
                continue
            }
            if let allowed, !allowed.contains(k.string) {
                error(keyNode, "unknown key \"\(k.string)\" in \(what)\(suggestion(k.string, allowed))")
                continue
            }
            out.append((k.string, keyNode, value))
        }
        return out
    }

    func kindName(_ node: Node) -> String {
        switch node {
        case .scalar: return "single value"
        case .mapping: return "mapping"
        case .sequence: return "list"
        case .alias: return "YAML alias"
        }
    }

    func suggestion(_ word: String, _ candidates: [String]) -> String {
        Spelling.suggestion(word, candidates)
    }

    func convert(_ error: YamlError) -> ConfigError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _), .composer(let context, let problem, let mark, _):
            var message = "invalid YAML: \(problem)"
            if let context { message += " (\(context.text) at line \(context.mark.line))" }
            return ConfigError(file: file, line: mark.line, column: mark.column, message: message)
        case .reader(let problem, _, _, _):
            return ConfigError(file: file, line: 0, column: 0, message: "invalid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ConfigError(file: file, line: context.mark.line, column: context.mark.column,
                               message: "duplicate key \(duplicates.map { "\"\($0)\"" }.joined(separator: ", ")) in a mapping")
        default:
            return ConfigError(file: file, line: 0, column: 0, message: "invalid YAML: \(error)")
        }
    }

    // MARK: Sections

    static let topLevelKeys = ["zones", "gateways", "allow", "policy", "rules", "services", "sensor", "multi_homed", "exceptions", "inventory"]
    static let inventoryKeys = ["format", "path", "host"]
    static let exceptionKeys = ["rules", "from", "to", "services", "user", "reason", "expires"]
    static let zoneKeys = ["role", "vlans", "vnis", "subnets", "macs", "outer_vlans", "description"]

    mutating func readConfig(_ root: Node) -> ZoneConfig? {
        guard let top = mapping(root, "the configuration", allowed: Self.topLevelKeys) else { return nil }
        var config = ZoneConfig(file: file, zones: [])
        var zonesNode: Node? = nil
        var pendingAllow: Node? = nil
        var pendingGateways: Node? = nil
        var pendingExceptions: Node? = nil
        for (key, _, value) in top {
            switch key {
            case "zones": zonesNode = value
            case "gateways": pendingGateways = value
            case "allow": pendingAllow = value
            case "policy":
                if let text = scalar(value, "policy") {
                    if let p = Policy(rawValue: text) { config.policy = p } else {
                        error(value, "policy \"\(text)\" must be \"roles\" or \"default-deny\"")
                    }
                }
            case "rules": config.ruleOverrides = readRuleOverrides(value)
            case "services": config.services = readServices(value)
            case "sensor": config.sensor = readSensor(value)
            case "multi_homed": config.multiHomed = readMultiHomed(value)
            case "exceptions": pendingExceptions = value
            case "inventory": config.inventorySources = readInventory(value)
            default: break
            }
        }
        guard let zonesNode else {
            // A misspelt "zones" key has been reported already.
            if errors.isEmpty { error(root, "missing zones: section (at least one zone with a role)") }
            return nil
        }
        config.zones = readZones(zonesNode)
        let names = Set(config.zones.map(\.name))
        if let pendingGateways { config.gateways = readGateways(pendingGateways, zoneNames: names) }
        if let pendingAllow { config.allow = readAllow(pendingAllow, zoneNames: names) }
        if let pendingExceptions { config.exceptions = readExceptions(pendingExceptions, zoneNames: names, namesAllowed: !config.inventorySources.isEmpty) }
        return config
    }

    /// `inventory:` entries: each a format and a file or folder (read once the whole configuration is right).
    mutating func readInventory(_ node: Node) -> [InventorySource] {
        var out: [InventorySource] = []
        for item in list(node, "inventory") {
            guard let fields = mapping(item, "an inventory entry", allowed: Self.inventoryKeys) else { continue }
            var format: String?, path: String?, host: String?
            for (key, _, value) in fields {
                switch key {
                case "format":
                    guard let text = scalar(value, "format") else { continue }
                    if InventoryFormats.format(named: text) == nil {
                        error(value, "unknown inventory format \"\(text)\"\(suggestion(text, InventoryFormats.names))")
                    } else {
                        format = text
                    }
                case "path": path = scalar(value, "path")
                case "host": host = scalar(value, "host")
                default: break
                }
            }
            guard let path, !path.isEmpty else {
                error(item, "an inventory entry needs a path: (a file, or a folder of files)")
                continue
            }
            guard let format else {
                if !fields.contains(where: { $0.key == "format" }) {
                    error(item, "an inventory entry needs a format: (one of: \(InventoryFormats.names.joined(separator: ", ")))")
                }
                continue
            }
            out.append(InventorySource(format: format, path: path, resolvedPath: relativeToConfig(path), host: host, position: position(item)))
        }
        return out
    }

    /// `exceptions:` entries; rule names are checked by the alert stage, which knows the catalogue.
    mutating func readExceptions(_ node: Node, zoneNames: Set<String>, namesAllowed: Bool = false) -> [ExceptionSetting] {
        var out: [ExceptionSetting] = []
        for item in list(node, "exceptions") {
            guard let fields = mapping(item, "an exception", allowed: Self.exceptionKeys) else { continue }
            var e = ExceptionSetting(position: position(item))
            var sawRules = false
            // A scalar or a list of scalars.
            func values(_ v: Node, _ what: String) -> [(String, Node)] {
                if case .scalar = v { return scalar(v, what).map { [($0, v)] } ?? [] }
                return list(v, what).compactMap { n in scalar(n, what).map { ($0, n) } }
            }
            for (key, _, v) in fields {
                switch key {
                case "rules":
                    sawRules = true
                    let keys = values(v, "a rule name or sid")
                    e.rules = keys.map { ($0.0, position($0.1)) }
                    if e.rules.isEmpty { error(v, "exception rules: needs at least one rule name or sid") }
                    if let rules {
                        for (key, n) in keys where !rules.knows(key) {
                            error(n, "exception names unknown rule \"\(key)\"\(rules.suggestion(key))")
                        }
                    }
                case "from", "to":
                    var ends: [ExceptionSetting.End] = []
                    for (text, n) in values(v, "a zone, address, prefix or MAC") {
                        if let end = exceptionEnd(text, zoneNames: zoneNames) {
                            ends.append(end)
                        } else if namesAllowed {
                            // A name the inventory must give: checked once it is read.
                            ends.append(.name(text))
                            inventoryNames.append((text, key, position(n)))
                        } else {
                            error(n, "exception \(key): \"\(text)\" is no zone, IP address, prefix or MAC\(suggestion(text, zoneNames.sorted()))")
                        }
                    }
                    if key == "from" { e.from = ends } else { e.to = ends }
                case "services":
                    var specs: [ServiceSpec] = []
                    for (text, n) in values(v, "a service") {
                        switch ServiceSpec.parse(text) {
                        case .success(let spec): specs.append(spec)
                        case .failure(let f): error(n, "service \"\(text)\": \(f.reason)")
                        }
                    }
                    e.services = specs
                case "user":
                    e.user = scalar(v, "a user name")
                case "reason":
                    let text = scalar(v, "a reason") ?? ""
                    e.reason = text.trimmingCharacters(in: .whitespaces)
                    if e.reason.isEmpty { error(v, "exception reason: must say why the risk is accepted (who decided, a ticket)") }
                case "expires":
                    guard let text = scalar(v, "a date") else { continue }
                    if let day = ExceptionSetting.epochDay(text) {
                        e.expires = text
                        // Years past 2554 do not fit nanoseconds in 64 bits: as good as never.
                        let (ns, overflow) = UInt64(max(day + 1, 0)).multipliedReportingOverflow(by: 86_400 * 1_000_000_000)
                        e.expiresAt = overflow ? .max : ns
                    } else {
                        error(v, "exception expires: \"\(text)\" is not a date YYYY-MM-DD (such as 2027-03-31)")
                    }
                default: break
                }
            }
            if !sawRules { error(item, "an exception needs rules: (the rule names or sids it accepts)") }
            if !fields.contains(where: { $0.key == "reason" }) { error(item, "an exception needs reason: (why the risk is accepted, who decided)") }
            out.append(e)
        }
        return out
    }

    /// A zone name, an IP address, a prefix or a MAC.
    func exceptionEnd(_ text: String, zoneNames: Set<String>) -> ExceptionSetting.End? {
        if zoneNames.contains(text) { return .zone(text) }
        if let a = IPAddress(text) { return .address(a) }
        if text.contains("/"), case .success(let p) = IPPrefix.parse(text) { return .prefix(p) }
        if let m = MACAddress(text) { return .mac(m) }
        return nil
    }

    mutating func readZones(_ node: Node) -> [Zone] {
        guard let entries = mapping(node, "zones", allowed: nil) else { return [] }
        if entries.isEmpty { error(node, "zones: declares no zone") }
        var zones: [Zone] = []
        var vlanOwner = RangeOwners()
        var vniOwner = RangeOwners()
        var prefixOwner: [IPPrefix: (String, SourcePosition)] = [:]
        var macOwner: [MACAddress: (String, SourcePosition)] = [:]
        for (name, keyNode, value) in entries {
            // Zone ids are 16 bits, 0 meaning "in no zone".
            if zones.count == Int(ZoneID.max) {
                error(keyNode, "too many zones: at most \(ZoneID.max) can be declared")
                break
            }
            if name.isEmpty || !name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) {
                error(keyNode, "zone name \"\(name)\" may contain only letters, digits, '-', '_' and '.'")
                continue
            }
            if name == "any" {
                error(keyNode, "\"any\" is reserved (it means every zone in allow rules)")
                continue
            }
            let errorsBefore = errors.count
            guard let fields = mapping(value, "zone \"\(name)\"", allowed: Self.zoneKeys) else { continue }
            let hadUnknownKeys = errors.count > errorsBefore
            var zone = Zone(name: name, role: .guest, vlans: [], vnis: [], subnets: [], macs: [], position: position(keyNode))
            var sawRole = false
            for (key, _, v) in fields {
                switch key {
                case "role":
                    guard let text = scalar(v, "role") else { continue }
                    if let role = Role(rawValue: text) {
                        zone.role = role
                        sawRole = true
                    } else {
                        error(v, "unknown role \"\(text)\"\(suggestion(text, Role.allCases.map(\.rawValue)))")
                        sawRole = true  // reported already
                    }
                case "description":
                    zone.description = scalar(v, "description")
                case "vlans":
                    zone.vlans = readIDRanges(v, zone: name, owners: &vlanOwner, kind: "VLAN", min: 1, max: 4094, example: "100-140")
                        .map { UInt16($0.lowerBound)...UInt16($0.upperBound) }
                case "vnis":
                    zone.vnis = readIDRanges(v, zone: name, owners: &vniOwner, kind: "VNI", min: 0, max: 16_777_215, example: "5000-5099")
                        .map { UInt32($0.lowerBound)...UInt32($0.upperBound) }
                case "subnets":
                    for item in list(v, "subnets") {
                        guard let text = scalar(item, "a subnet") else { continue }
                        if text == "public" {
                            if let (owner, at) = prefixOwner[IPPrefix.publicInternet[0]] {
                                error(item, "public is already declared in zone \"\(owner)\" (line \(at.line))")
                                continue
                            }
                            for prefix in IPPrefix.publicInternet where prefixOwner[prefix] == nil {
                                prefixOwner[prefix] = (name, position(item))
                                zone.subnets.append(prefix)
                            }
                            zone.includesPublic = true
                            continue
                        }
                        switch IPPrefix.parse(text) {
                        case .failure(.badAddress):
                            error(item, "subnet \"\(text)\": not an IPv4 or IPv6 address or prefix (or the keyword public)")
                        case .failure(.badLength(let max)):
                            error(item, "subnet \"\(text)\": prefix length must be 0-\(max)")
                        case .failure(.hostBitsSet(let suggestion)):
                            error(item, "subnet \"\(text)\": host bits are set (did you mean \(suggestion)?)")
                        case .success(let prefix):
                            if let (owner, at) = prefixOwner[prefix] {
                                error(item, "subnet \(prefix) is already declared in zone \"\(owner)\" (line \(at.line)); overlapping subnets must be strictly more specific")
                                continue
                            }
                            prefixOwner[prefix] = (name, position(item))
                            zone.subnets.append(prefix)
                        }
                    }
                case "outer_vlans":
                    // Several zones may ride one service VLAN: no ownership check.
                    var own = RangeOwners()
                    zone.outerVLANs = readIDRanges(v, zone: name, owners: &own, kind: "VLAN", min: 1, max: 4094, example: "200-210")
                        .map { UInt16($0.lowerBound)...UInt16($0.upperBound) }
                case "macs":
                    for item in list(v, "macs") {
                        guard let text = scalar(item, "a MAC address") else { continue }
                        guard let mac = MACAddress(text) else {
                            error(item, "MAC address \"\(text)\" must look like 00:1b:21:aa:bb:cc")
                            continue
                        }
                        if let (owner, at) = macOwner[mac] {
                            error(item, "MAC \(mac) is already declared in zone \"\(owner)\" (line \(at.line))")
                            continue
                        }
                        macOwner[mac] = (name, position(item))
                        zone.macs.append(mac)
                    }
                default: break
                }
            }
            if !sawRole {
                error(keyNode, "zone \"\(name)\" has no role (one of: \(Role.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            let declaresSomething = !zone.vlans.isEmpty || !zone.vnis.isEmpty || !zone.subnets.isEmpty || !zone.macs.isEmpty
            let triedToDeclare = fields.contains { ["vlans", "vnis", "subnets", "macs"].contains($0.key) }
            if !declaresSomething && !triedToDeclare && !hadUnknownKeys {
                error(keyNode, "zone \"\(name)\" declares no vlans, vnis, subnets or macs, so nothing can belong to it")
            }
            zones.append(zone)
        }
        return zones
    }

    /// Reads a list of ids and `"LOW-HIGH"` ranges (VLANs, VNIs), reporting bad
    /// values and ids another zone already declares.
    mutating func readIDRanges(_ node: Node, zone: String, owners: inout RangeOwners,
                               kind: String, min: Int, max: Int, example: String) -> [ClosedRange<Int>] {
        var ranges: [ClosedRange<Int>] = []
        for item in list(node, "\(kind.lowercased())s") {
            guard let text = scalar(item, "a \(kind)") else { continue }
            guard let range = parseRange(text, max: max, min: min) else {
                let bounds = min == 1 ? "an id \(min)-\(max)" : "\(min)-\(max)"
                error(item, "\(kind) \"\(text)\" must be \(bounds) or a range such as \"\(example)\"")
                continue
            }
            if let (clash, owner, at) = owners.firstClash(range) {
                error(item, "\(kind) \(clash) is already declared in zone \"\(owner)\" (line \(at.line))")
                continue
            }
            owners.insert(range, zone: zone, at: position(item))
            ranges.append(range)
        }
        return ranges
    }

    func parseRange(_ text: String, max: Int, min: Int) -> ClosedRange<Int>? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: "-", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 1 || parts.count == 2 else { return nil }
        var values: [Int] = []
        for p in parts {
            guard !p.isEmpty, p.allSatisfy(\.isNumber), let v = Int(p), v >= min, v <= max else { return nil }
            values.append(v)
        }
        let low = values[0], high = values.count == 2 ? values[1] : values[0]
        guard low <= high else { return nil }
        return low...high
    }

    mutating func readGateways(_ node: Node, zoneNames: Set<String>) -> [Gateway] {
        var gateways: [Gateway] = []
        for item in list(node, "gateways") {
            guard let fields = mapping(item, "a gateway", allowed: ["name", "macs", "zones", "description"]) else { continue }
            var gateway = Gateway(name: "", macs: [], position: position(item))
            for (key, _, v) in fields {
                switch key {
                case "name": gateway.name = scalar(v, "name") ?? ""
                case "zones":
                    let items = list(v, "zones")
                    if items.count == 1 { error(v, "gateway zones: name at least two zones it routes between") }
                    for z in items {
                        guard let text = scalar(z, "a zone name") else { continue }
                        if zoneNames.contains(text) { gateway.zones.append(text) } else {
                            error(z, "unknown zone \"\(text)\" in gateway zones\(suggestion(text, zoneNames.sorted()))")
                        }
                    }
                case "macs":
                    for m in list(v, "macs") {
                        guard let text = scalar(m, "a MAC address") else { continue }
                        if let mac = MACAddress(text) { gateway.macs.append(mac) } else {
                            error(m, "MAC address \"\(text)\" must look like 00:1b:21:aa:bb:cc")
                        }
                    }
                default: break
                }
            }
            if gateway.name.isEmpty { error(item, "a gateway needs a name") }
            if gateway.macs.isEmpty && !fields.contains(where: { $0.key == "macs" }) { error(item, "gateway \"\(gateway.name)\" needs macs: [...]") }
            gateways.append(gateway)
        }
        return gateways
    }

    mutating func readAllow(_ node: Node, zoneNames: Set<String>) -> [AllowRule] {
        var rules: [AllowRule] = []
        for item in list(node, "allow") {
            guard let fields = mapping(item, "an allow rule", allowed: ["from", "to", "services", "description"]) else { continue }
            var rule = AllowRule(from: nil, to: nil, services: nil, position: position(item))
            var sawFrom = false, sawTo = false
            for (key, _, v) in fields {
                switch key {
                case "from", "to":
                    var names: [String] = []
                    var any = false
                    for z in list(v, key) {
                        guard let name = scalar(z, "a zone name") else { continue }
                        if name == "any" { any = true; continue }
                        if !zoneNames.contains(name) {
                            error(z, "allow rule names unknown zone \"\(name)\"\(suggestion(name, zoneNames.sorted()))")
                        }
                        names.append(name)
                    }
                    if key == "from" { rule.from = any ? nil : names; sawFrom = true } else { rule.to = any ? nil : names; sawTo = true }
                case "services":
                    var specs: [ServiceSpec] = []
                    for s in list(v, "services") {
                        guard let text = scalar(s, "a service") else { continue }
                        switch ServiceSpec.parse(text) {
                        case .success(let spec): specs.append(spec)
                        case .failure(let e): error(s, "service \"\(text)\": \(e.reason)")
                        }
                    }
                    rule.services = specs
                default: break
                }
            }
            if !sawFrom { error(item, "an allow rule needs from: (a zone name or any)") }
            if !sawTo { error(item, "an allow rule needs to: (a zone name or any)") }
            rules.append(rule)
        }
        return rules
    }

    mutating func readRuleOverrides(_ node: Node) -> [RuleOverride] {
        guard let entries = mapping(node, "rules", allowed: nil) else { return [] }
        var out: [RuleOverride] = []
        for (key, keyNode, value) in entries {
            if let rules, !rules.knows(key) { error(keyNode, "unknown rule \"\(key)\" in rules:\(rules.suggestion(key))") }
            var override = RuleOverride(key: key, enabled: nil, severity: nil, position: position(keyNode))
            switch value {
            case .scalar(let s):
                guard let on = Self.switchValue(s.string) else {
                    error(value, "rule \"\(key)\": \"\(s.string)\" must be on, off, or a mapping such as { severity: high }")
                    continue
                }
                override.enabled = on
            default:
                guard let fields = mapping(value, "rule \"\(key)\"", allowed: ["severity", "enabled"]) else { continue }
                for (k, _, v) in fields {
                    guard let text = scalar(v, k) else { continue }
                    if k == "severity" {
                        if let s = Severity(name: text) { override.severity = s } else {
                            error(v, "severity \"\(text)\" must be critical, high, medium or low")
                        }
                    } else if let on = Self.switchValue(text) {
                        override.enabled = on
                    } else {
                        error(v, "enabled: \"\(text)\" must be true or false")
                    }
                }
            }
            out.append(override)
        }
        return out
    }

    static func switchValue(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "on", "true", "yes", "enabled", "enable": return true
        case "off", "false", "no", "disabled", "disable": return false
        default: return nil
        }
    }

    mutating func readServices(_ node: Node) -> ServiceCatalogue {
        var catalogue = ServiceCatalogue.builtIn
        guard let entries = mapping(node, "services", allowed: ServiceClass.allCases.map(\.rawValue)) else { return catalogue }
        for (key, _, value) in entries {
            let serviceClass = ServiceClass(rawValue: key)!
            var replace = false
            var portsNode = value
            if case .mapping = value {
                guard let fields = mapping(value, "services.\(key)", allowed: ["ports", "replace"]) else { continue }
                portsNode = Node("")
                for (k, _, v) in fields {
                    if k == "replace" {
                        if let text = scalar(v, "replace"), let on = Self.switchValue(text) { replace = on } else {
                            error(v, "replace must be true or false")
                        }
                    } else {
                        portsNode = v
                    }
                }
            }
            var added: [ServiceEntry] = []
            for item in list(portsNode, "services.\(key)") {
                var specText: String? = nil
                var name: String? = nil
                var distinctive = true
                if case .mapping = item {
                    guard let fields = mapping(item, "a service", allowed: ["port", "name", "product", "distinctive"]) else { continue }
                    for (k, _, v) in fields {
                        let text = scalar(v, k)
                        switch k {
                        case "port": specText = text
                        case "name": name = text
                        case "distinctive":
                            if let text, let on = Self.switchValue(text) { distinctive = on } else { error(v, "distinctive must be true or false") }
                        default: break
                        }
                    }
                    if specText == nil { error(item, "a service needs port: such as tcp/8443"); continue }
                } else {
                    specText = scalar(item, "a service")
                }
                guard let specText else { continue }
                switch ServiceSpec.parse(specText) {
                case .success(let spec):
                    added.append(ServiceEntry(spec, name: name ?? "\(key)-\(spec)", product: "site", class: serviceClass, distinctive: distinctive))
                case .failure(let e):
                    error(item, "service \"\(specText)\": \(e.reason)")
                }
            }
            catalogue.apply(serviceClass, entries: added, replace: replace)
        }
        return catalogue
    }

    static let sensorKeys = ["name", "syslog_enterprise_number", "interfaces", "snaplen", "promiscuous", "buffer_size", "max_flows", "max_macs", "flow_timeouts",
                             "alert_throttle_seconds", "stats_interval", "stream_window", "outputs", "state_file", "baseline_seconds", "flow_log",
                             "evidence"]

    mutating func readMultiHomed(_ node: Node) -> MultiHomedSettings {
        var settings = MultiHomedSettings()
        guard let fields = mapping(node, "multi_homed", allowed: ["forbidden", "allowed_macs"]) else { return settings }
        for (key, _, v) in fields {
            switch key {
            case "forbidden":
                settings.forbidden = []
                for pair in list(v, "forbidden") {
                    let items = list(pair, "a role pair")
                    if case .sequence = pair, items.count != 2 {
                        error(pair, "a forbidden pair names two roles, such as [guest, management]")
                        continue
                    }
                    let roles = items.compactMap { item -> Role? in
                        guard let text = scalar(item, "a role") else { return nil }
                        guard let role = Role(rawValue: text) else {
                            error(item, "unknown role \"\(text)\"\(suggestion(text, Role.allCases.map(\.rawValue)))")
                            return nil
                        }
                        return role
                    }
                    if roles.count == 2 { settings.forbidden.append((roles[0], roles[1])) }
                }
            case "allowed_macs":
                for item in list(v, "allowed_macs") {
                    guard let text = scalar(item, "a MAC address") else { continue }
                    if let mac = MACAddress(text) { settings.allowedMACs.append(mac) } else {
                        error(item, "MAC address \"\(text)\" must look like 00:1b:21:aa:bb:cc")
                    }
                }
            default: break
            }
        }
        return settings
    }

    mutating func readSensor(_ node: Node) -> SensorSettings {
        var s = SensorSettings()
        // The files and folders the sensor writes, to refuse two that are one.
        var written: [(key: String, path: String?, node: Node)] = []
        guard let fields = mapping(node, "sensor", allowed: Self.sensorKeys) else { return s }
        func integer(_ v: Node, _ key: String, _ range: ClosedRange<Int>) -> Int? {
            guard let text = scalar(v, key) else { return nil }
            guard let n = Int(text), range.contains(n) else {
                error(v, "\(key) \"\(text)\" must be a whole number \(range.lowerBound)-\(range.upperBound)")
                return nil
            }
            return n
        }
        for (key, _, v) in fields {
            switch key {
            case "name": s.name = scalar(v, "name")
            case "syslog_enterprise_number": s.syslogEnterpriseNumber = integer(v, key, 1...4_294_967_295) ?? s.syslogEnterpriseNumber
            case "interfaces":
                for item in list(v, "interfaces") {
                    guard let name = scalar(item, "an interface name") else { continue }
                    // Captured twice, every alert would be written twice.
                    if s.interfaces.contains(name) { error(item, "interface \(name) is listed twice") } else { s.interfaces.append(name) }
                }
            case "snaplen": s.snaplen = integer(v, key, 64...262_144) ?? s.snaplen
            case "promiscuous":
                if let text = scalar(v, key), let on = Self.switchValue(text) { s.promiscuous = on } else { error(v, "promiscuous must be true or false") }
            case "buffer_size": s.bufferSize = integer(v, key, 65536...(1 << 31 - 1))
            case "max_flows": s.maxFlows = integer(v, key, 1024...50_000_000) ?? s.maxFlows
            case "max_macs": s.maxMACs = integer(v, key, 1024...50_000_000) ?? s.maxMACs
            case "state_file":
                s.stateFile = writtenPath(v, key)
                written.append((key, s.stateFile, v))
            case "flow_log":
                s.flowLog = writtenPath(v, key)
                written.append((key, s.flowLog, v))
            case "evidence":
                guard let items = mapping(v, "evidence", allowed: ["dir", "max_megabytes", "packets_per_flow", "memory_megabytes"]) else { continue }
                for (k, _, x) in items {
                    switch k {
                    case "dir":
                        s.evidence.directory = writtenPath(x, "evidence.dir")
                        written.append(("evidence.dir", s.evidence.directory, x))
                    case "max_megabytes": s.evidence.maximumMegabytes = integer(x, "evidence.max_megabytes", 1...1_048_576) ?? s.evidence.maximumMegabytes
                    case "packets_per_flow": s.evidence.packetsPerFlow = integer(x, "evidence.packets_per_flow", 1...10_000) ?? s.evidence.packetsPerFlow
                    default: s.evidence.memoryMegabytes = integer(x, "evidence.memory_megabytes", 1...65_536) ?? s.evidence.memoryMegabytes
                    }
                }
            case "baseline_seconds": s.baselineSeconds = integer(v, key, 0...31_536_000) ?? s.baselineSeconds
            case "alert_throttle_seconds": s.alertThrottleSeconds = integer(v, key, 0...31_536_000) ?? s.alertThrottleSeconds
            case "stats_interval": s.statsInterval = integer(v, key, 1...86_400) ?? s.statsInterval
            case "stream_window": s.streamWindow = integer(v, key, 512...1_048_576) ?? s.streamWindow
            case "flow_timeouts":
                guard let items = mapping(v, "flow_timeouts", allowed: ["tcp_new", "tcp", "tcp_closed", "udp", "icmp", "other"]) else { continue }
                for (k, _, t) in items {
                    guard let n = integer(t, "flow_timeouts.\(k)", 1...86_400) else { continue }
                    switch k {
                    case "tcp_new": s.flowTimeouts.tcpNew = n
                    case "tcp": s.flowTimeouts.tcpEstablished = n
                    case "tcp_closed": s.flowTimeouts.tcpClosed = n
                    case "udp": s.flowTimeouts.udp = n
                    case "icmp": s.flowTimeouts.icmp = n
                    default: s.flowTimeouts.other = n
                    }
                }
            case "outputs":
                for item in list(v, "outputs") {
                    guard let o = mapping(item, "an output", allowed: ["format", "path", "syslog", "tls"]) else { continue }
                    var out = OutputSetting(format: "eve", path: nil, syslog: nil, position: position(item))
                    for (k, _, x) in o {
                        let text = k == "tls" ? nil : k == "path" ? writtenPath(x, "path") : scalar(x, k)
                        switch k {
                        case "format":
                            // The alert stage checks the name against its formats.
                            if let text { out.format = text; out.formatPosition = position(x) }
                        case "path":
                            out.path = text
                            written.append(("outputs[\(s.outputs.count + 1)].path", text, x))
                        case "tls":
                            guard let t = mapping(x, "tls", allowed: ["ca", "cert", "key", "peer_name"]) else { continue }
                            var tls = OutputTLSSetting(position: position(x))
                            for (tk, _, tx) in t {
                                let value = scalar(tx, tk)
                                switch tk {
                                case "ca": tls.ca = value.map(relativeToConfig)
                                case "cert": tls.cert = value.map(relativeToConfig)
                                case "key": tls.key = value.map(relativeToConfig)
                                default: tls.peerName = value
                                }
                            }
                            out.tls = tls
                        default:
                            out.syslog = text
                            out.syslogPosition = position(x)
                        }
                    }
                    if (out.path == nil) == (out.syslog == nil) { error(item, "an output needs exactly one of path: or syslog:") }
                    s.outputs.append(out)
                }
            default: break
            }
        }
        // Two settings naming one file would truncate or interleave each other (standard output and devices aside).
        var seen: [(key: String, identity: FileIdentity)] = []
        for (key, path, node) in written {
            guard let path, path != "-" else { continue }
            if key != "evidence.dir" && FileIdentity.isFolder(path) {
                error(node, "\(key) \(path) is a folder: give a file")
                continue
            }
            guard let identity = FileIdentity(path) else { continue }
            if let other = seen.first(where: { $0.identity == identity }) {
                error(node, "\(key) names the same file as \(other.key), \(path): give each its own")
            }
            seen.append((key, identity))
        }
        return s
    }
}

/// "Did you mean" hints for misspelt names.
public enum Spelling {
    /// ` (did you mean "x"?)` for a close candidate, else the list of candidates (or `fallback`).
    public static func suggestion(_ word: String, _ candidates: [String], fallback: String? = nil) -> String {
        guard !candidates.isEmpty else { return fallback ?? "" }
        let best = candidates.map { ($0, distance(word.lowercased(), $0)) }.min { $0.1 < $1.1 }
        if let best, best.1 <= max(2, word.count / 3) { return " (did you mean \"\(best.0)\"?)" }
        // An abbreviation (guest-to-mgmt for guest-to-management): each part's letters in order in the candidate's part.
        // Only one candidate it could abbreviate: guest-to-m could be management or migration.
        let abbreviated = candidates.filter { abbreviates(word.lowercased(), $0) }
        if abbreviated.count == 1 { return " (did you mean \"\(abbreviated[0])\"?)" }
        if abbreviated.count > 1 { return " (did you mean one of: \(abbreviated.joined(separator: ", "))?)" }
        return fallback ?? " (expected one of: \(candidates.joined(separator: ", ")))"
    }

    /// Whether `word` abbreviates `name` part by part (parts split at `-` and `_`): the same
    /// number of parts, each starting with its part's first letter, its letters in order.
    static func abbreviates(_ word: String, _ name: String) -> Bool {
        let separators: Set<Character> = ["-", "_"]
        let w = word.split(whereSeparator: { separators.contains($0) }), n = name.split(whereSeparator: { separators.contains($0) })
        guard w.count == n.count, w != n else { return false }
        return zip(w, n).allSatisfy { short, long in
            guard short.first == long.first else { return false }
            var rest = long[...]
            for c in short {
                guard let i = rest.firstIndex(of: c) else { return false }
                rest = rest[rest.index(after: i)...]
            }
            return true
        }
    }

    /// Levenshtein distance.
    public static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

/// The id ranges (VLANs, VNIs) zones have declared so far, kept as ranges:
/// a configuration of wide VNI ranges costs its size, not its ids.
struct RangeOwners {
    /// Disjoint, sorted by lower bound.
    private var ranges: [(range: ClosedRange<Int>, zone: String, at: SourcePosition)] = []

    /// The first id of `range` another range holds, with that range's zone and place.
    func firstClash(_ range: ClosedRange<Int>) -> (Int, String, SourcePosition)? {
        // The first stored range that ends at or after range's start.
        var low = 0, high = ranges.count
        while low < high {
            let mid = (low + high) / 2
            if ranges[mid].range.upperBound < range.lowerBound { low = mid + 1 } else { high = mid }
        }
        guard low < ranges.count, ranges[low].range.lowerBound <= range.upperBound else { return nil }
        let other = ranges[low]
        return (Swift.max(other.range.lowerBound, range.lowerBound), other.zone, other.at)
    }

    mutating func insert(_ range: ClosedRange<Int>, zone: String, at: SourcePosition) {
        // Binary search: a site with tens of thousands of VNIs loads in linear-logarithmic time.
        var low = 0, high = ranges.count
        while low < high {
            let mid = (low + high) / 2
            if ranges[mid].range.lowerBound > range.upperBound { high = mid } else { low = mid + 1 }
        }
        ranges.insert((range, zone, at), at: low)
    }
}
