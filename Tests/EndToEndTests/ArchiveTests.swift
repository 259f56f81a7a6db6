import Alerting
import CaptureBuilder
import Foundation
import Testing
import TestSupport

/// A month of captures in one command: rotated sets made by the real tools
/// (editcap, tcpdump -C), compressed by the real gzip, zstd, xz and lz4, in
/// nested folders with files that are not captures, read as one capture.
@Suite("Archives of captures", .serialized,
       .enabled(if: ["/usr/bin/editcap", "/usr/bin/tcpdump", "/usr/bin/gzip", "/usr/bin/zstd", "/usr/bin/xz", "/usr/bin/lz4"]
                    .allSatisfy { FileManager.default.isExecutableFile(atPath: $0) },
                "needs editcap (tshark), tcpdump, gzip, zstd, xz and lz4 (scripts/setup installs them)"))
struct ArchiveTests {
    let directory = temporaryDirectory()
    /// The capture the archives are cut from: many flows that span the cuts, alerts from many hosts.
    let whole: String

    init() throws {
        whole = directory.appendingPathComponent("whole.pcap").path
        _ = try BenchmarkCapture.write(path: whole, packets: 40_000, flows: 2_000, seed: 11, mix: .alerts)
    }

    @discardableResult
    func bash(_ command: String) throws -> ProcessResult {
        let r = try runProgram("/bin/bash", ["-c", "set -e; cd '\(directory.path)'; " + command])
        #expect(r.status == 0, "\(command): \(r.stderr)")
        return r
    }

    /// What identifies an alert whatever file it came from: the rule, the moment, the endpoints.
    func alerts(_ eve: String) -> [String] {
        eve.split(separator: "\n").compactMap { line -> String? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let alert = object["alert"] as? [String: Any] else { return nil }
            return ["\(alert["signature_id"] ?? "")", "\(object["timestamp"] ?? "")", "\(object["src_ip"] ?? "")", "\(object["src_port"] ?? "")",
                    "\(object["dest_ip"] ?? "")", "\(object["dest_port"] ?? "")"].joined(separator: " ")
        }.sorted()
    }

    func analyze(_ inputs: [String], _ extra: [String] = [], workers: Int = 1, stdin: Data? = nil) throws -> ProcessResult {
        try zonewarden(["analyze", "-c", "config/example.yaml", "--format", "eve", "--workers", "\(workers)"] + extra + inputs, stdin: stdin)
    }

    /// A rotated, compressed, nested archive gives the alerts of the one plain
    /// file, read as one folder or as its files named in any order.
    @Test func archiveEqualsThePlainFile() throws {
        try bash("""
            mkdir -p month/day1 month/day2/late
            editcap -c 5000 whole.pcap month/day1/cut.pcap
            cd month/day1 && ls cut_* | head -4 | xargs -n1 gzip && ls cut_*.pcap | head -1 | xargs -n1 zstd -q --rm \
              && ls cut_*.pcap | head -1 | xargs -n1 xz && ls cut_*.pcap | head -1 | xargs -n1 lz4 -q -m --rm
            mv $(ls cut_* | tail -2) ../day2/late/ && cd ..
            echo "rotation notes" > README.txt && cp /etc/hostname day2/not-a-capture.bin
            seq 1 2000 | gzip > day2/syslog.1.gz
            """)
        let single = try analyze([whole])
        #expect(single.status == 0)
        let expected = alerts(single.stdout)
        #expect(expected.count > 100, "the capture gives alerts to compare: \(expected.count)")

        let folder = try analyze([directory.appendingPathComponent("month").path], ["--summary"])
        #expect(folder.status == 0, "\(folder.stderr)")
        #expect(alerts(folder.stdout) == expected, "\(alerts(folder.stdout).count) alerts from the archive, \(expected.count) from the file")
        #expect(folder.stderr.contains("month: 3 files that are not a capture skipped"), "a compressed log is no capture: \(folder.stderr)")
        #expect(folder.stderr.contains("(gzip): ") && folder.stderr.contains("(zstd): ") && folder.stderr.contains("(xz): ") && folder.stderr.contains("(lz4): "),
                "every compression named in the per-file lines: \(folder.stderr)")
        #expect(folder.stderr.contains("  files: 8 read"), "\(folder.stderr)")

