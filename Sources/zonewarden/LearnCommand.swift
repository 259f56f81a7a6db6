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
        Prints a commented YAML draft: a zone per VLAN and VNI seen, with the \
        subnets of the hosts seen on it and a role guessed from the services its \
        flows reached (vMotion, QEMU or Hyper-V migration ports: migration; \
        iSCSI, NFS, Ceph, FCoE, AoE: storage; hypervisor and BMC management \
        ports: management; VXLAN/Geneve/GRE carried: transport; DNS, NTP, \
        directory: service; otherwise guest), with the evidence as a comment. \
        check-config accepts the draft; review it before use.

        Example:
          zonewarden learn day1.pcap > site.yaml && zonewarden check-config -c site.yaml
        """
    )

    @Argument(help: ArgumentHelp("pcap or pcapng files; - reads standard input.", valueName: "PCAP"))
    var captures: [String]

    func validate() throws {
        if captures.isEmpty { throw ValidationError("give at least one capture file (or - for standard input)") }
    }

    func run() throws {
        // Flows only: every rule off, no zones but a placeholder.
        let yaml = "zones:\n  placeholder: { role: guest, vlans: [4094] }\nrules:\n"
            + RuleRegistry.all.map { "  \($0.metadata.name): off\n" }.joined()
        let zones = ZoneMap(try! ZoneConfig.parse(yaml: yaml, file: "<learn>"))
        let pipeline = try makePipeline(zones, AlertStage(sinks: [], throttle: AlertThrottle(windowSeconds: 0)))
        var learner = ZoneLearner()
        pipeline.onFlowEnd = { record, _ in learner.add(record) }
        let analysis = OfflineAnalysis(pipeline: pipeline, filter: nil)
        var failed = 0
        for path in captures {
            learner.captures.append(path == "-" ? "standard input" : path)
            if let error = analysis.run(path: path) {
                failed += 1
                writeError(error.description)
            }
        }
        pipeline.finish()
        pipeline.flows.removeAll()
        writeOut(learner.draft())
        if failed > 0 { throw ExitCode(ExitStatus.captureUnreadable) }
    }
}
