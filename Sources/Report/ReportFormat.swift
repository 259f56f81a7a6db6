import Alerting
import Detect
import Platform
#if canImport(Glibc)
import Glibc
#endif

/// The output formats of `zonewarden report`.
public enum ReportFormat: String, CaseIterable, Sendable {
    /// One self-contained file: inline CSS and SVG (matrix heat map, zone graph), no scripts.
    case html
    case markdown
    /// The documented schema (README, "Communication report").
    case json
    /// Graphviz: zones as nodes, communication as edges.
    case dot

    public func render(_ report: CommunicationReport) -> String {
        switch self {
        case .html: return HTMLReport.render(report)
        case .markdown: return MarkdownReport.render(report)
        case .json: return JSONReport.render(report)
        case .dot: return DOTReport.render(report)
        }
    }

    /// The format a file name implies (`report.html` → html), if any.
    public init?(fileName: String) {
        switch Self.fileExtension(fileName)?.lowercased() ?? "" {
        case "html", "htm": self = .html
        case "md", "markdown", "txt": self = .markdown
        case "json": self = .json
        case "dot", "gv": self = .dot
        default: return nil
        }
    }

    /// The extension of a path's last component (`zones.svg` → `svg`); nil for
    /// none, a hidden file's leading dot (`.report`) or a name ending in a dot.
    public static func fileExtension(_ path: String) -> Substring? {
        guard let name = path.split(separator: "/").last, let dot = name.lastIndex(of: "."), dot != name.startIndex,
              name.index(after: dot) != name.endIndex else { return nil }
        return name[name.index(after: dot)...]
    }
}

/// What the renderers share.
enum ReportText {
    static let ruleNames: [Int: String] = Dictionary(uniqueKeysWithValues: RuleRegistry.all.map { ($0.metadata.sid, $0.metadata.name) })

    /// The real time span: the earliest and latest packet over all captures
    /// (files given out of order, or overlapping, do not make it run backwards).
    static func span(_ r: CommunicationReport) -> (String, String) {
        let files = r.coverage.filter { $0.first != 0 }
        if !files.isEmpty {
            return (Timestamp.rfc3339(files.map(\.first).min()!), Timestamp.rfc3339(files.map(\.last).max()!))
        }
        guard r.firstTimestamp != 0 else { return ("-", "-") }
        return (Timestamp.rfc3339(min(r.firstTimestamp, r.lastTimestamp)), Timestamp.rfc3339(max(r.firstTimestamp, r.lastTimestamp)))
    }

    /// `web-01 on esx-03, 192.168.100.10:54002 (zone guests)`: an endpoint as the audit's findings show it.
    static func endpoint(_ address: String, _ name: String?, _ zone: String?) -> String {
        (name.map { "\($0), " } ?? "") + address + " (" + (zone.map { "zone \($0)" } ?? "no zone") + ")"
    }

    /// What the findings list holds (with `emphasis` around the section's name, per format).
    static func findingsNote(_ emphasis: (String) -> String) -> String {
        "The first \(CommunicationReport.findingsPerRule) of each rule, in time order (all are counted under \(emphasis("Alerts by rule")))."
    }

    /// `SYS.1.5.A5, NET.1.1.A21`.
    static func requirements(_ r: Audit.Result) -> String { r.requirements.joined(separator: ", ") }

    /// `1001, 1006`, or `-` for a point no rule covers.
    static func rules(_ r: Audit.Result) -> String { r.rules.isEmpty ? "-" : r.rules.map(String.init).joined(separator: ", ") }

    /// A finding's time.
    static func time(_ t: UInt64) -> String { Timestamp.rfc3339(t) }

    /// The last component of a path.
    static func fileName(_ path: String) -> String { path.split(separator: "/").last.map(String.init) ?? path }

    /// A link from the report at `report` to the file at `path`: relative to
    /// the report's folder when both are known (the report and its evidence
    /// can be moved together), else the path as given.
    static func link(to path: String, from report: String?) -> String {
        guard let report, let target = absolute(path), let base = absolute(SafeFile.directory(of: report)) else { return path }
        let t = target.split(separator: "/"), b = base.split(separator: "/")
        var common = 0
        while common < min(t.count, b.count) && t[common] == b[common] { common += 1 }
        return (Array(repeating: "..", count: b.count - common) + t[common...].map(String.init)).joined(separator: "/")
    }

