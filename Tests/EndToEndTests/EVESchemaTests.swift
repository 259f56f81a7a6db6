import Foundation
import Testing
import TestSupport

/// Every EVE alert of every capture at hand against the structure Suricata's
/// own schema (`etc/schema.json` in OISF/suricata, as of 2025) requires of
/// what ZoneWarden writes: the root allows only its listed keys
/// (`additionalProperties: false`) and requires `event_type` and
/// `timestamp`; each key has its type; `alert` allows only its listed keys;
/// `alert.metadata` takes any key, each an array of at least one string (the
/// schema's listed keys are such arrays; Suricata writes rule metadata so);
/// `ether` allows `src_mac`, `dest_mac`, `ether_type`; `vlan` has at least one
/// number. And every Community ID as tshark computes it for the same packets.
@Suite("EVE against Suricata's schema")
struct EVESchemaTests {
    enum Kind { case string, integer, number, array, object, boolean }
    /// The root keys ZoneWarden may write, with the schema's type for each.
    static let root: [String: Kind] = [
        "timestamp": .string, "flow_id": .integer, "in_iface": .string, "event_type": .string, "vlan": .array,
        "src_ip": .string, "src_port": .integer, "dest_ip": .string, "dest_port": .integer, "proto": .string,
        "icmp_type": .integer, "icmp_code": .integer, "ether": .object, "app_proto": .string, "community_id": .string,
        "host": .string, "alert": .object,
        "flow": .object, "metadata": .object, "response_icmp_type": .integer,
    ]
    /// A flow event's `flow` (closed in the schema too).
    static let flow: [String: Kind] = [
        "pkts_toserver": .integer, "pkts_toclient": .integer, "bytes_toserver": .integer, "bytes_toclient": .integer,
        "start": .string, "end": .string, "age": .integer, "state": .string, "reason": .string, "alerted": .boolean,
    ]
    static let alert: [String: Kind] = [
        "action": .string, "category": .string, "gid": .integer, "rev": .integer, "rule": .string, "severity": .integer,
        "signature": .string, "signature_id": .integer, "xff": .string, "metadata": .object, "source": .object, "target": .object,
    ]
    static let ether: [String: Kind] = ["src_mac": .string, "dest_mac": .string, "ether_type": .integer]

    static func check(_ value: Any, _ kind: Kind) -> Bool {
        switch kind {
        case .string: return value is String
        // An integer, not a double nor a boolean (JSONSerialization's NSNumber says which).
        case .integer: return (value as? NSNumber).map { ["q", "i", "l", "s", "Q", "I", "L", "S"].contains(String(cString: $0.objCType)) } ?? false
        case .number: return value is NSNumber
        case .array: return value is [Any]
        case .object: return value is [String: Any]
        case .boolean: return (value as? NSNumber).map { String(cString: $0.objCType) == "c" } ?? false
        }
    }

