import Foundation
import Platform
import Testing
import TestSupport
@testable import Alerting
import Zones

/// A listening socket on loopback that collects what arrives: datagrams, or
/// RFC 6587 octet-counted frames over TCP. Real sockets, real kernel.
final class Collector: @unchecked Sendable {
    let fd: Int32
    let port: UInt16
    let stream: Bool
    private let lock = NSLock()
    private var messages: [String] = []
    private var connections: [Int32] = []
    private var running = true
    private var thread: Thread?

    init(stream: Bool, port requested: UInt16 = 0) {
        self.stream = stream
        let fd = socket(AF_INET, Int32(stream ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue), 0)
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = requested.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        if stream { listen(fd, 8) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        self.fd = fd
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [unowned self] in self.serve() }
        self.thread = thread
        thread.start()
    }

    var received: [String] { lock.withLock { messages } }

    /// Stops listening and drops every connection, as a crashed collector would.
    func close() {
        lock.withLock { running = false }
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
        for c in lock.withLock({ connections }) { shutdown(c, Int32(SHUT_RDWR)); Glibc.close(c) }
        Thread.sleep(forTimeInterval: 0.3)
    }

    private func serve() {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while lock.withLock({ running }) {
            if !stream {
                let n = recv(fd, &buffer, buffer.count, 0)
                if n <= 0 { continue }
                let text = String(decoding: buffer[0..<n], as: UTF8.self)
                lock.withLock { messages.append(text) }
                continue
            }
            let c = accept(fd, nil, nil)
            if c < 0 { return }
            lock.withLock { connections.append(c) }
            var pending: [UInt8] = []
            while true {
                let n = recv(c, &buffer, buffer.count, 0)
                if n <= 0 { break }
                pending += buffer[0..<n]
                // Octet counting: LEN SP MSG.
                while let space = pending.firstIndex(of: 0x20), let length = Int(String(decoding: pending[..<space], as: UTF8.self)),
                      pending.count >= space + 1 + length {
                    let message = String(decoding: pending[(space + 1)..<(space + 1 + length)], as: UTF8.self)
                    lock.withLock { messages.append(message) }
                    pending.removeFirst(space + 1 + length)
                }
            }
        }
    }
}

/// A transport that refuses everything: the collector is away.
final class AwayTransport: MessageTransport {
    let name = "away"
    func send(_ message: [UInt8]) -> SendResult { .retry("connection refused") }
}

@Suite("Syslog outputs", .serialized)
struct OutputTests {
    @Test(arguments: [
        ("unix:///dev/log", SyslogURL.unix(path: "/dev/log")),
        ("udp://10.0.0.5:514", .udp(host: "10.0.0.5", port: 514)),
        ("tcp://collector.example:6514", .tcp(host: "collector.example", port: 6514)),
        ("relp://[fd00::5]:2514", .relp(host: "fd00::5", port: 2514)),
        ("RELP://127.0.0.1:2514/", .relp(host: "127.0.0.1", port: 2514)),
        ("tls://collector.example.org:6514", .tls(host: "collector.example.org", port: 6514)),
        ("relp+tls://[fd00::5]:2514", .relpTLS(host: "fd00::5", port: 2514)),
        // Unbracketed IPv6 still read, as configurations written so before brackets were asked for.
        ("udp://fd00::5:514", .udp(host: "fd00::5", port: 514)),
    ])
    func parse(text: String, url: SyslogURL) throws {
        #expect(try SyslogURL.parse(text).get() == url)
    }

    @Test(arguments: [
        ("10.0.0.5:514", "expected unix:///PATH, udp://HOST:PORT, tcp://HOST:PORT, tls://HOST:PORT, relp://HOST:PORT or relp+tls://HOST:PORT"),
        ("http://x:80", "unknown scheme \"http\" (unix, udp, tcp, tls, relp or relp+tls)"),
        ("udp://10.0.0.5", "missing :PORT"),
        ("tcp://:514", "missing host"),
        ("relp://h:70000", "port \"70000\" must be 1-65535"),
        ("unix://dev/log", "a unix socket needs an absolute path, as in unix:///dev/log"),
        ("tcp://[fd00::1:514", "an IPv6 host needs a closing ]"),
        ("udp://h:514?password=S3cret", "a syslog URL takes no query or fragment (?... #...): give PROTO://HOST:PORT"),
        ("tcp://x:1:2", "a host with colons (an IPv6 address) goes in brackets: [x:1]:2"),
        ("udp://h?pw=S3cret:514", "a syslog URL takes no query or fragment (?... #...): give PROTO://HOST:PORT"),
    ])
    func refuse(text: String, message: String) {
        guard case .failure(let e) = SyslogURL.parse(text) else { Issue.record("accepted \(text)"); return }
        #expect(e.description == message)
    }

