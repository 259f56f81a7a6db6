import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A tmpfs of a few kilobytes mounted on a fresh folder: a disk that fills up
/// for real (ENOSPC from the kernel), then can be given more room. Root only.
public final class SmallFilesystem {
    public let directory: String

    /// Whether this process may mount (root with CAP_SYS_ADMIN).
    public static let isAvailable: Bool = {
        guard getuid() == 0, let probe = try? SmallFilesystem(kilobytes: 4) else { return false }
        probe.unmount()
        return true
    }()

    public init(kilobytes: Int) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("zw-small-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        guard Self.mountCommand(["-t", "tmpfs", "-o", "size=\(kilobytes)k,mode=0755", "tmpfs", directory]) else {
            try? FileManager.default.removeItem(atPath: directory)
            throw ChildProcessError("cannot mount a tmpfs on \(directory)")
        }
    }

    /// Gives the filesystem `kilobytes` in all (the files on it stay).
    public func resize(kilobytes: Int) throws {
        guard Self.mountCommand(["-o", "remount,size=\(kilobytes)k", directory]) else { throw ChildProcessError("cannot resize \(directory)") }
    }

    public func unmount() {
        _ = Self.mountCommand(["-l", directory], program: "/usr/bin/umount")
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func mountCommand(_ arguments: [String], program: String = "/usr/bin/mount") -> Bool {
        guard let child = try? ChildProcess(program, arguments) else { return false }
        return child.wait(seconds: 10) == 0
    }

    deinit { if FileManager.default.fileExists(atPath: directory) { unmount() } }
}
