import Alerting
import Capture
import Decode
import Detect
import Sensor
import Zones

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
            for format in AlertFormat.allCases { _ = format.format(alert, context: context) }
        }
        func flush() throws(SinkError) {}
    }

    static func pipeline() -> Pipeline {
        let dispatcher = AlertDispatcher(sinks: [FormattingSink()], throttle: AlertThrottle(windowSeconds: 0))
        return try! Pipeline(zones: zones, dispatcher: dispatcher)
    }

    static let links: [LinkLayer] = [.ethernet, .linuxSLL, .linuxSLL2, .rawIP, .null, .loop]

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
    public static func pcap(_ input: UnsafeRawBufferPointer) {
        guard let handle = try? PcapHandle.openOffline(bytes: Array(input)) else { return }
        let p = pipeline()
        p.lookaheadThreshold = 0
        _ = OfflineAnalysis(pipeline: p, filter: nil).run(handle: handle, link: "fuzz.pcap")
        p.finish()
    }

    /// A zone configuration: parsed, validated, and when valid made into zone tables and rules.
    public static func config(_ input: UnsafeRawBufferPointer) {
        let text = String(decoding: input, as: UTF8.self)
        guard let config = try? ZoneConfig.parse(yaml: text, file: "fuzz.yaml") else { return }
        let zones = ZoneMap(config)
        _ = try? Detector(zones: zones, dispatcher: AlertDispatcher(sinks: [], throttle: AlertThrottle(windowSeconds: 0)))
        _ = zones.zone(for: Segment(vlan: 10))
    }

    /// An inspector index, then a dialogue (``InspectorHarness/dialogue(_:)``).
    public static func inspector(_ input: UnsafeRawBufferPointer) {
        guard !input.isEmpty else { return }
        InspectorHarness.run(Int(input[0]), InspectorHarness.dialogue(UnsafeRawBufferPointer(rebasing: input.dropFirst())))
    }
}
