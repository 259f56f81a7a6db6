// swift-tools-version:6.1
import PackageDescription

// Fuzz targets, built with libFuzzer and AddressSanitizer by scripts/fuzz:
//   swift build --package-path Fuzz -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld
// Each target is one LLVMFuzzerTestOneInput over a FuzzHarness function.
let targets = ["packets", "pcap", "config", "inspectors"]

let package = Package(
    name: "ZoneWardenFuzz",
    dependencies: [.package(name: "ZoneWarden", path: "..")],
    targets: [
        .target(name: "FuzzDriver", dependencies: [.product(name: "FuzzHarness", package: "ZoneWarden")], path: "Sources/driver"),
    ] + targets.map { name in
        .executableTarget(name: "fuzz-\(name)", dependencies: ["FuzzDriver"], path: "Sources/\(name)")
    }
)
