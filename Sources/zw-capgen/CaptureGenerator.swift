import ArgumentParser
import Capture
import CaptureBuilder
import Foundation

@main
struct CaptureGenerator: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zw-capgen",
        abstract: "Build ZoneWarden's own captures: the examples under Captures/, benchmark captures and fuzz seeds; time the alert formats.",
        subcommands: [Examples.self, Benchmark.self, FuzzSeeds.self, FormatCost.self]
    )

    struct Examples: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write every example capture into a folder (deterministic bytes).")

        @Option(help: "Output folder.")
        var out: String = "Captures"

        func run() throws {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            for example in ExampleCaptures.all {
                let path = "\(out)/\(example.name).pcap"
                let script = ExampleCaptures.script(example)
                try script.write(to: path)
                print("\(path): \(script.packets.count) packets — \(example.summary)")
            }
        }
    }

    struct Benchmark: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a deterministic benchmark capture with a realistic data-centre mix.")

        @Option(help: "Number of packets.")
        var packets: Int = 2_000_000

        @Option(help: "Concurrent flows kept open across the capture.")
        var flows: Int = 50_000

        @Option(help: "Longest train of packets a flow sends at once (1: every packet from a random flow).")
        var burst: Int = 16

        @Option(help: "Random seed.")
        var seed: UInt64 = 1

        @Flag(name: .customLong("distinct-macs"), help: "Make every other packet an ARP request from a MAC address never seen before.")
        var distinctMACs = false

        @Flag(name: .customLong("open-all"), help: "Begin with every flow's opening (handshake and data both ways) and let no flow end; --packets then counts the packets after the opening.")
        var openAll = false

        @Option(help: "What the traffic gives the sensor to do: \(BenchmarkCapture.Mix.allCases.map(\.rawValue).joined(separator: ", ")).")
        var mix: BenchmarkCapture.Mix = .datacentre

        @Option(help: "Output file.")
        var out: String

        func validate() throws {
            guard flows >= 1 else { throw ValidationError("--flows must be at least 1") }
            guard burst >= 1 else { throw ValidationError("--burst must be at least 1") }
            guard packets >= (openAll ? 0 : 1) else { throw ValidationError("--packets must be at least \(openAll ? 0 : 1)") }
        }

        func run() throws {
            let stats = try BenchmarkCapture.write(path: out, packets: packets, flows: flows, maxBurst: burst, seed: seed, distinctMACs: distinctMACs,
                                                   openAll: openAll, mix: mix)
            print("\(out): \(stats.packets) packets, \(stats.bytes) bytes on the wire, \(flows) concurrent flows, trains of up to \(burst)"
                  + (mix == .datacentre ? "" : ", mix \(mix.rawValue)") + (distinctMACs ? ", every other packet an ARP from a new MAC" : "") + (openAll ? ", every flow opened first" : ""))
        }
    }
}

extension BenchmarkCapture.Mix: ExpressibleByArgument {}
