import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real rsyslogd started for a test, with UDP, TCP and RELP inputs on its
/// own ports, each writing the raw messages it receives to a file of its own.
/// Optionally inside a network namespace.
public final class Rsyslog: @unchecked Sendable {
    public let directory: String
    public let udpPort: UInt16
    public let tcpPort: UInt16
    public let relpPort: UInt16
    public let address: String
    private let namespace: String?
    private var process: ChildProcess?

    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: "/usr/sbin/rsyslogd") }

    /// Starts rsyslogd listening on `address` (inside `namespace`, if given).
    /// - Parameter config: the configuration to run instead of the test's own, made
    ///   from the folder and the UDP, TCP and RELP ports (it must listen on the last two).
    public init(address: String = "127.0.0.1", namespace: String? = nil, ports: (UInt16, UInt16, UInt16)? = nil,
                config custom: ((String, UInt16, UInt16, UInt16) -> String)? = nil) throws {
        directory = NSTemporaryDirectory() + "zw-rsyslog-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        (udpPort, tcpPort, relpPort) = ports ?? (freePort(), freePort(), freePort())
        self.address = address
        self.namespace = namespace
        let d = directory
        let config = """
            global(workDirectory="\(d)")
            module(load="imudp")
            module(load="imtcp")
            module(load="imrelp")
            template(name="raw" type="string" string="%rawmsg%\\n")
            ruleset(name="udp") { action(type="omfile" file="\(d)/udp.log" template="raw" flushOnTXEnd="on" asyncWriting="off") }
            ruleset(name="tcp") { action(type="omfile" file="\(d)/tcp.log" template="raw" flushOnTXEnd="on" asyncWriting="off") }
            ruleset(name="relp" queue.type="Direct") { action(type="omfile" file="\(d)/relp.log" template="raw" flushOnTXEnd="on" asyncWriting="off") }
            input(type="imudp" address="\(address)" port="\(udpPort)" ruleset="udp")
            input(type="imtcp" address="\(address)" port="\(tcpPort)" ruleset="tcp")
            input(type="imrelp" address="\(address)" port="\(relpPort)" ruleset="relp")
            """
        try (custom?(d, udpPort, tcpPort, relpPort) ?? config).write(toFile: d + "/rsyslog.conf", atomically: true, encoding: .utf8)
        try start()
    }

    /// Starts (or restarts) rsyslogd and waits until its TCP and RELP inputs accept connections.
    public func start() throws {
        let rsyslogd = ["/usr/sbin/rsyslogd", "-n", "-f", directory + "/rsyslog.conf", "-i", directory + "/rsyslogd.pid"]
        let argv = namespace.map { ["/usr/sbin/ip", "netns", "exec", $0] + rsyslogd } ?? rsyslogd
        process = try ChildProcess(argv[0], Array(argv.dropFirst()), outputPath: directory + "/rsyslogd.out")
        let ready = waitFor(15) { self.accepts(self.relpPort) && self.accepts(self.tcpPort) }
        if !ready { throw ChildProcessError("rsyslogd did not start listening (see \(directory)/rsyslogd.out)") }
    }

    private func accepts(_ port: UInt16) -> Bool {
        if let namespace {
            // A connection test inside the namespace.
            guard let p = try? ChildProcess("/usr/sbin/ip", ["netns", "exec", namespace, "/usr/bin/bash", "-c", "exec 3<>/dev/tcp/\(address)/\(port)"]) else { return false }
            return p.wait(seconds: 5) == 0
        }
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = inet_addr(address)
        return withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
    }

    /// An orderly stop (SIGTERM): rsyslog writes what it acknowledged, then exits.
    public func stop() {
        process?.stop(seconds: 20)
        process = nil
    }

    /// The raw messages an input received, in order of arrival.
    public func lines(_ input: String) -> [String] {
        ((try? String(contentsOfFile: "\(directory)/\(input).log", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
