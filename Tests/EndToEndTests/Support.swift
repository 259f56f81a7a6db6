import Alerting
import Capture
import Foundation
import Sensor
import TestSupport
import Zones

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func repoPath(_ relative: String) -> String { repositoryRoot.appendingPathComponent(relative).path }

let sharedCaptures: URL? = {
    let dir = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/captures")
    return FileManager.default.fileExists(atPath: dir.appendingPathComponent("expected.json").path) ? dir : nil
}()

/// The capture files in ../shared/captures (names, sorted); none when it is absent.
let sharedCaptureFiles: [String] = {
    guard let dir = sharedCaptures else { return [] }
    return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [])
        .filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted()
}()

/// Keeps every alert it is given, for assertions.
final class CollectingSink: AlertSink {
    let name = "<memory>"
    var alerts: [Alert] = []
    func write(_ alert: Alert) throws(SinkError) { alerts.append(alert) }
    func flush() throws(SinkError) {}
}

struct AnalysisResult {
    var alerts: [Alert]
    var errors: [CaptureError]
    var pipeline: Pipeline
}

/// Runs captures through the real pipeline in this process.
/// `lookaheadThreshold` overrides ``Pipeline/lookaheadThreshold`` (0: always decode ahead);
/// `readAhead` false reads files on the analysing thread (``OfflineAnalysis/readAhead``).
func analyze(config: ZoneConfig, _ paths: [String], throttleSeconds: Int? = nil, lookaheadThreshold: Int? = nil,
             readAhead: Bool = true, readerDecodingBacklog: Int? = nil) throws -> AnalysisResult {
    let sink = CollectingSink()
    let alerts = AlertStage(sinks: [sink], throttle: AlertThrottle(windowSeconds: throttleSeconds ?? config.sensor.alertThrottleSeconds))
    let zones = ZoneMap(config)
    if !config.exceptions.isEmpty { alerts.exceptions = try AlertExceptions(zones) }
    let pipeline = try Pipeline(zones: zones, alerts: alerts)
    if let lookaheadThreshold { pipeline.lookaheadThreshold = lookaheadThreshold }
    var analysis = OfflineAnalysis(pipeline: pipeline, filter: nil)
    analysis.readAhead = readAhead
    if let readerDecodingBacklog { analysis.readerDecodingBacklog = readerDecodingBacklog }
    var errors: [CaptureError] = []
    for path in paths { if let e = analysis.run(path: path) { errors.append(e) } }
    pipeline.finish()
    return AnalysisResult(alerts: sink.alerts, errors: errors, pipeline: pipeline)
}

func analyze(configPath: String, _ paths: [String]) throws -> AnalysisResult {
    try analyze(config: ZoneConfig.load(path: repoPath(configPath)), paths)
}

/// The result of running the `zonewarden` binary.
struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var stderrLines: [String] { stderr.split(separator: "\n").map(String.init) }
    var stdoutLines: [String] { stdout.split(separator: "\n").map(String.init) }
}

/// The built products folder: the test runner lives beside the executables.
let productsDirectory: URL = {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
    while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("zonewarden").path) && dir.path != "/" {
        dir = dir.deletingLastPathComponent()
    }
    return dir
}()

@discardableResult
func zonewarden(_ arguments: [String], stdin: Data? = nil) throws -> ProcessResult {
    try runProgram(productsDirectory.appendingPathComponent("zonewarden").path, arguments, stdin: stdin)
}

/// Runs a program in the repository's folder and collects what it printed.
@discardableResult
func runProgram(_ path: String, _ arguments: [String], stdin: Data? = nil) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.currentDirectoryURL = repositoryRoot
    let out = Pipe()
    // Standard error goes to a file, so that only one pipe has to be drained.
    let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("zw-stderr-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let err = try FileHandle(forWritingTo: errURL)
    defer { try? FileManager.default.removeItem(at: errURL) }
    process.standardOutput = out
    process.standardError = err
    let input = Pipe()
    process.standardInput = stdin == nil ? FileHandle.nullDevice : input
    try process.run()
    // Standard input is written while standard output is read: a program that
    // answers before it has read everything would otherwise block both.
    let writer = input.fileHandleForWriting
    let written = DispatchSemaphore(value: 0)
    if let stdin {
        // A program that ends before it has read everything closes the pipe: EPIPE, not SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        DispatchQueue.global().async {
            try? writer.write(contentsOf: stdin)
            try? writer.close()
            written.signal()
        }
    } else {
        written.signal()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    written.wait()
    try err.close()
    let errData = try Data(contentsOf: errURL)
    return ProcessResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
}

/// A new folder for one test, removed when the tests end.
func temporaryDirectory() -> URL { TemporaryFolder.make("zw-e2e") }