    /// What may be printed of a URL: no password, in the user part or in a query.
    @Test func redactedURLs() {
        #expect(SyslogURL.redacted("tcp://u:S3cret@h:514") == "tcp://***@h:514")
        #expect(SyslogURL.redacted("udp://h:514?password=S3cret") == "udp://h:514?***")
        #expect(SyslogURL.redacted("tls://h:6514") == "tls://h:6514")
    }

    @Test func udpDatagrams() {
        let collector = Collector(stream: false)
        defer { collector.close() }
        let transport = DatagramTransport(host: "127.0.0.1", port: collector.port)
        for i in 0..<5 { #expect(transport.send(Array("<134>1 - - zw - - - message \(i)".utf8)) == .sent) }
        #expect(waitFor { collector.received.count == 5 })
        #expect(collector.received.last == "<134>1 - - zw - - - message 4")
        #expect(transport.send([UInt8](repeating: 0x41, count: 70_000)) == .failed("message of 70000 bytes too large for a datagram"))
    }

    @Test func unixDatagramSocket() throws {
        let path = NSTemporaryDirectory() + "zw-log-\(getpid())"
        unlink(path)
        let s = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(s); unlink(path) }
        let transport = DatagramTransport(unixPath: path)
        guard case .retry = transport.send(Array("early".utf8)) else { Issue.record("sent to a missing socket"); return }
        let address = try #require(SocketAddress.unix(path))
        var storage = address.storage
        _ = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, address.length) } }
        #expect(transport.send(Array("<134>hello".utf8)) == .sent)
        var buffer = [UInt8](repeating: 0, count: 100)
        let n = recv(s, &buffer, buffer.count, 0)
        #expect(String(decoding: buffer[0..<max(n, 0)], as: UTF8.self) == "<134>hello")
    }

    /// Octet-counted frames; a collector that goes away and comes back on the
    /// same port gets every message at least once, and the output says what it resent.
    @Test func tcpFramingAndReconnect() {
        var collector = Collector(stream: true)
        let port = collector.port
        let output = QueuedOutput(transport: TCPTransport(host: "127.0.0.1", port: port), format: .rfc5424,
                                  context: FormatContext(hostname: "sensor", processID: 1))
        for i in 0..<50 { output.enqueue(Array("message \(i) with a space".utf8)) }
        #expect(waitFor { collector.received.count == 50 })
        #expect(collector.received[7] == "message 7 with a space")
        let before = collector.received
        collector.close()
        for i in 50..<60 { output.enqueue(Array("message \(i) with a space".utf8)) }
        #expect(waitFor(3) { output.statistics.failing })
        collector = Collector(stream: true, port: port)
        defer { collector.close() }
        #expect(waitFor(15) { Set(collector.received).count == 10 && output.statistics.queued == 0 })
        output.stop(deadline: monotonicSeconds() + 5)
        let s = output.statistics
        #expect(s.delivered == 60 && s.undelivered == 0 && s.droppedQueueFull == 0)
        // Every message at least once, over the two collectors.
        #expect(Set(before + collector.received) == Set((0..<60).map { "message \($0) with a space" }))
    }

    /// A collector that goes away for good: every message is counted once,
    /// delivered or not, and no more are counted delivered than arrived.
    @Test func countsAddUpWhenTheCollectorIsGone() {
        let collector = Collector(stream: true)
        let output = QueuedOutput(transport: TCPTransport(host: "127.0.0.1", port: collector.port), format: .rfc5424,
                                  context: FormatContext(hostname: "sensor", processID: 1))
        for i in 0..<40 { output.enqueue(Array("message \(i)".utf8)) }
        #expect(waitFor { collector.received.count == 40 })
        collector.close()
        for i in 40..<100 { output.enqueue(Array("message \(i)".utf8)) }
        #expect(waitFor(3) { output.statistics.failing })
        output.stop(deadline: monotonicSeconds() + 0.5)
        let s = output.statistics
        #expect(s.delivered + s.notDelivered == 100 && s.delivered <= collector.received.count && s.delivered >= 40, "\(s)")
    }

    /// A full queue refuses new alerts and counts them; at the end, what is left is counted as undelivered.
    @Test func queueFullAndStop() {
        let output = QueuedOutput(transport: AwayTransport(), format: .rfc5424, context: FormatContext(hostname: "h", processID: 1), capacity: 10)
        for i in 0..<25 { output.enqueue(Array("m\(i)".utf8)) }
        #expect(output.statistics.droppedQueueFull == 15 && output.statistics.queued == 10)
        #expect(waitFor(3) { output.statistics.failing && output.statistics.lastError == "connection refused" })
        output.stop(deadline: monotonicSeconds() + 0.2)
        let s = output.statistics
        #expect(s.undelivered == 10 && s.delivered == 0 && s.notDelivered == 25)
    }
}

