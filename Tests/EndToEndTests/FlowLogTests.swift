import CaptureBuilder
import Foundation
import Testing
import TestSupport

/// `--flow-log`: one Suricata EVE flow record per flow when it ends.
@Suite("Flow records")
struct FlowLogTests {
    static func records(_ path: String) -> [[String: Any]] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    static func flow(_ r: [String: Any]) -> [String: Any] { r["flow"] as? [String: Any] ?? [:] }
    static func int(_ v: Any?) -> Int { (v as? NSNumber)?.intValue ?? -1 }

    /// Every flow once, every packet in one of them, and the flow ids the
    /// alerts name are those of the records marked alerted.
    @Test func everyFlowOnceWithItsAlerts() throws {
        let dir = temporaryDirectory()
        let log = dir.appendingPathComponent("flows.json").path, eve = dir.appendingPathComponent("eve.json").path
        let r = try zonewarden(["analyze", "-c", "config/example.yaml", "--format", "eve", "-o", eve, "--flow-log", log, "--summary",
                                "Captures/example-site.pcap"])
        #expect(r.status == 0, "\(r.stderr)")
        let records = Self.records(log)
        let created = r.stderr.firstMatch(of: /flows: (\d+) created/).flatMap { Int($0.1) } ?? -1
        #expect(records.count == created && created == 12, "\(r.stderr)")
        #expect(Set(records.map { Self.int($0["flow_id"]) }).count == records.count, "one record per flow")
        #expect(records.map { Self.int(Self.flow($0)["pkts_toserver"]) + Self.int(Self.flow($0)["pkts_toclient"]) }.reduce(0, +) == 76)
        #expect(records.allSatisfy { $0["event_type"] as? String == "flow" && Self.flow($0)["reason"] as? String == "shutdown" })
        // The zones where Suricata's schema lets a flow event carry them: metadata.flowvars, single-key objects of strings.
        let flowvars = records.map { (($0["metadata"] as? [String: Any])?["flowvars"] as? [[String: Any]]) ?? [] }
        #expect(flowvars.allSatisfy { $0.allSatisfy { $0.count == 1 && $0.values.first is String && ["zw_src_zone", "zw_dest_zone", "zw_segment_zone"].contains($0.keys.first!) } })
        #expect(flowvars.filter { $0.contains { $0["zw_segment_zone"] as? String == "web" } }.count >= 4, "\(flowvars)")
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.allSatisfy { EVESchemaTests.mistakes($0).isEmpty }, "\(lines.map(EVESchemaTests.mistakes))")
        // Each alert's Community ID is its flow's.
        let communityIDs = Dictionary(records.map { (Self.int($0["flow_id"]), $0["community_id"] as? String) }, uniquingKeysWith: { a, _ in a })
        let alertLines = Self.records(eve).filter { $0["flow_id"] != nil }
        #expect(!alertLines.isEmpty && alertLines.allSatisfy { communityIDs[Self.int($0["flow_id"])] == $0["community_id"] as? String })
        let alerted = Set(records.filter { Self.flow($0)["alerted"] as? Bool == true }.map { Self.int($0["flow_id"]) })
        let alertFlows = Set(Self.records(eve).compactMap { $0["flow_id"] }.map { Self.int($0) })
        #expect(!alertFlows.isEmpty && alertFlows.isSubset(of: alerted), "\(alertFlows) \(alerted)")
        let http = records.first { $0["dest_port"] as? Int == 80 }
        #expect(http?["app_proto"] as? String == "http" && http?["src_ip"] as? String == "192.168.100.10" && (http?["vlan"] as? [Int]) == [100])
        #expect(Self.flow(http ?? [:])["state"] as? String == "closed")
    }

    /// Packets and bytes of every TCP flow are what tshark counts per TCP stream.
    @Test func countsAgreeWithTshark() throws {
        let dir = try #require(sharedCaptures, "../shared/captures is missing")
        let tshark = try #require(["/usr/bin/tshark", "/usr/local/bin/tshark"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                  "tshark is missing (scripts/setup installs it)")
        for name in ["ftp-anonymous-ipv4.pcap", "ftp-bruteforce.pcap", "http-basic-auth-colon.pcap", "telnet-login-administrator.pcap",
                     "nfsv3-basic.pcap", "iscsi-chap-login-lio.pcap", "ldap-simple-bind.pcap"] {
            let capture = dir.appendingPathComponent(name).path
            let log = temporaryDirectory().appendingPathComponent("flows.json").path
            let r = try zonewarden(["analyze", "-c", "config/example.yaml", "-o", "/dev/null", "--flow-log", log, capture])
            #expect(r.status == 0, "\(name): \(r.stderr)")
            let ours = Self.records(log).filter { $0["proto"] as? String == "TCP" }.map { r in
                [Self.int(Self.flow(r)["pkts_toserver"]) + Self.int(Self.flow(r)["pkts_toclient"]),
                 Self.int(Self.flow(r)["bytes_toserver"]) + Self.int(Self.flow(r)["bytes_toclient"])]
            }
            let out = temporaryDirectory().appendingPathComponent("tshark.out").path
            let p = try ChildProcess(tshark, ["-r", capture, "-Y", "tcp", "-T", "fields", "-e", "tcp.stream", "-e", "frame.len"], outputPath: out)
            #expect(p.wait(seconds: 60) == 0)
            var streams: [String: [Int]] = [:]
            for line in try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n") {
                let f = line.split(separator: "\t")
                guard f.count == 2, let length = Int(f[1]) else { continue }
                streams[String(f[0]), default: [0, 0]][0] += 1
                streams[String(f[0]), default: [0, 0]][1] += length
            }
            #expect(!ours.isEmpty)
            #expect(ours.sorted { $0.lexicographicallyPrecedes($1) } == Array(streams.values).sorted { $0.lexicographicallyPrecedes($1) }, "\(name)")
        }
    }

    /// ICMP flows: an echo's request and reply types, a destination
    /// unreachable's type and code, each with the Community ID of its alerts' kind.
    @Test func icmpTypesAndCodes() throws {
        let dir = temporaryDirectory()
        let s = CaptureScript()
        let a = CaptureBuilder.Host("192.168.100.10"), b = CaptureBuilder.Host("192.168.100.11")
        s.ping(from: a, to: b)
        s.append(s.ipPacket(from: b, to: a, proto: 1, transport: Frames.icmp(type: 3, code: 13, payload: [UInt8](repeating: 0, count: 28)), wire: .plain))
        let capture = dir.appendingPathComponent("icmp.pcap").path
        try s.write(to: capture)
        let log = dir.appendingPathComponent("flows.json").path
        #expect(try zonewarden(["analyze", "-c", "config/example.yaml", "-o", "/dev/null", "--flow-log", log, capture]).status == 0)
        let records = Self.records(log)
        let echo = records.first { Self.int($0["icmp_type"]) == 8 }, unreachable = records.first { Self.int($0["icmp_type"]) == 3 }
        #expect(echo?["response_icmp_type"] as? Int == 0 && echo?["icmp_code"] == nil && echo?["src_port"] == nil, "\(records)")
        #expect(unreachable?["icmp_code"] as? Int == 13 && unreachable?["response_icmp_type"] == nil && unreachable?["src_ip"] as? String == "192.168.100.11", "\(records)")
        // Community ID v1's mapping (an echo one two-way flow, an unreachable a one-way one) as tshark computes it.
        let tshark = try #require(["/usr/bin/tshark", "/usr/local/bin/tshark"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                  "tshark is missing (scripts/setup installs it)")
        let out = dir.appendingPathComponent("cid.txt").path
        let t = try ChildProcess(tshark, ["--enable-protocol", "communityid", "-r", capture, "-T", "fields", "-e", "communityid"],
                                 outputPath: out, environment: ["HOME": NSTemporaryDirectory()])
        #expect(t.wait(seconds: 60) == 0)
        let theirs = Set(try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map(String.init))
        let ours = [echo, unreachable].compactMap { $0?["community_id"] as? String }
        #expect(ours.count == 2 && Set(ours).isSubset(of: theirs), "\(ours) \(theirs)")
    }

    /// Why a flow ended: idle past its timeout, evicted from a full table, or
    /// still open at the end.
    @Test func reasons() throws {
        let dir = temporaryDirectory()
        let s = CaptureScript()
        let a = CaptureBuilder.Host("192.168.100.10"), b = CaptureBuilder.Host("192.168.100.11")
        s.tcp(client: a, clientPort: 40_001, server: b, serverPort: 80, messages: [(true, Array("GET / HTTP/1.1\r\n\r\n".utf8))])
        s.wait(seconds: 600)
        s.tcp(client: a, clientPort: 40_002, server: b, serverPort: 80, messages: [(true, Array("GET / HTTP/1.1\r\n\r\n".utf8))])
        let capture = dir.appendingPathComponent("two.pcap").path
        try s.write(to: capture)
        let log = dir.appendingPathComponent("flows.json").path
        #expect(try zonewarden(["analyze", "-c", "config/example.yaml", "-o", "/dev/null", "--flow-log", log, capture]).status == 0)
        let reasons = Self.records(log).map { "\($0["src_port"] ?? "") \(Self.flow($0)["reason"] ?? "")" }
        #expect(reasons == ["40001 timeout", "40002 shutdown"], "\(reasons)")

        // A table of 1,024 flows for 2,000: evicted flows are "forced"; every flow has one record.
        let bench = dir.appendingPathComponent("bench.pcap").path
        _ = try BenchmarkCapture.write(path: bench, packets: 20_000, flows: 2_000, seed: 3)
        let small = dir.appendingPathComponent("small.yaml").path
        try (try String(contentsOfFile: repoPath("config/example.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "  max_flows: 262144\n", with: "  max_flows: 1024\n")).write(toFile: small, atomically: true, encoding: .utf8)
        let r = try zonewarden(["analyze", "-c", small, "-o", "/dev/null", "--flow-log", log, "--summary", bench])
        #expect(r.status == 0, "\(r.stderr)")
        let records = Self.records(log)
        let created = r.stderr.firstMatch(of: /flows: (\d+) created/).flatMap { Int($0.1) } ?? -1
        let evicted = r.stderr.firstMatch(of: /(\d+) evicted/).flatMap { Int($0.1) } ?? -1
        #expect(records.count == created, "\(r.stderr)")
        #expect(evicted > 0 && records.filter { Self.flow($0)["reason"] as? String == "forced" }.count == evicted, "\(r.stderr)")
    }

    /// A flow log on a full disk: whole lines only, the lost records counted in
    /// one message, status 4, and every alert still written.
    @Test(.enabled(if: SmallFilesystem.isAvailable, "needs root to mount a small tmpfs"))
    func fullDisk() throws {
        let dir = temporaryDirectory()
        let bench = dir.appendingPathComponent("bench.pcap").path
        _ = try BenchmarkCapture.write(path: bench, packets: 5_000, flows: 300, seed: 4)
        let complete = dir.appendingPathComponent("flows.json").path
        #expect(try zonewarden(["analyze", "-c", "config/example.yaml", "-o", "/dev/null", "--flow-log", complete, bench]).status == 0)
        let all = Self.records(complete).count
        let disk = try SmallFilesystem(kilobytes: 16)
        defer { disk.unmount() }
        let eve = dir.appendingPathComponent("eve.json").path, log = disk.directory + "/flows.json"
        let r = try zonewarden(["analyze", "-c", "config/example.yaml", "--format", "eve", "-o", eve, "--flow-log", log, bench])
        #expect(r.status == 4, "\(r.stderr)")
        let lost = r.stderr.firstMatch(of: /zonewarden: flow log \S+flows\.json: write failed: No space left on device; (\d+) flow records not written\n/)
        #expect(lost != nil, "\(r.stderr)")
        let text = try String(contentsOfFile: log, encoding: .utf8)
        let written = text.split(separator: "\n")
        #expect(text.hasSuffix("\n") && written.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil }, "whole lines only")
        #expect(written.count + (lost.flatMap { Int($0.1) } ?? -1) == all, "\(written.count) written of \(all)")
        let alerts = try zonewarden(["analyze", "-c", "config/example.yaml", "--format", "eve", bench])
        #expect(Self.records(eve).count == alerts.stdoutLines.count && !alerts.stdoutLines.isEmpty, "the alerts are all written")
    }

    /// Standard output takes the flow log only when the alerts go elsewhere.
    @Test func standardOutput() throws {
        let both = try zonewarden(["analyze", "-c", "config/example.yaml", "--flow-log", "-", "Captures/example-site.pcap"])
        #expect(both.status == 2 && both.stderrLines.count == 1 && both.stderr.contains("--flow-log -: the alerts already go to standard output"))
        let flows = try zonewarden(["analyze", "-c", "config/example.yaml", "-o", "/dev/null", "--flow-log", "-", "Captures/example-site.pcap"])
        #expect(flows.status == 0 && flows.stdoutLines.count == 12 && flows.stdoutLines.allSatisfy { $0.contains("\"event_type\":\"flow\"") })
    }
}
