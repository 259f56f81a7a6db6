import CaptureBuilder
import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Where the command line writes: devices and FIFOs in place, never through
/// another user's link, whole lines on a full disk with the loss counted;
/// and captures read from streams, stopped by a signal without losing an alert.
@Suite("Files and streams of the command line")
struct FileSafetyTests {
    @Test func devicesAreWrittenInPlace() throws {
        let null = try zonewarden(["report", "-c", "config/example.yaml", "-o", "/dev/null", "Captures/example-site.pcap"])
        #expect(null.status == 0 && null.stderr.isEmpty && null.stdout.isEmpty, "\(null.stderr)")
        let report = try zonewarden(["report", "-c", "config/example.yaml", "--format", "json", "-o", "/dev/stdout", "Captures/example-site.pcap"])
        #expect(report.status == 0 && (try? JSONSerialization.jsonObject(with: Data(report.stdout.utf8))) is [String: Any], "\(report.stderr)")
        let alerts = try zonewarden(["analyze", "-c", "config/example.yaml", "-o", "/dev/stdout", "Captures/example-site.pcap"])
        #expect(alerts.status == 0 && alerts.stdoutLines.count == 6)
        // /dev/null stays the device.
        var info = stat()
        #expect(stat("/dev/null", &info) == 0 && info.st_mode & S_IFMT == S_IFCHR)
    }

    @Test func fifoOutput() throws {
        let fifo = temporaryDirectory().appendingPathComponent("alerts.fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        // The reader hands what it read over through the semaphore (which orders the two threads' memory).
        final class Received: @unchecked Sendable { var data = Data() }
        let received = Received(), done = DispatchSemaphore(value: 0)
        let reader = Thread {
            received.data = FileHandle(forReadingAtPath: fifo)?.readDataToEndOfFile() ?? Data()
            done.signal()
        }
        reader.start()
        let r = try zonewarden(["analyze", "-c", "config/example.yaml", "--format", "eve", "-o", fifo, "Captures/example-site.pcap"])
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(r.status == 0 && String(decoding: received.data, as: UTF8.self).split(separator: "\n").count == 6, "\(r.stderr)")
    }

    /// As root, a link someone else planted where an output goes is not
    /// followed (it could point at /etc/shadow); the user's own link is.
    @Test(.enabled(if: getuid() == 0, "needs root to give a link to another user"))
    func othersLinksAreRefused() throws {
        let dir = temporaryDirectory()
        chmod(dir.path, 0o1777)
        let victim = dir.appendingPathComponent("victim").path
        try "keep me\n".write(toFile: victim, atomically: false, encoding: .utf8)
        let planted = dir.appendingPathComponent("planted.json").path
        #expect(symlink(victim, planted) == 0 && lchown(planted, 65534, 65534) == 0)
        for arguments in [["analyze", "-c", "config/example.yaml", "-o", planted, "Captures/example-site.pcap"],
                          ["report", "-c", "config/example.yaml", "-o", planted, "Captures/example-site.pcap"]] {
            let r = try zonewarden(arguments)
            #expect(r.status == 2 && r.stderrLines.count == 1 && r.stderr.contains("is a symbolic link owned by another user (uid 65534); refusing to follow it"), "\(r.stderr)")
        }
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "keep me\n")
        let own = dir.appendingPathComponent("own.json").path
        #expect(symlink(victim, own) == 0)
        let r = try zonewarden(["analyze", "-c", "config/example.yaml", "-o", own, "Captures/example-site.pcap"])
        let through = try String(contentsOfFile: victim, encoding: .utf8)
        #expect(r.status == 0 && through.split(separator: "\n").count == 6)
    }