@Suite("RELP to a real rsyslog", .serialized, .enabled(if: Rsyslog.isInstalled, "rsyslogd is not installed (scripts/setup installs it)"))
struct RELPTests {
    /// rsyslog restarts while alerts flow: every message arrives at least once,
    /// and the output's delivered count is the number of distinct messages.
    @Test func collectorRestartLosesNothing() throws {
        let rsyslog = try Rsyslog()
        let output = QueuedOutput(transport: RELPTransport(host: "127.0.0.1", port: rsyslog.relpPort), format: .rfc5424,
                                  context: FormatContext(hostname: "sensor", processID: 1))
        let total = 3000
        for i in 0..<total {
            output.enqueue(Array("<132>1 2026-11-26T14:00:00Z sensor zonewarden 1 test - alert \(i)".utf8))
            if i == 1000 {
                #expect(waitFor { output.statistics.delivered >= 900 })
                rsyslog.stop()
            }
            if i == 1500 {
                Thread.sleep(forTimeInterval: 0.5)
                try rsyslog.start()
            }
        }
        #expect(waitFor(60) { output.statistics.queued == 0 })
        output.stop(deadline: monotonicSeconds() + 15)
        let s = output.statistics
        let distinct = Set(rsyslog.lines("relp").compactMap { line in line.split(separator: " ").last.map(String.init) })
        #expect(distinct.count == total, "\(total - distinct.count) messages missing; \(s)")
        #expect(s.delivered == total && s.undelivered == 0 && s.droppedQueueFull == 0 && s.failed == 0, "\(s)")
        #expect(rsyslog.lines("relp").count >= total)
    }
}

/// A file output on a disk that fills up: only whole lines reach the file,
/// the counts say what is in it, and once there is room again every message
/// is there exactly once, in order.
@Suite("File output on a full disk", .serialized,
       .enabled(if: SmallFilesystem.isAvailable, "needs root to mount a small tmpfs"))
struct FullDiskOutputTests {
    static let messages = (0..<200).map { i in "message \(i) " + String(repeating: "x", count: 60 + i % 17) }

    func lines(_ path: String) -> [Substring] {
        String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data(), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
    }

    /// A file output on `disk` given all the messages, once it has failed.
    func fillingUp(_ disk: SmallFilesystem) throws -> (QueuedOutput, String) {
        let path = disk.directory + "/alerts.log"
        let output = QueuedOutput(transport: try FileTransport(path: path), format: .rfc5424, context: FormatContext(hostname: "h", processID: 1))
        for m in Self.messages { output.enqueue(Array(m.utf8)) }
        #expect(waitFor(10) { output.statistics.failing })
        return (output, path)
    }

    @Test func fullThenRoomAgain() throws {
        let disk = try SmallFilesystem(kilobytes: 8)
        defer { disk.unmount() }
        let (output, path) = try fillingUp(disk)
        output.drain(seconds: 0.5)
        // The file holds whole lines only, and exactly as many as counted delivered.
        let full = lines(path)
        #expect(full.last == "" && full.dropLast().allSatisfy { $0.hasPrefix("message ") && $0.hasSuffix("x") })
        let delivered = output.statistics.delivered
        #expect(delivered == full.count - 1 && delivered > 0 && delivered < Self.messages.count)

        try disk.resize(kilobytes: 64)
        #expect(waitFor(15) { let s = output.statistics; return !s.failing && s.delivered == Self.messages.count })
        output.stop(deadline: monotonicSeconds() + 5)
        let s = output.statistics
        #expect(s.delivered == Self.messages.count && s.undelivered == 0 && s.droppedQueueFull == 0)
        #expect(lines(path).dropLast().map(String.init) == Self.messages, "every message once, in order")
    }

    @Test func fullToTheEnd() throws {
        let disk = try SmallFilesystem(kilobytes: 8)
        defer { disk.unmount() }
        let (output, path) = try fillingUp(disk)
        output.stop(deadline: monotonicSeconds() + 1)
        let s = output.statistics
        let written = lines(path).dropLast()
        #expect(s.delivered == written.count && s.delivered + s.notDelivered == Self.messages.count && s.queued == 0, "\(s)")
        #expect(written.map(String.init) == Array(Self.messages.prefix(written.count)))
        #expect(s.lastError?.contains("No space left on device") == true)
    }
}
