import Foundation
import Alerting
import ArgumentParser
import Capture
import Detect
import Report
import Sensor
import Zones

struct LearnCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "learn",
        abstract: "Draft a zone configuration from what the captures show.",
        discussion: """
        Prints a commented YAML draft. A zone per VLAN and VNI seen (VLANs with \
        ARP or other non-IP frames only too), with the subnets of its hosts and \
        a role guessed from the services its flows reached: vMotion, QEMU or \
        Hyper-V migration ports: migration; iSCSI, NFS, Ceph, FCoE, AoE: \
        storage; hypervisor and BMC management ports: management; sessions to \
        management services in other zones: admin; VXLAN/Geneve/GRE carried: \
        transport; DNS, NTP, directory: service; otherwise guest. Untagged \
        traffic is split by subnet, a role guessed for each. Tunnel endpoints \
        go to a transport zone, QinQ outer tags to the inner VLAN's \
        outer_vlans, MACs behind which several subnets appear to gateways. \
        The evidence for each guess is a comment.

        The draft begins with a review block: what the captures show that the \
        draft accepts (admin zones, gateways, QinQ stacks, tunnel endpoints \
        among other hosts), and the findings of analysing the same captures \
        with the draft (what looks like a violation). check-config accepts the \
        draft; review it before use.

        With --inventory FORMAT:PATH (csv, govc-vm, govc-vnic, libvirt, \
        netbox; a file or a folder), each zone is named after the port group \
        or network most of its inventory addresses are on, the hypervisor, \
        VMkernel, BMC and manager addresses in it are listed, a zone whose \
        inventory addresses are mostly infrastructure of one role takes that \
        role, and the draft declares the inventory.

        With --netbox-prefixes FILE (the JSON of NetBox's /api/ipam/prefixes/), \
        the draft comes from the plan instead: a zone per VLAN with its \
        prefixes, its role from the words of the NetBox role, VLAN name and \
        description; captures given are analysed with it.

        Examples:
          zonewarden learn day1.pcap > site.yaml && \\
              zonewarden check-config -c site.yaml
          zonewarden learn --netbox-prefixes prefixes.json day1.pcap > site.yaml
          zonewarden learn --inventory govc-vnic:vmknics/ \\
              --inventory govc-vm:vms.json day1.pcap > site.yaml
        """
    )

    @Option(name: .customLong("netbox-prefixes"), help: ArgumentHelp("Draft the zones from NetBox's /api/ipam/prefixes/ JSON instead of from traffic; captures given are then analysed with the draft.", valueName: "FILE"))
    var netboxPrefixes: String?

    @Option(name: .customLong("inventory"), help: ArgumentHelp("An inventory to name the zones by: FORMAT:PATH (csv, govc-vm, govc-vnic, libvirt, netbox); repeatable.", valueName: "FORMAT:PATH"))
    var inventories: [String] = []

    @Argument(help: ArgumentHelp("pcap or pcapng files (gzip, zstd, xz or lz4 compressed too) or folders of them; - reads standard input (optional with --netbox-prefixes).", valueName: "PCAP"))
    var captures: [String] = []

    func validate() throws {
        if captures.isEmpty && netboxPrefixes == nil { throw ValidationError("give at least one capture file (or - for standard input)") }
        if netboxPrefixes != nil && !inventories.isEmpty { throw ValidationError("--netbox-prefixes drafts from NetBox alone: --inventory does not apply") }
        for i in inventories {
            guard let colon = i.firstIndex(of: ":"), InventoryFormats.format(named: String(i[..<colon])) != nil, i.index(after: colon) < i.endIndex else {
                let format = i.firstIndex(of: ":").map { String(i[..<$0]) } ?? i
                // A known format without its path (--inventory csv) needs the path, not a spelling hint.
                let hint = InventoryFormats.format(named: format) != nil ? " (the path is missing: \(format):FILE)" : Spelling.suggestion(format, InventoryFormats.names, fallback: "")
                throw ValidationError("--inventory \(i): expected FORMAT:PATH, FORMAT one of \(InventoryFormats.names.joined(separator: ", "))\(hint)")
            }
        }
        if captures.filter({ $0 == "-" }).count > 1 { throw ValidationError("standard input (-) can be read only once") }
    }

    func run() throws {
        if let netboxPrefixes { return try fromNetBox(netboxPrefixes) }
        // Flows only: every rule off, no zones but a placeholder.
        let yaml = "zones:\n  placeholder: { role: guest, vlans: [4094] }\nrules:\n"
            + RuleRegistry.all.map { "  \($0.metadata.name): off\n" }.joined()
        let zones = ZoneMap(try! ZoneConfig.parse(yaml: yaml, file: "<learn>"))
        let pipeline = try makePipeline(zones, AlertStage(sinks: [], throttle: AlertThrottle(windowSeconds: 0)))
        var learner = ZoneLearner()
        if !inventories.isEmpty {
            let sources = inventories.map { spec -> InventorySource in
                let colon = spec.firstIndex(of: ":")!
                let path = String(spec[spec.index(after: colon)...])
                let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
                return InventorySource(format: String(spec[..<colon]), path: path, resolvedPath: absolute)
            }
            do throws(ConfigErrors) {
                learner.inventory = try Inventory.read(sources)
            } catch {
                for e in error.errors { writeError("zonewarden: \(e.description)") }
                throw ExitCode(ExitStatus.usage)
            }
        }
        pipeline.onFlowEnd = { record, _ in learner.add(record) }
        var analysis = OfflineAnalysis(pipeline: pipeline, filter: nil)
        analysis.packetObserver = { learner.observe($0) }
        var failed = 0
        // One capture in time order, as analyze reads it (folders walked, captures by their first bytes).
        let archive = CaptureArchive.gather(captures)
        let ordered = archive.files.map(\.path)
        if archive.reordered {
            writeError("zonewarden: reading the captures in the order of their first packets: \(ordered.joined(separator: ", "))")
        }
        for path in ordered {
            let framesBefore = learner.frames
            if let error = analysis.run(path: path) {
                failed += 1
                writeError(error.description)
                // A capture not one frame of which could be read is no source of the draft.
                if learner.frames == framesBefore { continue }
            }
            learner.captures.append(path == "-" ? "standard input" : path)
        }
        pipeline.finish()
        pipeline.flows.removeAll()
        guard let first = learner.draft() else {
            // A capture that could not be read has said so.
            if failed == 0 { writeError("zonewarden: nothing to learn from: the captures hold no frames") }
            throw ExitCode(ExitStatus.captureUnreadable)
        }
        // The captures again, judged by the draft: what it would report is said in it.
        // A stream (standard input, a FIFO, a process substitution) cannot be read a second time.
        let findings = ordered.contains(where: CaptureArchive.isStream) ? nil : try findingsUnder(draft: first, ordered)
        try writeOut(learner.draft(findings: findings) ?? first)
        if failed > 0 { throw ExitCode(ExitStatus.captureUnreadable) }
    }

    /// The draft from NetBox's prefixes; captures, if given, are analysed with it.
    private func fromNetBox(_ file: String) throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            writeError("zonewarden: \(file): cannot read it")
            throw ExitCode(ExitStatus.usage)
        }
        func draft(_ findings: [String]?) throws -> String {
            do throws(NetBoxPrefixDraft.Failure) {
                return try NetBoxPrefixDraft.draft(data, file: file, findings: findings)
            } catch {
                writeError("zonewarden: \(error)")
                throw ExitCode(ExitStatus.usage)
            }
        }
        let plain = try draft(nil)
        let usable = captures.filter { !CaptureArchive.isStream($0) }
        try writeOut(usable.isEmpty ? plain : try draft(findingsUnder(draft: plain, usable)))
    }

    /// Analyses the captures with the draft (every rule at its default) and
    /// sums up what it finds: a line per rule with the count and one example.
    private func findingsUnder(draft: String, _ paths: [String]) throws -> [String] {
        let config: ZoneConfig
        do throws(ConfigErrors) {
            config = try ZoneConfig.parse(yaml: draft, file: "<draft>", rules: RuleRegistry.catalogue)
        } catch {
            // A draft the loader refuses is a bug of learn's: say so rather than print it as if adoptable.
            for e in error.errors { writeError("zonewarden: learn drafted a configuration it cannot load: \(e.description)") }
            throw ExitCode(ExitStatus.usage)
        }
        let zones = ZoneMap(config)
        let tally = FindingTally()
        let alerts = AlertStage(sinks: [tally], throttle: AlertThrottle(windowSeconds: config.sensor.alertThrottleSeconds))
        let pipeline = try makePipeline(zones, alerts)
        let analysis = OfflineAnalysis(pipeline: pipeline, filter: nil)
        for path in paths { _ = analysis.run(path: path) }
        pipeline.finish()
        alerts.flush()
        return tally.lines
    }
}

/// Counts alerts per rule, keeping the first of each as an example.
private final class FindingTally: AlertSink {
    let name = "<learn check>"
    private var rules: [Int: (rule: String, count: Int, example: String)] = [:]

    func write(_ alert: Alert) throws(SinkError) {
        rules[alert.sid, default: (alert.rule, 0, alert.message.description)].count += 1 + alert.suppressed
    }

    func flush() throws(SinkError) {}

    var lines: [String] {
        rules.sorted { $0.key < $1.key }.map { sid, r in "\(sid) \(r.rule) ×\(r.count), e.g. \(r.example)" }
    }
}