    /// A capture from a FIFO (a process substitution, `mkfifo`) is read as a stream.
    @Test func fifoInput() throws {
        let fifo = temporaryDirectory().appendingPathComponent("capture.fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let capture = try Data(contentsOf: URL(fileURLWithPath: repoPath("Captures/example-site.pcap")))
        let writer = Thread { FileHandle(forWritingAtPath: fifo)?.write(capture) }
        writer.start()
        let r = try zonewarden(["analyze", "-c", "config/example.yaml", fifo])
        #expect(r.status == 0 && r.stdoutLines.count == 6, "\(r.stderr)")
    }

    /// `tcpdump -w - | zonewarden analyze -`: each alert is written as soon as
    /// it is found; SIGINT stops the analysis, and the end-of-capture alerts still come.
    /// Compressed too (`| gzip |`): the decompressing thread, waiting on a
    /// stream that says nothing more, stops with the analysis.
    @Test(arguments: [false, true])
    func streamStoppedBySIGINT(compressed: Bool) throws {
        let dir = temporaryDirectory()
        let fifo = dir.appendingPathComponent("capture.fifo").path, out = dir.appendingPathComponent("eve.json").path
        let log = dir.appendingPathComponent("log").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let analysis = try ChildProcess(productsDirectory.appendingPathComponent("zonewarden").path,
                                        ["analyze", "-c", repoPath("config/example.yaml"), "--format", "eve", "-o", out, fifo], outputPath: log)
        // Opening blocks until the sensor opens its end; the writer keeps it open.
        guard let writer = FileHandle(forWritingAtPath: fifo) else { Issue.record("cannot open the FIFO"); return }
        defer { try? writer.close() }
        let capture = compressed ? try runProgram("/bin/bash", ["-c", "gzip -c Captures/example-site.pcap | base64 -w0"]).stdout : ""
        writer.write(compressed ? Data(base64Encoded: capture)! : try Data(contentsOf: URL(fileURLWithPath: repoPath("Captures/example-site.pcap"))))
        let lines = { ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").split(separator: "\n") }
        #expect(waitFor(10) { lines().count == 5 }, "alerts are written while the stream is open: \(lines().count)")
        analysis.signal(SIGINT)
        #expect(analysis.wait(seconds: 10) == 0)
        let stderr = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(stderr == "zonewarden: SIGINT: stopped after 76 packets; every alert found is written\n")
        #expect(lines().count == 6 && lines().last?.contains("\"signature_id\":5003") == true)
    }

    /// The flow log reaches its file as flows end, not at the stop: a stream
    /// whose first flows expired (a packet a day later) has their records on
    /// disk while it is still open.
    @Test func flowRecordsReachTheFileAsFlowsEnd() throws {
        let dir = temporaryDirectory()
        let fifo = dir.appendingPathComponent("capture.fifo").path, flows = dir.appendingPathComponent("flows.json").path
        let later = dir.appendingPathComponent("later.pcap").path, log = dir.appendingPathComponent("log").path
        let source = repoPath("Captures/cleartext-admin-login.pcap")
        try FileOrderTests.shifted(source, by: 86_400, to: later)
        #expect(mkfifo(fifo, 0o600) == 0)
        let analysis = try ChildProcess(productsDirectory.appendingPathComponent("zonewarden").path,
                                        ["analyze", "-c", repoPath("config/example.yaml"), "-o", "/dev/null", "--flow-log", flows, fifo], outputPath: log)
        guard let writer = FileHandle(forWritingAtPath: fifo) else { Issue.record("cannot open the FIFO"); return }
        // The capture, then the first packet of the copy a day later (its records only: one header per stream).
        let first = try Data(contentsOf: URL(fileURLWithPath: source))
        let next = try Data(contentsOf: URL(fileURLWithPath: later)).dropFirst(24)
        let length = Int(next[next.startIndex + 8]) | Int(next[next.startIndex + 9]) << 8
        writer.write(first + next.prefix(16 + length))
        let lines = { ((try? String(contentsOfFile: flows, encoding: .utf8)) ?? "").split(separator: "\n") }
        #expect(waitFor(10) { !lines().isEmpty }, "the expired flows' records are in the file while the stream is open")
        try? writer.close()
        #expect(analysis.wait(seconds: 10) == 0)
        #expect(lines().allSatisfy { $0.contains("\"event_type\":\"flow\"") } && lines().count > 1)
    }

    /// A closed terminal (SIGHUP) stops a stream's analysis as SIGINT does:
    /// the flows are finished and their end-of-capture alerts written. Under
    /// nohup (SIGHUP ignored) the analysis goes on to the stream's end.
    @Test(arguments: [false, true])
    func streamAndSIGHUP(underNohup: Bool) throws {
        let dir = temporaryDirectory()
        let fifo = dir.appendingPathComponent("capture.fifo").path, out = dir.appendingPathComponent("eve.json").path
        let log = dir.appendingPathComponent("log").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let command = ["analyze", "-c", repoPath("config/example.yaml"), "--format", "eve", "-o", out, fifo]
        let analysis = underNohup
            ? try ChildProcess("/usr/bin/nohup", [productsDirectory.appendingPathComponent("zonewarden").path] + command, outputPath: log)
            : try ChildProcess(productsDirectory.appendingPathComponent("zonewarden").path, command, outputPath: log)
        guard let writer = FileHandle(forWritingAtPath: fifo) else { Issue.record("cannot open the FIFO"); return }
        writer.write(try Data(contentsOf: URL(fileURLWithPath: repoPath("Captures/example-site.pcap"))))
        let lines = { ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").split(separator: "\n") }
        #expect(waitFor(10) { lines().count == 5 }, "alerts are written while the stream is open: \(lines().count)")
        analysis.signal(SIGHUP)
        if underNohup {
            usleep(300_000)
            try? writer.close()
        }
        #expect(analysis.wait(seconds: 10) == 0)
        if !underNohup { try? writer.close() }
        let stderr = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(underNohup ? !stderr.contains("SIGHUP") : stderr == "zonewarden: SIGHUP: stopped after 76 packets; every alert found is written\n", "\(stderr)")
        #expect(lines().count == 6 && lines().last?.contains("\"signature_id\":5003") == true)
    }

    /// A folder stopped by SIGINT midway: --summary accounts for every file,
    /// those read (in part) and those the analysis was stopped before.
    @Test func folderStoppedBySIGINT() throws {
        let dir = temporaryDirectory()
        let whole = dir.appendingPathComponent("whole.pcap").path, folder = dir.appendingPathComponent("cuts")
        let out = dir.appendingPathComponent("eve.json").path, log = dir.appendingPathComponent("log").path
        _ = try BenchmarkCapture.write(path: whole, packets: 400_000, flows: 2_000, seed: 5)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        #expect(try runProgram("/usr/bin/editcap", ["-c", "10000", whole, folder.appendingPathComponent("part.pcap").path]).status == 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).count
        let analysis = try ChildProcess(productsDirectory.appendingPathComponent("zonewarden").path,
                                        ["analyze", "-c", repoPath("config/example.yaml"), "--summary", "--format", "eve", "-o", out, folder.path], outputPath: log)
        let lines = { ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").split(separator: "\n") }
        #expect(waitFor(30) { !lines().isEmpty }, "alerts are written while the files are read")
        analysis.signal(SIGINT)
        #expect(analysis.wait(seconds: 30) == 0)
        let stderr = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        let perFile = stderr.split(separator: "\n").filter { $0.hasPrefix("    ") && $0.contains("/cuts/part_") }
        #expect(perFile.count == files, "every one of the \(files) files accounted for: \(stderr)")
        #expect(stderr.contains("not reached (stopped first)") && perFile.contains { $0.hasSuffix("not read: the analysis was stopped first") }, "\(stderr)")
    }

    /// A stream that says nothing (a FIFO whose writer is silent), or only
    /// the first bytes of a gzip header: SIGTERM stops the analysis at once.
    @Test(arguments: [[], [0x1F, 0x8B]] as [[UInt8]])
    func silentStreamStoppedBySIGTERM(first: [UInt8]) throws {
        let dir = temporaryDirectory()
        let fifo = dir.appendingPathComponent("capture.fifo").path, log = dir.appendingPathComponent("log").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let analysis = try ChildProcess(productsDirectory.appendingPathComponent("zonewarden").path,
                                        ["analyze", "-c", repoPath("config/example.yaml"), fifo], outputPath: log)
        guard let writer = FileHandle(forWritingAtPath: fifo) else { Issue.record("cannot open the FIFO"); return }
        defer { try? writer.close() }
        writer.write(Data(first))
        usleep(500_000)
        analysis.signal(SIGTERM)
        #expect(analysis.wait(seconds: 10) == 0)
        #expect((try? String(contentsOfFile: log, encoding: .utf8)) == "zonewarden: SIGTERM: stopped after 0 packets; every alert found is written\n")
    }

    /// A stop signal while the alerts' output fails (a full disk): the stop
    /// line does not claim that every alert was written; the failure and
    /// the alerts it lost are said after it, with status 4.
    @Test func stopWhileTheOutputFailsIsNotCalledComplete() throws {
        let dir = temporaryDirectory()
        let fifo = dir.appendingPathComponent("capture.fifo").path, log = dir.appendingPathComponent("log").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let analysis = try ChildProcess(productsDirectory.appendingPathComponent("zonewarden").path,
                                        ["analyze", "-c", repoPath("config/example.yaml"), "-o", "/dev/full", fifo], outputPath: log)
        guard let writer = FileHandle(forWritingAtPath: fifo) else { Issue.record("cannot open the FIFO"); return }
        defer { try? writer.close() }
        // A capture with alerts, its end not yet reached (the FIFO stays open).
        writer.write(try Data(contentsOf: URL(fileURLWithPath: repoPath("Captures/example-site.pcap"))))
        usleep(1_000_000)
        analysis.signal(SIGTERM)
        #expect(analysis.wait(seconds: 10) == 4)
        let stderr = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(stderr.contains("zonewarden: SIGTERM: stopped after ") && stderr.contains("; the alert output failed (below)\n"), "\(stderr)")
        #expect(!stderr.contains("every alert found is written"), "\(stderr)")
        #expect(stderr.contains("/dev/full: write failed: No space left on device") && stderr.contains("not written to /dev/full"), "\(stderr)")
    }

    /// A regular file is read ahead on a second thread: SIGINT stops the
    /// reading, every packet read is analysed and every alert found written.
    @Test func fileReadAheadStoppedBySIGINT() throws {
        let dir = temporaryDirectory()
        let capture = dir.appendingPathComponent("long.pcap").path, out = dir.appendingPathComponent("eve.json").path
        let log = dir.appendingPathComponent("log").path
        let total = try BenchmarkCapture.write(path: capture, packets: 400_000, flows: 2_000, seed: 5).packets
        let analysis = try ChildProcess(productsDirectory.appendingPathComponent("zonewarden").path,
                                        ["analyze", "-c", repoPath("config/example.yaml"), "--format", "eve", "--summary", "-o", out, capture], outputPath: log)
        let lines = { ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").split(separator: "\n") }
        #expect(waitFor(30) { !lines().isEmpty }, "alerts are written while the file is read")
        analysis.signal(SIGINT)
        #expect(analysis.wait(seconds: 30) == 0)
        let stderr = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        let stopped = stderr.firstMatch(of: /^zonewarden: SIGINT: stopped after (\d+) packets; every alert found is written\n/)
        let packets = stopped.flatMap { Int($0.1) } ?? 0
        #expect(packets > 0 && packets < total, "\(stderr)")
        // The summary says the file was read only up to the stop.
        #expect(stderr.contains("files: 0 read, 1 read up to the stop") && stderr.contains("\(packets) packets, ") && stderr.contains("; read up to the stop, not to its end"), "\(stderr)")
        #expect(lines().allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil }, "whole JSON lines only")
    }

    /// A disk that fills up: exit status 4, the file holds whole JSON lines,
    /// and the message counts exactly the alerts that are not in it.
    @Test(.enabled(if: SmallFilesystem.isAvailable, "needs root to mount a small tmpfs"))
    func fullDisk() throws {
        let s = CaptureScript()
        let mgmt = CaptureBuilder.Host("10.10.0.5")
        for i in 0..<120 {
            s.tcp(client: CaptureBuilder.Host("192.168.100.\(1 + i)"), clientPort: 40_000, server: mgmt, serverPort: 443, messages: [(true, [0x16, 0x03, 0x01, 0x00, 0x01, 0x01])])
        }
        let capture = temporaryDirectory().appendingPathComponent("guests.pcap").path
        try s.write(to: capture)
        let all = try zonewarden(["analyze", "-c", "config/example.yaml", "--format", "eve", capture])
        #expect(all.status == 0 && all.stdoutLines.count > 120)

        let disk = try SmallFilesystem(kilobytes: 16)
        defer { disk.unmount() }
        let out = disk.directory + "/eve.json"
        let r = try zonewarden(["analyze", "-c", "config/example.yaml", "--format", "eve", "-o", out, capture])
        #expect(r.status == 4 && r.stderrLines.count == 1, "\(r.stderr)")
        let lost = r.stderr.firstMatch(of: /^zonewarden: alert output .*eve\.json: write failed: No space left on device; (\d+) alerts not written to .*eve\.json\n$/)
        #expect(lost != nil, "\(r.stderr)")
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(text.hasSuffix("\n"))
        let written = text.split(separator: "\n")
        #expect(written.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil }, "whole JSON lines only")
        #expect(written.map(String.init) == Array(all.stdoutLines.prefix(written.count)))
        #expect(written.count + (lost.flatMap { Int($0.1) } ?? -1) == all.stdoutLines.count)
    }
}
