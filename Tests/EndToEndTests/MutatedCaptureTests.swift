import Foundation
import Testing

/// The short, seeded run of scripts/mutate: broken captures derived from the
/// project's and the shared captures (truncated, bytes flipped, absurd record
/// lengths, bogus link types, giant snaplens), each through the binary: no
/// crash, no hang, bounded memory, exit status 0 or 3 with one line naming the
/// file. The long runs are `scripts/mutate --count N`.
@Suite("Mutated captures")
struct MutatedCaptureTests {
    @Test func shortSeededRun() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", repoPath("scripts/mutate"), "--count", "200", "--seed", "20261126",
                             "--binary", productsDirectory.appendingPathComponent("zonewarden").path,
                             "--keep", temporaryDirectory().path]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("mutate: 200 broken captures from "), "\(text)")
    }
}
