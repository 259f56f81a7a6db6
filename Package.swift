// swift-tools-version:6.1
import PackageDescription

// Release builds optimise across module boundaries: the pipeline is split into
// one module per stage (capture → decode → classify → flows → detect → alert),
// and the per-packet calls between them must inline like calls inside one module.
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
        // Header only: a cache prefetch hint (flow table lookahead) and thread names.
        .systemLibrary(name: "CSupport"),
        .target(name: "Capture", dependencies: ["CPcap"], swiftSettings: hotPath),
        .target(name: "Decode", swiftSettings: hotPath),
        .target(name: "Zones", dependencies: ["Decode", .product(name: "Yams", package: "Yams")], swiftSettings: hotPath),
        .target(name: "Flows", dependencies: ["Decode", "CSupport"], swiftSettings: hotPath),
        .target(name: "Alerting", dependencies: ["Decode", "Zones", "CRelp", "CSupport"], swiftSettings: hotPath),
        .target(name: "Detect", dependencies: ["Decode", "Zones", "Flows", "Alerting"], swiftSettings: hotPath),
        // The communication report and `learn`: what the network does, for planning.
        .target(name: "Report", dependencies: ["Decode", "Zones", "Flows", "Detect", "Alerting"]),
        .target(name: "Sensor", dependencies: ["Capture", "Decode", "Zones", "Flows", "Detect", "Alerting", "Report"], swiftSettings: hotPath),
        .executableTarget(
            name: "zonewarden",
            dependencies: ["Sensor", "Report", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: hotPath
        ),
        // Builds the project's own test and example captures, and the benchmark capture.
        .target(name: "CaptureBuilder", dependencies: ["Capture", "Decode"]),
        .executableTarget(
            name: "zw-capgen",
            dependencies: ["CaptureBuilder", "Detect", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "CaptureTests", dependencies: ["Capture", "CaptureBuilder", "Decode"]),
        .testTarget(name: "DecodeTests", dependencies: ["Decode", "CaptureBuilder", "Capture"]),
        .testTarget(name: "ZonesTests", dependencies: ["Zones", "Decode"]),
        .testTarget(name: "FlowsTests", dependencies: ["Flows", "Decode", "CaptureBuilder"]),
        // Helpers the test targets share: child processes with a clean signal mask, a real rsyslogd.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .target(name: "FuzzHarness", dependencies: ["Sensor", "Capture", "Decode", "Zones", "Detect", "Alerting"], path: "Tests/FuzzHarness"),
        .testTarget(name: "FuzzRegressionTests", dependencies: ["FuzzHarness"], resources: [.copy("Inputs")]),
        .testTarget(name: "AlertingTests", dependencies: ["Alerting", "Decode", "Zones", "TestSupport"]),
        .testTarget(name: "DetectTests", dependencies: ["Detect", "Alerting", "CaptureBuilder", "Decode", "Flows", "Zones"]),
        // Root only: a lab in network namespaces with real clients, servers and rsyslog.
        .testTarget(name: "LiveTests", dependencies: ["TestSupport", "CaptureBuilder", "zonewarden"]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["Sensor", "Report", "CaptureBuilder", "Capture", "Decode", "Zones", "Detect", "Alerting", "TestSupport", "zonewarden", "zw-capgen"]
        ),
    ]
)
