import Foundation
import Platform
import TestSupport
import Testing

/// Files written as the sensor writes them, in a temporary directory with
/// planted links and special files. Root is needed to plant a link owned by
/// another user.
@Suite("Safe file writing")
struct SafeFileTests {
    static func directory() -> String {
        TemporaryFolder.make("zw-safefile").path
    }

    static func mode(_ path: String) -> mode_t {
        var info = stat()
        lstat(path, &info)
        return info.st_mode & 0o7777
    }

    static func type(_ path: String) -> mode_t {
        var info = stat()
        lstat(path, &info)
        return info.st_mode & S_IFMT
    }

    @Test func regularFilesAreReplacedWholeWithTheirMode() throws {
        let dir = Self.directory()
        let report = dir + "/report.html", metrics = dir + "/zonewarden.prom"
        try "old".write(toFile: report, atomically: false, encoding: .utf8)
        chmod(report, 0o666)
        try SafeFile.replace(report, with: "new", mode: SafeFile.privateMode)
        try SafeFile.replace(metrics, with: "metrics", mode: SafeFile.publicMode)
        #expect(try String(contentsOfFile: report, encoding: .utf8) == "new" && Self.mode(report) == 0o640)
        #expect(Self.mode(metrics) == 0o644)
        // No temporary is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["report.html", "zonewarden.prom"])
    }

    /// A device is written in place, never replaced by a regular file.
    @Test func devicesStayDevices() throws {
        try SafeFile.replace("/dev/null", with: "report", mode: SafeFile.privateMode)
        #expect(Self.type("/dev/null") == S_IFCHR)
        #expect(throws: SafeFile.Failure.self) { try SafeFile.replace("/dev/full", with: "report", mode: SafeFile.privateMode) }
        #expect(Self.type("/dev/full") == S_IFCHR)
    }

    /// A FIFO is written in place: the reader gets the text.
    @Test func fifosAreWrittenInPlace() throws {
        let fifo = Self.directory() + "/report.fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        signal(SIGPIPE, SIG_IGN)  // as zonewarden does: a reader that goes away is an error, not the end
        let reader = Thread {
            guard let handle = FileHandle(forReadingAtPath: fifo) else { return }
            try? handle.readDataToEndOfFile().write(to: URL(fileURLWithPath: fifo + ".read"))
        }
        reader.start()
        try SafeFile.replace(fifo, with: "through the pipe", mode: SafeFile.privateMode)
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: fifo + ".read") { usleep(20_000) }
        #expect(try String(contentsOfFile: fifo + ".read", encoding: .utf8) == "through the pipe")
        #expect(Self.type(fifo) == S_IFIFO)
    }

    /// A link the user named and owns is followed: the file it names is
    /// replaced and the link stays a link.
    @Test func ownLinksAreFollowed() throws {
        let dir = Self.directory()
        try "old".write(toFile: dir + "/target", atomically: false, encoding: .utf8)
        #expect(symlink(dir + "/target", dir + "/link") == 0)
        try SafeFile.replace(dir + "/link", with: "new", mode: SafeFile.privateMode)
        #expect(try String(contentsOfFile: dir + "/target", encoding: .utf8) == "new" && Self.type(dir + "/link") == S_IFLNK)
        // Derived paths never follow links.
        #expect(throws: SafeFile.Failure.self) { try SafeFile.replace(dir + "/link", with: "x", mode: SafeFile.privateMode, origin: .derived) }
    }

    /// A link planted by another user (here: nobody) is refused; what it
    /// points at is untouched.
    @Test(.enabled(if: getuid() == 0, "planting another user's link needs root"))
    func plantedLinksAreRefused() throws {
        let dir = Self.directory()
        chmod(dir, 0o1777)
        let victim = dir + "/victim"
        try "precious".write(toFile: victim, atomically: false, encoding: .utf8)
        #expect(symlink(victim, dir + "/report.html") == 0)
        #expect(lchown(dir + "/report.html", 65534, 65534) == 0)
        #expect {
            try SafeFile.replace(dir + "/report.html", with: "report", mode: SafeFile.privateMode)
        } throws: { error in
            "\(error)".contains("is a symbolic link owned by another user (uid 65534); refusing to follow it")
        }
        #expect(throws: SafeFile.Failure.self) { try SafeFile.openForStream(dir + "/report.html", append: false, mode: SafeFile.privateMode) }
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious")
        // The old fixed temporary name: a link planted there is never written through.
        #expect(symlink(victim, dir + "/metrics.prom.tmp") == 0)
        #expect(lchown(dir + "/metrics.prom.tmp", 65534, 65534) == 0)
        try SafeFile.replace(dir + "/metrics.prom", with: "metrics", mode: SafeFile.publicMode)
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious")
        #expect(try String(contentsOfFile: dir + "/metrics.prom", encoding: .utf8) == "metrics")
    }

    /// Streams: a regular file is appended to or truncated, a missing one
    /// created exclusively with the mode, a device written in place.
    @Test func streams() throws {
        let dir = Self.directory()
        let (fd, regular) = try SafeFile.openForStream(dir + "/eve.json", append: true, mode: SafeFile.privateMode)
        #expect(regular && Self.mode(dir + "/eve.json") == 0o640)
        close(fd)
        let (null, nullRegular) = try SafeFile.openForStream("/dev/null", append: false, mode: SafeFile.privateMode)
        #expect(!nullRegular && Self.type("/dev/null") == S_IFCHR)
        close(null)
        #expect(throws: SafeFile.Failure.self) { try SafeFile.openForStream(dir, append: true, mode: SafeFile.privateMode) }
    }
}
