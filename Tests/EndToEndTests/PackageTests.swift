import Foundation
import Testing
import TestSupport

/// The Debian package as a user meets it: scripts/package builds it (the
/// self-contained release binary, man page, completions, conffiles; lintian
/// must report no errors), dpkg installs it here, the installed sensor runs
/// the example analysis from the installed paths, also with the Swift
/// toolchain hidden in a mount namespace, and a purge removes it.
@Suite("Debian package", .serialized,
       .enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/dpkg-deb")
                    && FileManager.default.isExecutableFile(atPath: "/usr/bin/lintian")
                    && !FileManager.default.fileExists(atPath: "/var/lib/dpkg/info/zonewarden.list"),
                "needs root, dpkg-deb and lintian (scripts/setup installs lintian), and no zonewarden package installed already"))
struct PackageTests {
    func bash(_ command: String) throws -> ProcessResult { try runProgram("/bin/bash", ["-c", command]) }

    @Test(.timeLimit(.minutes(30)))
    func buildInstallRunPurge() throws {
        let out = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let built = try runProgram(repoPath("scripts/package"), ["--out", out.path])
        try #require(built.status == 0, "scripts/package failed: \(built.stderr.suffix(3000))")
        let deb = built.stdoutLines.last ?? ""
        #expect(deb.hasPrefix(out.path) && deb.hasSuffix("_amd64.deb"), "\(built.stdout)")
        #expect(!built.stderr.contains("\nE: ") && !built.stderr.contains("\nW: "), "lintian: \(built.stderr)")

        let install = try runProgram("/usr/bin/dpkg", ["-i", deb])
        defer { _ = try? runProgram("/usr/bin/dpkg", ["--purge", "zonewarden"]) }
        try #require(install.status == 0, "dpkg -i: \(install.stderr)")

        // The version names the commit, the build date and libpcap.
        let version = try runProgram("/usr/bin/zonewarden", ["--version"])
        #expect(version.status == 0 && version.stdoutLines.count == 3, "\(version.stdout)")
        #expect(version.stdoutLines.first?.hasPrefix("0.") == true)
        #expect(version.stdoutLines.dropFirst().first?.range(of: #"^commit [0-9a-f]{12}(-dirty)?, built \d{4}-\d{2}-\d{2}$"#, options: .regularExpression) != nil,
                "\(version.stdout)")
        #expect(version.stdoutLines.last?.hasPrefix("libpcap version 1.") == true)

        // Installed paths: the conffile, the unit, the man page, completions, the user and the state folder.
        let conffiles = try String(contentsOfFile: "/var/lib/dpkg/info/zonewarden.conffiles", encoding: .utf8)
        #expect(conffiles.contains("/etc/zonewarden/zonewarden.yaml") && conffiles.contains("/etc/logrotate.d/zonewarden"))
        for path in ["/lib/systemd/system/zonewarden.service", "/usr/share/man/man1/zonewarden.1.gz",
                     "/usr/share/bash-completion/completions/zonewarden", "/usr/share/zsh/vendor-completions/_zonewarden",
                     "/usr/share/fish/vendor_completions.d/zonewarden.fish", "/usr/share/doc/zonewarden/copyright"] {
            #expect(FileManager.default.fileExists(atPath: path), "\(path) is not installed")
        }
        let unit = try String(contentsOfFile: "/lib/systemd/system/zonewarden.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/bin/zonewarden run") && !unit.contains("/usr/local"))
        let user = try bash("getent passwd zonewarden && stat -c '%U %a' /var/lib/zonewarden && stat -c '%G %a' /etc/zonewarden/zonewarden.yaml")
        #expect(user.status == 0 && user.stdout.contains("zonewarden 755") && user.stdout.contains("zonewarden 640"), "\(user.stdout)")
        let man = try bash("MANWIDTH=80 man -P cat zonewarden 2>&1 | grep -c -- '--syslog-ca'")
        #expect(man.status == 0 && (Int(man.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) >= 1, "man zonewarden: \(man.stdout)")
        let completion = try bash("source /usr/share/bash-completion/completions/zonewarden && complete -p zonewarden")
        #expect(completion.status == 0 && completion.stdout.contains("zonewarden"), "\(completion.stderr)")

        // The example analysis from the installed paths, with the default configuration (no -c).
        let example = "/usr/share/doc/zonewarden/examples/example-site.pcap"
        let analysis = try runProgram("/usr/bin/zonewarden", ["analyze", "--summary", example])
        #expect(analysis.status == 0 && analysis.stdoutLines.count == 6, "\(analysis.stderr)")

        // Self-contained: no Swift library is needed, and it runs with the toolchain hidden.
        let ldd = try bash("ldd /usr/bin/zonewarden")
        #expect(ldd.status == 0 && !ldd.stdout.contains("libswift") && !ldd.stdout.contains("not found"), "\(ldd.stdout)")
        let toolchain = try bash("dirname \"$(dirname \"$(readlink -f \"$(command -v swift)\")\")\"").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(!toolchain.isEmpty && toolchain != "/" && toolchain != "/usr")
        let hidden = try bash("""
            unshare --mount --propagation private bash -c 'mount -t tmpfs none "\(toolchain)" && \
            ! command -v swift >/dev/null && ! ls "\(toolchain)/lib" 2>/dev/null && /usr/bin/zonewarden analyze \(example)'
            """)
        #expect(hidden.status == 0 && hidden.stdoutLines.count == 6, "with \(toolchain) hidden: \(hidden.status) \(hidden.stderr)")

        // Purge: the files, the configuration and the state go; nothing of the package is left.
        let purge = try runProgram("/usr/bin/dpkg", ["--purge", "zonewarden"])
        #expect(purge.status == 0, "\(purge.stderr)")
        for path in ["/usr/bin/zonewarden", "/etc/zonewarden/zonewarden.yaml", "/var/lib/zonewarden", "/lib/systemd/system/zonewarden.service"] {
            #expect(!FileManager.default.fileExists(atPath: path), "\(path) left after purge")
        }
    }
}
