import Decode
import Foundation
import Testing
import Vocabulary
@testable import Detect

@Suite("Endpoint memory (rule 7002)")
struct EndpointMemoryTests {
    static func path() -> String { NSTemporaryDirectory() + "zw-endpoints-\(UUID().uuidString)" }

    @Test func remembersAcrossRestarts() throws {
        let path = Self.path()
        defer { unlink(path) }
        let first = try EndpointMemory(path: path, baselineSeconds: 0)
        #expect(first.remember(IPAddress("10.10.0.5")!, zone: "mgmt"))
        #expect(!first.remember(IPAddress("10.10.0.5")!, zone: "mgmt"), "reported once")
        #expect(first.remember(IPAddress("fd00:10::5")!, zone: "mgmt"))
        try first.save()
        #expect(try String(contentsOfFile: path, encoding: .utf8).hasSuffix("10.10.0.5 mgmt\nfd00:10::5 mgmt\n"))
        let second = try EndpointMemory(path: path, baselineSeconds: 600)
        #expect(!second.learning, "a state file exists: no baseline")
        #expect(second.count == 2 && !second.remember(IPAddress("10.10.0.5")!, zone: "mgmt"))
        #expect(second.remember(IPAddress("10.20.0.9")!, zone: "storage"))
    }

    /// With no state file, a first start learns silently for the baseline.
    @Test func baselineLearnsSilently() throws {
        let path = Self.path()
        defer { unlink(path) }
        let memory = try EndpointMemory(path: path, baselineSeconds: 600)
        #expect(memory.learning && !memory.remember(IPAddress("10.10.0.5")!, zone: "mgmt") && memory.count == 1)
    }

    @Test func aBadStateFileIsNamedWithItsLine() throws {
        let path = Self.path()
        defer { unlink(path) }
        try "# comment\n10.10.0.5 mgmt\nnot-an-address mgmt\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: EndpointMemoryError.self) { try EndpointMemory(path: path, baselineSeconds: 0) }
        do { _ = try EndpointMemory(path: path, baselineSeconds: 0) } catch {
            #expect(error.description == "\(path):3: \"not-an-address\" is not an IP address")
        }
    }

    @Test func boundedAndUnwritable() throws {
        let memory = try EndpointMemory(path: "/nonexistent-dir/endpoints", baselineSeconds: 0, limit: 2)
        #expect(memory.remember(IPAddress("10.0.0.1")!, zone: "m") && memory.remember(IPAddress("10.0.0.2")!, zone: "m"))
        #expect(!memory.remember(IPAddress("10.0.0.3")!, zone: "m") && memory.full)
        #expect(throws: EndpointMemoryError.self) { try memory.save() }
    }
}
