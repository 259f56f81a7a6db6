import Alerting
import Capture
import Decode
import Inspect
import Sensor
import Vocabulary
import Zones
#if canImport(Glibc)
import Glibc
#endif

/// What the fuzz targets run, one function per target, shared with the
/// regression tests that replay every input the fuzzers ever crashed on.
/// Each builds what it needs afresh, so that an input's outcome does not
/// depend on the inputs before it.
public enum FuzzHarness {
    /// The targets by name (`scripts/fuzz NAME SECONDS`).
    public static let targets: [(name: String, run: @Sendable (UnsafeRawBufferPointer) -> Void)] = [
        ("packets", packets), ("pcap", pcap), ("config", config), ("inspectors", inspector),
    ]

    /// A configuration with every feature the rules look at: VLANs, VNIs, QinQ,
    /// subnets, MACs, gateways for a pair, multi-homed pairs; small tables.
    static let zones: ZoneMap = {
        let yaml = """
            zones:
              mgmt:     { role: management, vlans: [10], vnis: [6000], subnets: [10.10.0.0/16, "fd00:10::/64"] }
              admin:    { role: admin, vlans: [15], subnets: [10.99.0.0/24] }
              storage:  { role: storage, vlans: [20], vnis: [6001], subnets: [10.20.0.0/16], macs: ["02:00:00:00:20:01"] }
              vmotion:  { role: migration, vlans: [30], subnets: [10.30.0.0/16] }
              underlay: { role: transport, vlans: [40], subnets: [10.40.0.0/16] }
              services: { role: service, vlans: [50], subnets: [10.50.0.0/16] }
              guests:   { role: guest, vlans: ["100-140"], outer_vlans: [200], vnis: [5000], subnets: [192.168.0.0/16, "fd00:100::/56"] }
              internet: { role: external, subnets: [public] }
            gateways:
              - { name: fw, macs: ["00:1b:21:aa:bb:cc"] }
              - { name: fw-mgmt, macs: ["00:1b:21:aa:bb:dd"], zones: [admin, mgmt] }
            multi_homed:
              forbidden: [[guest, management], [management, storage]]
            policy: default-deny
            allow:
              - { from: admin, to: mgmt, services: [tcp/22, tcp/443] }
            sensor:
              max_flows: 1024
              max_macs: 1024
              stream_window: 4096
            """
        return ZoneMap(try! ZoneConfig.parse(yaml: yaml, file: "fuzz.yaml"))
    }()

    /// Formats every alert in every format (fuzzing the formatters and their
    /// escaping too) and keeps nothing.
    final class FormattingSink: AlertSink {
        let name = "<fuzz>"
        let context = FormatContext(hostname: "fuzz", processID: 1)
        func write(_ alert: Alert) throws(SinkError) {
            for format in AlertFormat.all { _ = format.format(alert, context: context) }
        }
        func flush() throws(SinkError) {}
    }

    static func pipeline() -> Pipeline {
        let alerts = AlertStage(sinks: [FormattingSink()], throttle: AlertThrottle(windowSeconds: 0))
        return try! Pipeline(zones: zones, alerts: alerts)
    }

    /// Every link layer the decoder reads (the first byte of a `packets` input picks one).
    static let links = LinkLayer.all

    /// A link type byte, then packets as a 16-bit length (0: the rest) and their bytes.
    public static func packets(_ input: UnsafeRawBufferPointer) {
        guard !input.isEmpty else { return }
        let link = links[Int(input[0]) % links.count]
        let p = pipeline()
        p.beginLink("fuzz")
        var i = 1
        var time: UInt64 = 1_764_165_600_000_000_000
        while i < input.count {
            var length = input.count - i
            if i + 2 <= input.count {
                let declared = Int(input[i]) << 8 | Int(input[i + 1])
                i += 2
                length = declared == 0 || i + declared > input.count ? input.count - i : declared
            } else {
                i = input.count
                length = 0
            }
            let bytes = UnsafeRawBufferPointer(rebasing: input[i..<(i + length)])
            p.process(CapturedPacket(timestamp: time, capturedLength: length, wireLength: length + Int(length & 3), bytes: bytes), link: link)
            time += 1_000_000
            i += length
        }
        p.finish()
    }

    /// A pcap or pcapng file, read through libpcap as `analyze` reads one, with
    /// the lookahead on from the first packet (the `packets` target runs
    /// packets straight through the pipeline).
    ///
    /// The same bytes as a file are then read twice, in blocks
    /// (``Capture/PcapFileReader``) and by libpcap: the two must agree packet
    /// for packet and end alike, or the input is a crash.
    public static func pcap(_ input: UnsafeRawBufferPointer) {
        compareReaders(input)
        guard let handle = try? PcapHandle.openOffline(bytes: Array(input)) else { return }
        let p = pipeline()
        p.lookaheadThreshold = 0
        _ = OfflineAnalysis(pipeline: p, filter: nil).run(handle: handle, link: "fuzz.pcap")
        p.finish()
    }