    /// The mistakes of one line against the schema's structure (none: valid).
    static func mistakes(_ line: String) -> [String] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return ["not a JSON object"] }
        var out: [String] = []
        for key in ["event_type", "timestamp"] where object[key] == nil { out.append("required \(key) missing") }
        for (key, value) in object {
            guard let kind = root[key] else { out.append("\(key): not a key of the schema's root"); continue }
            if !check(value, kind) { out.append("\(key): not of type \(kind)") }
        }
        if let t = object["timestamp"] as? String, t.firstMatch(of: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+[+\-]\d+$/) == nil {
            out.append("timestamp: \(t) does not match the schema's pattern")
        }
        if let vlan = object["vlan"] as? [Any], vlan.isEmpty || !vlan.allSatisfy({ $0 is NSNumber }) { out.append("vlan: not a non-empty list of numbers") }
        if let e = object["ether"] as? [String: Any] {
            for (key, value) in e { if let kind = ether[key] { if !check(value, kind) { out.append("ether.\(key): type") } } else { out.append("ether.\(key): not in the schema") } }
        }
        if let f = object["flow"] as? [String: Any] {
            for (key, value) in f { if let kind = flow[key] { if !check(value, kind) { out.append("flow.\(key): type") } } else { out.append("flow.\(key): not in the schema") } }
        }
        // `metadata` takes only Suricata's own keys: flowvars (a non-empty list of objects), flowints (an object), flowbits, pktvars, entropy.
        if let m = object["metadata"] as? [String: Any] {
            for (key, value) in m {
                switch key {
                case "flowvars", "pktvars": if !((value as? [[String: Any]]).map { !$0.isEmpty } ?? false) { out.append("metadata.\(key): not a non-empty list of objects") }
                case "flowints", "entropy": if !(value is [String: Any]) { out.append("metadata.\(key): not an object") }
                case "flowbits": if !((value as? [String]).map { !$0.isEmpty } ?? false) { out.append("metadata.flowbits: not a non-empty list of strings") }
                default: out.append("metadata.\(key): not in the schema")
                }
            }
        }
        if let a = object["alert"] as? [String: Any] {
            for (key, value) in a {
                guard let kind = alert[key] else { out.append("alert.\(key): not in the schema"); continue }
                if !check(value, kind) { out.append("alert.\(key): not of type \(kind)") }
            }
            for (key, value) in a["metadata"] as? [String: Any] ?? [:] {
                guard let list = value as? [Any], !list.isEmpty, list.allSatisfy({ $0 is String }) else { out.append("alert.metadata.\(key): not a non-empty list of strings"); continue }
            }
        }
        return out
    }

    static var inputs: [(capture: String, config: String)] {
        var inputs = ((try? CaptureExpectation.captureNames) ?? []).compactMap { name in
            (try? CaptureExpectation.load(name).config).map { (repoPath("Captures/\(name).pcap"), $0) }
        }
        if let shared = sharedCaptures {
            inputs += sharedCaptureFiles.map { (shared.appendingPathComponent($0).path, "Tests/Data/shared-captures.yaml") }
        }
        return inputs
    }

    @Test func everyAlertLineHasTheSchemasStructure() throws {
        var lines = 0, flowRecords = 0
        for (capture, config) in Self.inputs {
            let flowLog = temporaryDirectory().appendingPathComponent("flows.json").path
            let r = try zonewarden(["analyze", "-c", config, "--format", "eve", "--flow-log", flowLog, capture])
            #expect([0, 3].contains(r.status), "\(capture): \(r.stderr)")
            // The alerts and the flow records alike.
            let records = ((try? String(contentsOfFile: flowLog, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            flowRecords += records.count
            for line in r.stdoutLines + records {
                lines += 1
                let found = Self.mistakes(line)
                #expect(found.isEmpty, "\(capture): \(found) in \(line)")
            }
        }
        #expect(lines > 200 && flowRecords > 100, "\(lines) lines checked, \(flowRecords) of them flow records")
        // The checker itself: what the schema refuses is refused.
        #expect(Self.mistakes(#"{"timestamp":"2026-11-26T14:00:00.000000+0000","event_type":"alert","zonewarden":{}}"#) == ["zonewarden: not a key of the schema's root"])
        #expect(Self.mistakes(#"{"timestamp":"x","event_type":"alert","alert":{"metadata":{"k":"v"}}}"#).count == 2)
        #expect(Self.mistakes(#"{"event_type":"alert","src_port":"80"}"#).count == 2)
    }

    /// Every alert's Community ID is one tshark computes for a packet of the same capture.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/tshark"), "tshark is not installed (scripts/setup installs it)"))
    func communityIDsAreTsharks() throws {
        var checked = 0
        for (capture, config) in Self.inputs {
            let flowLog = temporaryDirectory().appendingPathComponent("flows.json").path
            let r = try zonewarden(["analyze", "-c", config, "--format", "eve", "--flow-log", flowLog, capture])
            // The alerts' and the flow records' (ICMP's types mapped as the specification maps them).
            let records = ((try? String(contentsOfFile: flowLog, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            let ours = Set((r.stdoutLines + records).compactMap { ((try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any])?["community_id"] as? String })
            guard !ours.isEmpty else { continue }
            let out = temporaryDirectory().appendingPathComponent("cid.txt").path
            let t = try ChildProcess("/usr/bin/tshark", ["--enable-protocol", "communityid", "-r", capture, "-T", "fields", "-E", "occurrence=a", "-E", "separator=,", "-e", "communityid"],
                                     outputPath: out, environment: ["HOME": NSTemporaryDirectory()])
            #expect(t.wait(seconds: 120) == 0)
            let theirs = Set(try String(contentsOfFile: out, encoding: .utf8).split(whereSeparator: { $0 == "\n" || $0 == "," }).map(String.init))
            #expect(ours.isSubset(of: theirs), "\(capture): \(ours.subtracting(theirs)) not computed by tshark")
            checked += ours.count
        }
        #expect(checked > 100, "\(checked) Community IDs compared")
    }
}
