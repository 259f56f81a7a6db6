// swift-tools-version:6.1
import PackageDescription

// Release builds optimise across module boundaries: the pipeline is split into
// one module per stage, in the order a packet passes them:
//   capture → decode → flows → classify (Zones) → inspect → detect → alert (Alerting:
//   exceptions, throttling, building, formats, sinks)
// with the shared vocabulary (addresses, severities, roles, evidence, messages)
// in a leaf module below them all; Sensor composes the stages into the pipeline.
// The per-packet calls between modules must inline like calls inside one module.
// Exclusivity is checked statically; the dynamic checks would run on every
// packet's access to the flow table and pipeline state.
let hotPath: [SwiftSetting] = [
    .unsafeFlags(["-cross-module-optimization", "-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "ZoneWarden",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "zonewarden", targets: ["zonewarden"]),
        .executable(name: "zw-capgen", targets: ["zw-capgen"]),
        // What the fuzz targets in Fuzz/ run (built there with libFuzzer and AddressSanitizer).
        .library(name: "FuzzHarness", targets: ["FuzzHarness"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CPcap",
            pkgConfig: "libpcap",
            providers: [.apt(["libpcap-dev"])]
        ),
        .systemLibrary(
            name: "CRelp",
            pkgConfig: "relp",
            providers: [.apt(["librelp-dev"])]
        ),
        // The system's OpenSSL (libssl, libcrypto): SHA-256 of captures and configurations for the audit report, TLS to syslog collectors.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // The git commit and build date `--version` prints (scripts/build-info writes them).
        .target(name: "CBuildInfo"),
        // The system's decompressors for compressed capture files: zlib, libzstd, liblzma, liblz4.
        .systemLibrary(name: "CCompression", providers: [.apt(["zlib1g-dev", "libzstd-dev", "liblzma-dev", "liblz4-dev"])]),
        // Header only: a cache prefetch hint (flow table lookahead) and thread names.
        .systemLibrary(name: "CSupport"),
        // The words every stage shares: addresses, protocols, severities, roles, evidence, messages.
        .target(name: "Vocabulary", swiftSettings: hotPath),
        // What the sensor needs from the operating system besides libpcap: files written safely, locks, threads, clocks.
        .target(name: "Platform", dependencies: ["CSupport", "COpenSSL"]),
        .target(name: "Capture", dependencies: ["CPcap", "CCompression", "Platform"], swiftSettings: hotPath),
        .target(name: "Decode", dependencies: ["Vocabulary"], swiftSettings: hotPath),
        .target(name: "Flows", dependencies: ["Vocabulary", "Decode", "CSupport"], swiftSettings: hotPath),
        // Classify: the zone configuration and the zones of a flow.
        .target(name: "Zones", dependencies: ["Vocabulary", "Platform", "Decode", "Flows", .product(name: "Yams", package: "Yams")], swiftSettings: hotPath),
        // Application inspectors over reassembled streams: logins, protocols in clear, storage and migration signatures.
        .target(name: "Inspect", dependencies: ["Vocabulary", "Decode", "Flows"], swiftSettings: hotPath),
        // The rules: detections from flows, packets, links and application events.
        .target(name: "Detect", dependencies: ["Vocabulary", "Platform", "Decode", "Flows", "Zones", "Inspect"], swiftSettings: hotPath),
        // Detections become alerts: throttling, building, formats, sinks and syslog transports.
        .target(name: "Alerting", dependencies: ["Vocabulary", "Platform", "Decode", "Zones", "Detect", "CRelp", "COpenSSL"], swiftSettings: hotPath),
        // The communication report and `learn`: what the network does, for planning.
        .target(name: "Evidence", dependencies: ["Vocabulary", "Platform", "Decode", "Flows", "Inspect", "Detect", "Alerting"], swiftSettings: hotPath),
        .target(name: "Report", dependencies: ["Vocabulary", "Platform", "Decode", "Flows", "Zones", "Detect", "Alerting"]),
        .target(name: "Sensor", dependencies: ["Vocabulary", "Platform", "Capture", "Decode", "Flows", "Zones", "Inspect", "Detect", "Alerting", "Evidence", "Report", "CSupport"], swiftSettings: hotPath),
        .executableTarget(
            name: "zonewarden",
            dependencies: ["Vocabulary", "Platform", "Capture", "Zones", "Detect", "Alerting", "Evidence", "Sensor", "Report", "CBuildInfo",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: hotPath
        ),
        // Builds the project's own test and example captures, and the benchmark capture.
        .target(name: "CaptureBuilder", dependencies: ["Vocabulary", "Capture", "Decode"]),
        .executableTarget(
            name: "zw-capgen",
            dependencies: ["CaptureBuilder", "Capture", "Decode", "Inspect", "FuzzHarness", "Sensor", "Alerting", "Zones", "Platform", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "CaptureTests", dependencies: ["Capture", "CaptureBuilder", "Decode", "Vocabulary", "TestSupport"]),
        .testTarget(name: "DecodeTests", dependencies: ["Vocabulary", "Decode", "CaptureBuilder", "Capture"]),
        .testTarget(name: "ZonesTests", dependencies: ["Vocabulary", "Zones", "Decode", "Flows"]),
        .testTarget(name: "PlatformTests", dependencies: ["Platform", "TestSupport"]),
        .testTarget(name: "FlowsTests", dependencies: ["Vocabulary", "Flows", "Decode", "CaptureBuilder"]),
        // Helpers the test targets share: child processes with a clean signal mask, a real rsyslogd.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .target(name: "FuzzHarness", dependencies: ["Sensor", "Capture", "Decode", "Vocabulary", "Zones", "Inspect", "Alerting"], path: "Tests/FuzzHarness"),
        .testTarget(name: "FuzzRegressionTests", dependencies: ["FuzzHarness", "Inspect"], resources: [.copy("Inputs")]),
        .testTarget(name: "AlertingTests", dependencies: ["Vocabulary", "Platform", "Alerting", "Detect", "Decode", "Zones", "TestSupport"]),
        .testTarget(name: "EvidenceTests", dependencies: ["Evidence", "Inspect"]),
        .testTarget(name: "InspectTests", dependencies: ["Vocabulary", "Inspect", "CaptureBuilder"]),
        .testTarget(name: "DetectTests", dependencies: ["Vocabulary", "Detect", "Inspect", "Sensor", "Alerting", "CaptureBuilder", "Capture", "Decode", "Flows", "Zones"]),
        // Root only: a lab in network namespaces with real clients, servers and rsyslog.
        .testTarget(name: "LiveTests", dependencies: ["TestSupport", "CaptureBuilder", "zonewarden"]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["Vocabulary", "Platform", "Sensor", "Report", "CaptureBuilder", "Capture", "Decode", "Zones", "Inspect", "Detect", "Alerting",
                           "TestSupport", "FuzzHarness", "zonewarden", "zw-capgen", .product(name: "Yams", package: "Yams")]
        ),
    ]
)