    private static func compareReaders(_ input: UnsafeRawBufferPointer) {
        // A file of its own for each call: the regression tests replay inputs on several threads at once
        // (one name per process let one case truncate another's file while it was read).
        var template = Array("/tmp/zw-fuzz-XXXXXX.pcap".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemps($0.baseAddress!, 5) }
        guard fd >= 0 else { return }
        let scratchFile = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let written = input.baseAddress.map { write(fd, $0, input.count) } ?? 0
        close(fd)
        defer { unlink(scratchFile) }
        guard written == input.count else { return }
        let inBlocks = readAll(scratchFile, inBlocks: true), libpcap = readAll(scratchFile, inBlocks: false)
        precondition(inBlocks.packets == libpcap.packets && inBlocks.ending == libpcap.ending,
                     "read in blocks: \(inBlocks.packets.count) packets, \(inBlocks.ending); libpcap: \(libpcap.packets.count) packets, \(libpcap.ending)")
    }

    /// Every packet of a file (time, lengths, bytes) and how the reading ended.
    private static func readAll(_ path: String, inBlocks: Bool) -> (packets: [[UInt64]], ending: String) {
        var packets: [[UInt64]] = []
        do throws(CaptureError) {
            let handle = try PcapHandle.openOffline(path, inBlocks: inBlocks)
            while case .packet(let p) = try handle.next() {
                packets.append([p.timestamp, UInt64(p.capturedLength), UInt64(p.wireLength)] + p.bytes.map { UInt64($0) })
            }
            return (packets, "end")
        } catch {
            return (packets, error.description)
        }
    }

    /// A zone configuration: parsed, validated, and when valid made into zone tables and rules.
    public static func config(_ input: UnsafeRawBufferPointer) {
        let text = String(decoding: input, as: UTF8.self)
        guard let config = try? ZoneConfig.parse(yaml: text, file: "fuzz.yaml") else { return }
        let zones = ZoneMap(config)
        try? SensorConfiguration.validate(zones)
        _ = zones.zone(for: Segment(vlan: 10))
    }

    /// An inspector index, then a dialogue (``InspectorHarness/dialogue(_:)``).
    public static func inspector(_ input: UnsafeRawBufferPointer) {
        guard !input.isEmpty else { return }
        InspectorHarness.run(Int(input[0]), InspectorHarness.dialogue(UnsafeRawBufferPointer(rebasing: input.dropFirst())))
    }

    /// Seeds for the `inspectors` target, derived from real dialogues: each
    /// capture runs through a pipeline whose every host is a management host
    /// (so that every inspector may recognise its protocol), and the bytes
    /// each inspector reads on each flow become one input in
    /// ``InspectorHarness/dialogue(_:)`` framing. Returns (name, bytes) pairs;
    /// the name says the inspector, the capture and the flow.
    public static func inspectorSeeds(captures: [String]) -> [(name: String, bytes: [UInt8])] {
        let yaml = """
            zones:
              everything: { role: management, subnets: ["0.0.0.0/0", "::/0"] }
            """
        let zones = ZoneMap(try! ZoneConfig.parse(yaml: yaml, file: "seeds.yaml"))
        var seeds: [(name: String, bytes: [UInt8])] = []
        for path in captures {
            let pipeline = try! Pipeline(zones: zones, alerts: AlertStage(sinks: [], throttle: AlertThrottle(windowSeconds: 0)))
            pipeline.lookaheadThreshold = Int.max
            var dialogues: [UInt64: (inspector: String, transport: IPProtocol, pieces: [(fromClient: Bool, bytes: [UInt8])])] = [:]
            var order: [UInt64] = []
            pipeline.inspection.recorder = { flow, inspector, transport, fromClient, bytes in
                if dialogues[flow] == nil {
                    dialogues[flow] = (inspector, transport, [])
                    order.append(flow)
                }
                dialogues[flow]!.pieces.append((fromClient, Array(bytes)))
            }
            _ = OfflineAnalysis(pipeline: pipeline, filter: nil).run(path: path)
            pipeline.finish()
            let file = path.split(separator: "/").last.map(String.init) ?? path
            for flow in order {
                let d = dialogues[flow]!
                guard let index = InspectorHarness.index(inspector: d.inspector, transport: d.transport) else { continue }
                seeds.append(("\(InspectorHarness.names[index])-\(file)-\(flow)", InspectorHarness.frame(index, d.pieces)))
            }
        }
        return seeds
    }
}
