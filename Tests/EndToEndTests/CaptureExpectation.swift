import Foundation
import Yams

/// What a capture under `Captures/` must raise, read from `NAME.expect.yaml`
/// beside it (as suricata-verify keeps a `test.yaml` beside each `input.pcap`):
///
///     config: config/examples/site-roles.yaml   # the configuration to analyse it with
///     alerts:                                   # every alert, in the order written
///       - [1001, 192.168.100.10, 10.10.0.5]     # sid, source, destination (- for none)
///     must_fire: [1001]                         # sids that must be among them
///     must_not_fire: [1004]                     # sids that must not
///     counts: { 1001: 1 }                       # alerts per sid
///
/// Every key but `config` is optional; a capture without `alerts` is checked
/// by the others only.
struct CaptureExpectation {
    var name: String
    var config: String
    var alerts: [(sid: Int, source: String, destination: String)]?
    var mustFire: [Int] = []
    var mustNotFire: [Int] = []
    var counts: [Int: Int] = [:]

    /// The capture names under `Captures/` (every `.pcap`).
    static var captureNames: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: repoPath("Captures"))) ?? [])
            .filter { $0.hasSuffix(".pcap") }.map { String($0.dropLast(5)) }.sorted()
    }

    static func path(_ name: String) -> String { repoPath("Captures/\(name).expect.yaml") }

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    static func load(_ name: String) throws -> CaptureExpectation {
        let text = try String(contentsOfFile: path(name), encoding: .utf8)
        guard let root = try Yams.load(yaml: text) as? [String: Any] else { throw Invalid(description: "\(name).expect.yaml: not a mapping") }
        let known: Set<String> = ["config", "alerts", "must_fire", "must_not_fire", "counts"]
        if let unknown = root.keys.first(where: { !known.contains($0) }) { throw Invalid(description: "\(name).expect.yaml: unknown key \(unknown)") }
        guard let config = root["config"] as? String else { throw Invalid(description: "\(name).expect.yaml: config: is required") }
        var e = CaptureExpectation(name: name, config: config)
        if let list = root["alerts"] {
            guard let items = list as? [[Any]] else { throw Invalid(description: "\(name).expect.yaml: alerts: is a list of [sid, source, destination]") }
            e.alerts = try items.map { item in
                guard item.count == 3, let sid = item[0] as? Int else { throw Invalid(description: "\(name).expect.yaml: bad alert \(item)") }
                func text(_ v: Any) -> String { let s = "\(v)"; return s == "-" ? "" : s }
                return (sid, text(item[1]), text(item[2]))
            }
        }
        e.mustFire = root["must_fire"] as? [Int] ?? []
        e.mustNotFire = root["must_not_fire"] as? [Int] ?? []
        for (sid, n) in root["counts"] as? [Int: Int] ?? [:] { e.counts[sid] = n }
        return e
    }
}