    /// `path` made absolute through its folder (which exists; the file itself may not yet).
    private static func absolute(_ path: String) -> String? {
        let folder = SafeFile.directory(of: path), name = fileName(path)
        guard let resolved = realpath(folder, nil) else { return nil }
        defer { free(resolved) }
        let base = String(cString: resolved)
        if path.hasSuffix("/") || path == "." { return base }
        return (base == "/" ? "" : base) + "/" + name
    }

    /// The packets counted against those read, when they differ: a report
    /// counts the packets of flows; ARP and other frames of no flow are read
    /// (the coverage counts them) but in no cell.
    static func packetsNote(_ r: CommunicationReport) -> String? {
        let read = r.coverage.reduce(UInt64(0)) { $0 + $1.packets }
        guard read > r.packets else { return nil }
        return "\(r.packets) packets are in flows of the \(read) read; the other \(read - r.packets) (frames of no flow: ARP, later fragments, undecodable ones) are in no cell"
    }

    /// Said above the verdicts when some capture was not read whole (damaged,
    /// unreadable, not reached): the verdicts are about what was read.
    static func coverageWarning(_ r: CommunicationReport) -> String? {
        let incomplete = r.coverage.filter {
            ($0.error.map { !$0.hasPrefix("outside the time window") } ?? false) || ($0.details?.contains("read up to the stop") ?? false)
        }
        guard !incomplete.isEmpty else { return nil }
        return "Coverage incomplete: \(incomplete.count) of \(r.coverage.count) capture\(r.coverage.count == 1 ? "" : "s") not read whole "
            + "(\(incomplete.prefix(3).map(\.name).joined(separator: ", "))\(incomplete.count > 3 ? ", ..." : ""); see Coverage): "
            + "the verdicts below are about what was read."
    }

    /// Whether an exception's expiry date (`YYYY-MM-DD`) lies before today
    /// (UTC): lapsed by the time the report is read, though not at the
    /// captures' time (when ``CommunicationReport/AcceptedRisk/expired`` is judged).
    static func lapsedToday(_ expires: String) -> Bool {
        var t = Glibc.time(nil), parts = tm()
        gmtime_r(&t, &parts)
        let today = String(format: "%04d-%02d-%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday))
        return expires < today
    }

    /// 1234567 → "1.2 MB".
    /// Text from the configuration in a Markdown table cell: pipes and line breaks would break the row.
    /// Text from outside (an inventory's names, a finding's message) in a Markdown table cell: a `|` ends
    /// no cell, markup (`<script>`, links, code spans, emphasis) is shown as text, control characters become
    /// spaces (one row stays one line).
    static func markdownCell(_ text: String) -> String {
        var out = ""
        for c in text.unicodeScalars {
            switch c {
            case "|": out += "\\|"
            // Markdown's own syntax (links, code spans, emphasis, strikethrough) is shown as text.
            case "\\", "`", "*", "_", "[", "]", "~": out += "\\"; out.unicodeScalars.append(c)
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            default:
                if isControl(c) { out += " " } else { out.unicodeScalars.append(c) }
            }
        }
        return out
    }

    /// C0 and C1 control characters, DEL, line separators and format controls
    /// (bidi overrides such as U+202E): never written into a page or a table.
    static func isControl(_ c: Unicode.Scalar) -> Bool { Escaping.isControl(c) }

    static func bytes(_ n: UInt64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var v = Double(n), u = 0
        while v >= 1000 && u < units.count - 1 { v /= 1000; u += 1 }
        return u == 0 ? "\(n) B" : String(Int((v * 10).rounded())).withDecimal + " " + units[u]
    }

    static func services(_ c: CommunicationReport.Cell, _ n: Int = 3) -> String {
        c.services.top(n).map { "\($0.key) (\($0.count))" }.joined(separator: ", ")
    }

    static func alerts(_ c: CommunicationReport.Cell) -> String {
        c.alerts.sorted { $0.key < $1.key }.map { "\($0.key) \(ruleNames[$0.key] ?? "") ×\($0.value)" }.joined(separator: ", ")
    }
}

extension String {
    /// "123" (tenths) → "12.3".
    fileprivate var withDecimal: String {
        let digits = count == 1 ? "0" + self : self
        return String(digits.dropLast()) + "." + String(digits.suffix(1))
    }
}
