import ArgumentParser
import Capture
import CaptureBuilder
import Decode
import Foundation
import FuzzHarness
import Inspect

/// Seed corpora for the fuzz targets (Fuzz/, FuzzHarness): real packets and
/// captures, the shipped configurations, and the dialogues every inspector
/// reads in those captures.
struct FuzzSeeds: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz-seeds",
        abstract: "Write seed corpora for the fuzz targets (packets, pcap, config, inspectors).")

    @Option(help: "Output folder; one subfolder per target.")
    var out: String = "fuzz-out/seeds"

    @Option(help: "Captures to take packets from (files or folders; repeatable).")
    var captures: [String] = ["Captures", "../shared/captures"]

    func run() throws {
        for target in ["packets", "pcap", "config", "inspectors"] {
            try FileManager.default.createDirectory(atPath: "\(out)/\(target)", withIntermediateDirectories: true)
        }
        var counts: [String: Int] = [:]
        func write(_ target: String, _ name: String, _ bytes: [UInt8]) {
            _ = FileManager.default.createFile(atPath: "\(out)/\(target)/\(name)", contents: Data(bytes))
            counts[target, default: 0] += 1
        }
        // Packets: runs of up to 8 consecutive packets, with the link type byte of FuzzHarness.packets.
        func linkIndex(_ type: LinkType) -> UInt8? {
            LinkLayer.all.firstIndex { $0.linkTypes.contains(type.rawValue) }.map(UInt8.init)
        }
        let captureFiles = files(captures).filter { !$0.hasSuffix(".yaml") }
        for path in captureFiles {
            let name = URL(fileURLWithPath: path).lastPathComponent
            if let data = FileManager.default.contents(atPath: path) {
                write("pcap", name, Array(data.prefix(65_536)))
            }
            guard let handle = try? PcapHandle.openOffline(path), let link = linkIndex(handle.linkType) else { continue }
            var run: [UInt8] = [link]
            var inRun = 0, runs = 0
            while runs < 40, let next = try? handle.next(), case .packet(let p) = next {
                let bytes = Array(p.bytes.prefix(4096))
                run += [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)] + bytes
                inRun += 1
                if inRun == 8 {
                    write("packets", "\(name)-\(runs)", run)
                    run = [link]
                    inRun = 0
                    runs += 1
                }
            }
            if inRun > 0 { write("packets", "\(name)-\(runs)", run) }
        }
        // Configurations.
        for path in files(["config"]) where path.hasSuffix(".yaml") {
            if let data = FileManager.default.contents(atPath: path) { write("config", URL(fileURLWithPath: path).lastPathComponent, Array(data)) }
        }
        // The dialogues each inspector reads in the captures, in FuzzHarness.inspector's framing.
        for seed in FuzzHarness.inspectorSeeds(captures: captureFiles) { write("inspectors", seed.name, seed.bytes) }
        let seeded = Set((try? FileManager.default.contentsOfDirectory(atPath: "\(out)/inspectors")) ?? [])
        let missing = InspectorHarness.names.filter { name in !seeded.contains { $0.hasPrefix(name + "-") } }
        if !missing.isEmpty { print("fuzz-seeds: no dialogue in the captures for \(missing.joined(separator: ", "))") }
        print(counts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value) seeds" }.joined(separator: ", ") + " in \(out)")
    }

    private func files(_ paths: [String]) -> [String] {
        var result: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                let entries = (FileManager.default.enumerator(atPath: path)?.allObjects as? [String]) ?? []
                result += entries.filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") || $0.hasSuffix(".yaml") }.sorted().map { "\(path)/\($0)" }
            } else {
                result.append(path)
            }
        }
        return result
    }
}