        // The same files named one by one, in reverse order: read in time order all the same.
        let files = try bash("find month -type f -name 'cut_*' | sort -r").stdoutLines.map { directory.appendingPathComponent($0).path }
        #expect(files.count == 8)
        let named = try analyze(files)
        #expect(named.status == 0 && alerts(named.stdout) == expected, "\(named.stderr)")
        #expect(named.stderr.contains("reading the captures in the order of their first packets"))
    }

    /// tcpdump's size rotation (-C) read back as a folder: the same alerts.
    @Test func tcpdumpRotation() throws {
        try bash("mkdir rot && tcpdump -Z root -r whole.pcap -w rot/trace -C 1 2>/dev/null")
        let count = try bash("ls rot | wc -l").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect((Int(count) ?? 0) >= 3, "tcpdump -C 1 made \(count) files")
        let expected = alerts(try analyze([whole]).stdout)
        let rotated = try analyze([directory.appendingPathComponent("rot").path])
        #expect(rotated.status == 0 && alerts(rotated.stdout) == expected, "\(rotated.stderr)")
    }

    /// Two captures of the same hours (split by frame length, as two sensors
    /// or a badly merged rotation would leave them): merged packet by packet,
    /// they give the alerts of the one file, whichever is named first, with
    /// one worker and with three (each reads the merged packets).
    @Test(arguments: [1, 3])
    func overlappingFilesAreMerged(workers: Int) throws {
        try bash("tcpdump -r whole.pcap -w long.pcap 'len > 200' 2>/dev/null && tcpdump -r whole.pcap -w short.pcap 'len <= 200' 2>/dev/null")
        let expected = alerts(try analyze([whole]).stdout)
        let long = directory.appendingPathComponent("long.pcap").path, short = directory.appendingPathComponent("short.pcap").path
        // Cut in three by time too: the long file's first part ends before the short file begins.
        try bash("editcap -c 9000 long.pcap longcut.pcap && gzip longcut_00001_*")
        let cuts = try bash("ls longcut_*").stdoutLines.map { directory.appendingPathComponent($0).path }
        for order in [[long, short], [short, long], [short] + cuts.reversed()] {
            let merged = try analyze(order, ["--summary"], workers: workers)
            #expect(merged.status == 0, "\(merged.stderr)")
            #expect(alerts(merged.stdout) == expected, "\(alerts(merged.stdout).count) alerts merged, \(expected.count) from the file")
            #expect(merged.stderr.contains("  files: \(order.count) read"), "\(merged.stderr)")
            #expect(!merged.stderr.contains("one after the other"), "\(merged.stderr)")
        }
    }

    /// --since/--until: only alerts inside the window; files wholly outside are not read.
    @Test func timeWindow() throws {
        try bash("mkdir cuts && editcap -F pcap -c 4000 whole.pcap cuts/part.pcap")
        let all = try analyze([whole])
        let times = alerts(all.stdout).map { $0.split(separator: " ")[1] }.sorted()
        try #require(times.count > 10)
        let since = String(times[times.count / 3]), until = String(times[2 * times.count / 3])
        let windowed = try analyze([directory.appendingPathComponent("cuts").path], ["--since", since, "--until", until, "--summary"])
        #expect(windowed.status == 0, "\(windowed.stderr)")
        // Plain files before --since and after --until are not read at all: on both sides.
        let notRead = windowed.stderrLines.filter { $0.hasSuffix(": outside the time window, not read") }.map { $0.split(separator: "/").last ?? "" }
        #expect(notRead.contains { $0.hasPrefix("part_00000") } && notRead.contains { $0.hasPrefix("part_00009") }, "\(windowed.stderr)")
        let inside = alerts(windowed.stdout).map { String($0.split(separator: " ")[1]) }
        #expect(!inside.isEmpty && inside.allSatisfy { $0 >= since && $0 <= until }, "alerts outside \(since)...\(until)")
        #expect(windowed.stderr.contains("outside the time window (not read)"), "\(windowed.stderr)")
        // The same moments with an offset, and a relative window reaching back past the capture.
        let offset = try analyze([whole], ["--since", Self.shifted(since), "--until", Self.shifted(until)])
        #expect(alerts(offset.stdout) == alerts(windowed.stdout), "\(offset.stderr)")
        let relative = try analyze([whole], ["--since", "-36500d", "--until", "-1s"])
        #expect(relative.status == 0 && alerts(relative.stdout) == alerts(all.stdout), "\(relative.stderr)")
        let future = try analyze([whole], ["--since", "-1d"])
        #expect(future.status == 0 && alerts(future.stdout).isEmpty, "a capture of 2026-11 holds nothing of the last day")
        // --since between two files (just after one's last packet): that file is not read either.
        let lastOfThird = try bash("tcpdump -n -tt -r cuts/$(ls cuts | sed -n 3p) 2>/dev/null | tail -1 | cut -d' ' -f1").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let gap = Timestamp.rfc3339(UInt64((Double(lastOfThird)! * 1e6).rounded()) * 1000 + 1000)
        let between = try analyze([directory.appendingPathComponent("cuts").path], ["--since", gap, "--summary"])
        let unread = between.stderrLines.filter { $0.hasSuffix(": outside the time window, not read") }
        #expect(between.status == 0 && unread.count == 3 && unread.contains { $0.contains("/part_00002_") }, "since \(gap): \(between.stderr)")
        // Compressed and pcapng files before --since: their ends found from their headers (decompressed, nothing decoded), not read.
        try bash("""
            cd cuts && f=$(ls part_00000_*) && editcap -c 2000 $f early.pcap && rm $f
            f=$(ls early_00000_*) && editcap -F pcapng $f ${f%.pcap}.pcapng && rm $f && zstd -q --rm ${f%.pcap}.pcapng
            gzip early_00001_*
            """)
        let mixed = try analyze([directory.appendingPathComponent("cuts").path], ["--since", since, "--until", until, "--summary"])
        #expect(mixed.status == 0 && alerts(mixed.stdout) == alerts(windowed.stdout), "\(mixed.stderr)")
        let skipped = mixed.stderrLines.filter { $0.hasSuffix(": outside the time window, not read") }
        #expect(skipped.contains { $0.contains("/early_00000_") && $0.contains(".pcapng.zst:") }
                && skipped.contains { $0.contains("/early_00001_") && $0.contains(".pcap.gz:") }, "\(mixed.stderr)")
        let bad = try analyze([whole], ["--since", "yesterday-ish"])
        #expect(bad.status == 2 && bad.stderrLines.count == 1, "\(bad.stderr)")
    }

    /// An EVE timestamp (`2026-11-26T14:00:00.000178+0000`) written with a +01:00 offset: the same moment.
    static func shifted(_ eve: String) -> String {
        let hour = Int(eve.dropFirst(11).prefix(2))! + 1
        return String(eve.prefix(11)) + String(format: "%02d", hour) + String(eve.dropFirst(13).dropLast(5)) + "+01:00"
    }

    /// A truncated compressed file: its readable part's alerts are written, then one line and exit status 3.
    @Test func truncatedCompressedFile() throws {
        try bash("zstd -q -c whole.pcap > whole.pcap.zst && head -c $(( $(stat -c %s whole.pcap.zst) / 2 )) whole.pcap.zst > half.pcap.zst")
        let r = try analyze([directory.appendingPathComponent("half.pcap.zst").path])
        #expect(r.status == 3, "\(r.stderr)")
        #expect(r.stderrLines.count == 1 && r.stderr.contains("half.pcap.zst: packet ") && r.stderr.contains("the zstd data ends early"), "\(r.stderr)")
        #expect(alerts(r.stdout).count > 10, "the alerts of the readable half are written")
        let plain = try analyze([directory.appendingPathComponent("whole.pcap.zst").path])
        let expected = alerts(try analyze([whole]).stdout)
        #expect(plain.status == 0 && alerts(plain.stdout) == expected)
    }

    /// Corrupt compressed files: the alerts before the damage, one line naming the file, exit status 3.
    @Test(arguments: ["gzip", "zstd", "xz", "lz4"])
    func corruptCompressedFile(compressor: String) throws {
        let name = "corrupt-\(compressor).pcap"
        try bash("""
            cp whole.pcap \(name) && \(compressor) -q -f \(compressor == "lz4" ? "-m " : "")\(name)
            f=$(ls \(name).* | head -1)
            size=$(stat -c %s $f)
            printf '\\xff\\x00\\xff\\x00\\xff\\x00\\xff\\x00' | dd of=$f bs=1 seek=$((size / 2)) conv=notrunc status=none
            """)
        let file = try bash("ls \(name).*").stdoutLines.first.map { directory.appendingPathComponent($0).path } ?? ""
        let r = try analyze([file])
        #expect(r.status == 3, "\(compressor): \(r.stderr)")
        #expect(r.stderrLines.count == 1 && r.stderr.hasPrefix(file + ": ") && !r.stderr.contains("\u{0}"), "\(compressor): \(r.stderr)")
        #expect(alerts(r.stdout).count > 10, "\(compressor): the alerts of the first half are written")
    }

    /// The report says which part of the captures it covers: each format,
    /// and a merge of two reports of different windows says so (one of the
    /// same window keeps it).
    @Test func reportSaysItsWindow() throws {
        let dir = directory.path
        func report(_ extra: [String], _ format: String, _ output: String) throws -> String {
            let r = try zonewarden(["report", "-c", "config/example.yaml", "--format", format, "-o", "\(dir)/\(output)"] + extra + [whole])
            #expect(r.status == 0, "\(r.stderr)")
            return try String(contentsOfFile: "\(dir)/\(output)", encoding: .utf8)
        }
        let md = try report(["--since", "2026-11-26T14:00:00.01Z"], "markdown", "a.md")
        #expect(md.contains("Only the packets from 2026-11-26T14:00:00.010000Z to the end were analysed"), "\(md.prefix(600))")
        let html = try report(["--until", "2026-11-26T15:00:00+01:00"], "html", "a.html")
        #expect(html.contains("Only the packets from the beginning to 2026-11-26T14:00:00.000000Z were analysed"))
        #expect(!(try report([], "markdown", "all.md")).contains("Only the packets"), "no window, nothing said")
        let a = try report(["--since", "2026-11-26T14:00:00.01Z", "--until", "2026-11-26T14:00:00.02Z"], "json", "a.json")
        _ = try report(["--since", "2026-11-26T14:00:00.005Z", "--until", "2026-11-26T14:00:00.015Z"], "json", "b.json")
        let coverage = try #require((try JSONSerialization.jsonObject(with: Data(a.utf8)) as? [String: Any])?["coverage"] as? [String: Any])
        #expect(coverage["window"] as? [String: String] == ["since": "2026-11-26T14:00:00.010000Z", "until": "2026-11-26T14:00:00.020000Z"])
        let merged = try zonewarden(["report", "--merge", "--format", "markdown", "\(dir)/a.json", "\(dir)/b.json"])
        #expect(merged.status == 0 && merged.stdout.contains("The merged reports kept to different time windows (--since/--until), together from 2026-11-26T14:00:00.005000Z to 2026-11-26T14:00:00.020000Z; each capture's row says what of it was analysed."), "\(merged.stderr)")
        // Another sensor's report of the same window: the window stands.
        let other = try zonewarden(["report", "-c", "config/example.yaml", "--format", "json", "-o", "\(dir)/c.json",
                                    "--since", "2026-11-26T14:00:00.01Z", "--until", "2026-11-26T14:00:00.02Z", repoPath("Captures/example-site.pcap")])
        #expect(other.status == 0, "\(other.stderr)")
        let same = try zonewarden(["report", "--merge", "--format", "markdown", "\(dir)/a.json", "\(dir)/c.json"])
        #expect(same.status == 0 && same.stdout.contains("Only the packets from 2026-11-26T14:00:00.010000Z to 2026-11-26T14:00:00.020000Z were analysed"), "\(same.stderr)")
    }

    /// A compressed capture on standard input (`ssh sensor cat x.pcap.zst |
    /// zonewarden analyze -`): recognised by its first bytes and decompressed,
    /// the alerts of the plain file; a plain capture whose header arrives in
    /// pieces is read whole; a truncated stream is exit 3 after its alerts.
    @Test(arguments: ["gzip -c", "zstd -q -c", "xz -c", "lz4 -q -c", "cat"])
    func compressedStandardInput(compressor: String) throws {
        let expected = alerts(try analyze([whole]).stdout)
        try bash("\(compressor) whole.pcap > whole.in")
        let input = try Data(contentsOf: directory.appendingPathComponent("whole.in"))
        let r = try analyze(["-"], stdin: input)
        #expect(r.status == 0 && alerts(r.stdout) == expected, "\(compressor): \(alerts(r.stdout).count) alerts, \(expected.count) from the file; \(r.stderr)")
        let cut = try analyze(["-"], stdin: input.prefix(input.count / 2))
        #expect(cut.status == 3, "\(compressor): \(cut.stderr)")
        #expect(alerts(cut.stdout).count > 10 && cut.stderrLines.count == 1, "\(compressor): the alerts of the first half, one line: \(cut.stderr)")
    }

    /// A plain capture whose first bytes come in pieces (a slow writer): read whole.
    @Test func slowStandardInput() throws {
        let expected = alerts(try analyze([whole]).stdout)
        let r = try runProgram("/bin/bash", ["-c", "cd '\(directory.path)' && (head -c 3 whole.pcap; sleep 0.3; head -c 5 whole.pcap | tail -c 2; sleep 0.3; tail -c +6 whole.pcap) | '\(productsDirectory.appendingPathComponent("zonewarden").path)' analyze -c '\(repoPath("config/example.yaml"))' --format eve -"])
        #expect(r.status == 0 && alerts(r.stdout) == expected, "\(r.stderr)")
    }

    /// What a new user's archive holds: a folder reached through a link, a
    /// link loop, a truncated compressed capture among the files, a file named
    /// twice, two truncated files that overlap, a window that holds nothing.
    @Test func folderEdgeCases() throws {
        try bash("""
            mkdir -p real/sub && editcap -c 20000 whole.pcap real/part.pcap && ln -s ../real real/sub/loop && ln -s real linked
            zstd -q -c whole.pcap | head -c 20000 > real/sub/cut.pcap.zst
            head -c 300000 whole.pcap > a.pcap && head -c 400000 whole.pcap > b.pcap
            """)
        let expected = alerts(try analyze([whole]).stdout)
        // Through the link, with the loop walked once; the truncated capture is read and said, exit 3.
        let linked = try analyze([directory.appendingPathComponent("linked").path])
        #expect(linked.status == 3 && linked.stderr.contains("cut.pcap.zst: ") && linked.stderr.contains("the zstd data ends early"), "\(linked.stderr)")
        try bash("rm real/sub/cut.pcap.zst")
        let clean = try analyze([directory.appendingPathComponent("linked").path, whole])
        #expect(clean.status == 0 && clean.stderr.contains("is given more than once: read once") == false, "\(clean.stderr)")
        let twice = try analyze([whole, whole])
        #expect(twice.status == 0 && twice.stderrLines == ["zonewarden: \(whole) is given more than once: read once"] && alerts(twice.stdout) == expected,
                "\(twice.stderr)")
        // Two truncated files that overlap: each one's error is said (one worker or two).
        for workers in [1, 2] {
            let both = try analyze([directory.appendingPathComponent("a.pcap").path, directory.appendingPathComponent("b.pcap").path], workers: workers)
            #expect(both.status == 3 && both.stderrLines.filter { $0.contains("truncated") }.count == 2, "\(workers) workers: \(both.stderr)")
        }
        // A window that holds no packet says so.
        let empty = try analyze([whole], ["--until", "2020-01-01"])
        #expect(empty.status == 0 && empty.stdout.isEmpty && empty.stderr.contains("note: no packet of the captures lies between"), "\(empty.stderr)")
        // A folder with no capture (tonight's rotation did not run): said, status 3, yesterday's -o left as it was.
        try bash("mkdir -p nothing && echo 'previous alerts' > kept.json")
        let kept = directory.appendingPathComponent("kept.json").path
        let none = try analyze([directory.appendingPathComponent("nothing").path], ["-o", kept])
        #expect(none.status == 3 && none.stderr.contains("no capture files in"), "\(none.stderr)")
        #expect(try String(contentsOfFile: kept, encoding: .utf8) == "previous alerts\n")
    }

    /// --progress into a log: status lines on standard error, none on standard output.
    @Test func progressLines() throws {
        let r = try analyze([whole, whole + ".missing"], ["--progress", "--progress-interval", "0.5"])
        #expect(r.status == 3)
        #expect(!r.stdout.contains("files,") && r.stdout.contains("\"event_type\":\"alert\""))
        // The last line says where it ended: both files, all bytes, the alerts.
        let last = r.stderrLines.last { $0.contains(" files, ") } ?? ""
        #expect(last.hasPrefix("zonewarden: 2/2 files, ") && last.contains("(100%)") && last.contains(" alerts, "), "\(r.stderr)")
        let quiet = try analyze([whole], ["--quiet"])
        #expect(!quiet.stderr.contains("files,"))
        let both = try analyze([whole], ["--progress", "--quiet"])
        #expect(both.status == 2)
        // An interval asks for the lines; with --quiet it is a contradiction too.
        let interval = try analyze([whole], ["--progress-interval", "0.5"])
        #expect(interval.stderrLines.last?.hasPrefix("zonewarden: 1/1 files, ") == true, "\(interval.stderr)")
        #expect(try analyze([whole], ["--progress-interval", "1", "--quiet"]).status == 2)
        // --quiet leaves out the notes on how the inputs are read, not the errors.
        try bash("mkdir -p noted && cp whole.pcap noted/a.pcap && echo text > noted/readme.txt")
        let noted = try analyze([directory.appendingPathComponent("noted").path, whole + ".missing"], ["--quiet"])
        #expect(noted.status == 3 && noted.stderrLines == ["\(whole).missing: no such file or directory"], "\(noted.stderr)")
    }
}
