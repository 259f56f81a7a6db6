import Foundation
import FuzzHarness
import Inspect
import Testing

/// Every input under Inputs/TARGET/ goes through the fuzz target of that name
/// (FuzzHarness): what the fuzzers once crashed on, and hand-made hostile
/// inputs (lying lengths, giant snaplens, nested aliases). Passing means: no
/// trap, no hang, and every alert formatted in every format on the way.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    static let inputs: [(target: String, file: String)] = {
        guard let root = Bundle.module.resourceURL?.appendingPathComponent("Inputs") else { return [] }
        return FuzzHarness.targets.map(\.name).flatMap { target in
            ((try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(target).path)) ?? [])
                .filter { !$0.hasPrefix(".") }.sorted().map { (target, $0) }
        }
    }()

    @Test(arguments: inputs.map { "\($0.target)/\($0.file)" })
    func replay(_ input: String) throws {
        let url = try #require(Bundle.module.resourceURL).appendingPathComponent("Inputs").appendingPathComponent(input)
        let data = try Data(contentsOf: url)
        let target = String(input.split(separator: "/")[0])
        let run = try #require(FuzzHarness.targets.first { $0.name == target }).run
        data.withUnsafeBytes { run($0) }
    }

    @Test func everyTargetHasInputs() {
        #expect(Set(Self.inputs.map(\.target)) == Set(FuzzHarness.targets.map(\.name)))
    }

    /// An inspectors/ input selects its inspector by its first byte (an index
    /// into the harness, which follows the registry's order): the file name
    /// says which one it was made for, so that a reordered registry is noticed.
    @Test func inspectorInputsReachTheInspectorTheyAreNamedFor() throws {
        for (target, file) in Self.inputs where target == "inspectors" {
            let url = try #require(Bundle.module.resourceURL).appendingPathComponent("Inputs/\(target)/\(file)")
            let first = try #require(try Data(contentsOf: url).first)
            let name = InspectorHarness.names[Int(first) % InspectorHarness.names.count]
            #expect(file.hasPrefix(name + "-"), "\(file) selects \(name)")
        }
    }
}
