import Foundation
import Synchronization

/// Temporary folders for tests, removed when the test process exits (the
/// end-to-end tests write captures and evidence of megabytes each: left
/// behind, runs filled the disk).
public enum TemporaryFolder {
    private static let made = Mutex<[String]>([])
    private static let removal: Void = { atexit { TemporaryFolder.removeAll() } }()

    /// A new empty folder under the system's temporary folder, named `prefix-UUID`.
    public static func make(_ prefix: String) -> URL {
        _ = removal
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        made.withLock { $0.append(url.path) }
        return url
    }

    /// Removes every folder made (at exit; a test that made its folder read-only is root's to remove anyway).
    static func removeAll() {
        let paths = made.withLock { folders in
            defer { folders = [] }
            return folders
        }
        for path in paths { try? FileManager.default.removeItem(atPath: path) }
    }
}
