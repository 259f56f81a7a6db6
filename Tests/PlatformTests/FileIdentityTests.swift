import Foundation
import Platform
import Testing

/// Which paths name one file: the check that keeps one output from clobbering another.
@Suite("File identity")
struct FileIdentityTests {
    @Test func canonicalPaths() throws {
        let cwd = FileManager.default.currentDirectoryPath
        // One-character and relative names that do not exist yet (a one-character name once crashed Foundation's path code).
        #expect(FileIdentity.canonicalPath("a") == cwd + "/a")
        #expect(FileIdentity.canonicalPath("./b.json") == cwd + "/b.json")
        #expect(FileIdentity.canonicalPath("/nonexistent-zw/x") == "/nonexistent-zw/x")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zw-identity-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A link whose target does not exist yet names that target.
        #expect(symlink("target.json", dir + "/link.json") == 0)
        #expect(FileIdentity(dir + "/link.json") == FileIdentity(dir + "/target.json"))
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        #expect(FileIdentity(dir + "/sub/../target.json") == FileIdentity(dir + "/target.json"))
        // Devices are shared by design; a folder is itself.
        #expect(FileIdentity("/dev/null") == nil)
        #expect(FileIdentity.isFolder(dir) && FileIdentity(dir) == FileIdentity(dir + "/"))
    }
}
