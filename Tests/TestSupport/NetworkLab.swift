import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A small data centre in network namespaces, built for one test and torn down
/// after it (also when the test fails): a Linux bridge in a "switch"
/// namespace with a port per host namespace (a sensor captures on a port, as
/// on a hypervisor bridge), and a veth pair to replay captures onto. Uses only
/// its own names and addresses.
public final class NetworkLab: @unchecked Sendable {
    /// A host on the bridge.
    public struct Host: Sendable {
        public let name: String
        public let namespace: String
        public let address: String
        /// Its port on the bridge, in the switch namespace: every frame to or from the host passes it.
        public let port: String
    }

    public let prefix: String
    public let switchNamespace: String
    public private(set) var hosts: [Host] = []
    /// What is replayed onto `replayInterface` arrives here.
    public let replayCaptureInterface = "rp1"
    public let replayInterface = "rp0"
    private var children: [ChildProcess] = []
    public let directory: String

    private static let labs = NSLock()
    nonisolated(unsafe) private static var labsMade = 0

    /// a, b, ... z, then aa, ab, ...: distinct within this process.
    private static func nextLabLetter() -> String {
        labs.lock()
        defer { labs.unlock() }
        var n = labsMade, letters = ""
        labsMade += 1
        repeat {
            letters = String(UnicodeScalar(UInt8(97 + n % 26))) + letters
            n = n / 26 - 1
        } while n >= 0
        return letters
    }

    public static var isAvailable: Bool {
        geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip")
    }

    /// Builds the lab: `hosts` are (name, address/prefix length) pairs; each gets on-link routes to the others' subnets.
    public init(hosts specs: [(String, String)]) throws {
        // One prefix per lab: suites that run at once each have their own namespaces (a lab clears its prefix's first).
        prefix = "zw\(getpid() % 100_000)\(Self.nextLabLetter())"
        switchNamespace = "\(prefix)-sw"
        directory = NSTemporaryDirectory() + "\(prefix)-lab-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        Self.removeNamespaces(prefix: prefix)
        do {
            try ip("netns", "add", switchNamespace)
            try ipIn(switchNamespace, "link", "set", "lo", "up")
            try ipIn(switchNamespace, "link", "add", "br0", "type", "bridge")
            try ipIn(switchNamespace, "link", "set", "br0", "up")
            try ipIn(switchNamespace, "link", "add", replayInterface, "type", "veth", "peer", "name", replayCaptureInterface)
            // Neither end sends anything of its own (no IPv6 autoconfiguration, router
            // solicitations or MLD reports): a frame leaving the capture end would be
            // the sensor's, and the capture end receives exactly what the tests replay.
            for link in [replayInterface, replayCaptureInterface] {
                try run("/usr/sbin/ip", ["netns", "exec", switchNamespace, "/usr/sbin/sysctl", "-q", "-w", "net.ipv6.conf.\(link).disable_ipv6=1"])
            }
            for link in [replayInterface, replayCaptureInterface] { try ipIn(switchNamespace, "link", "set", link, "up") }
            for (i, (name, cidr)) in specs.enumerated() {
                let ns = "\(prefix)-\(name)"
                let port = "p\(i)"
                try ip("netns", "add", ns)
                try ipIn(ns, "link", "set", "lo", "up")
                try ipIn(switchNamespace, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
                try ipIn(switchNamespace, "link", "set", port, "master", "br0")
                try ipIn(switchNamespace, "link", "set", port, "up")
                try ipIn(ns, "addr", "add", cidr, "dev", "eth0")
                try ipIn(ns, "link", "set", "eth0", "up")
                hosts.append(Host(name: name, namespace: ns, address: String(cidr.split(separator: "/")[0]), port: port))
            }
            // One flat link: every host reaches the others' subnets directly.
            for (name, cidr) in specs {
                for (_, other) in specs where other != cidr {
                    let net = Self.network(other)
                    if net != Self.network(cidr) { try ipIn("\(prefix)-\(name)", "route", "add", net, "dev", "eth0") }
                }
            }
        } catch {
            tearDown()
            throw error
        }
    }

    public func host(_ name: String) -> Host { hosts.first { $0.name == name }! }

    /// An interface's counter in the switch namespace (`rx_packets`, `tx_packets`, ...).
    public func counter(_ interface: String, _ name: String) throws -> Int {
        let out = "\(directory)/counter.out"
        unlink(out)
        let p = try ChildProcess("/usr/sbin/ip", ["netns", "exec", switchNamespace, "/usr/bin/cat", "/sys/class/net/\(interface)/statistics/\(name)"], outputPath: out)
        p.wait(seconds: 10)
        return Int(((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    /// Starts a long-running program in a namespace (killed at tear-down).
    @discardableResult
    public func spawn(in namespace: String, _ argv: [String], output: String? = nil) throws -> ChildProcess {
        let p = try ChildProcess("/usr/sbin/ip", ["netns", "exec", namespace] + argv, outputPath: output ?? "\(directory)/\(namespace)-\(children.count).out")
        children.append(p)
        return p
    }

    /// Runs a program in a namespace to completion; its exit status.
    @discardableResult
    public func execute(in namespace: String, _ argv: [String], timeout: Double = 30) throws -> Int32 {
        let p = try ChildProcess("/usr/sbin/ip", ["netns", "exec", namespace] + argv, outputPath: "\(directory)/exec.out")
        guard let status = p.wait(seconds: timeout) else {
            p.stop(seconds: 1)
            throw ChildProcessError("timed out: \(argv.joined(separator: " "))")
        }
        return status
    }

    /// Kills what the lab started and deletes its namespaces (idempotent).
    public func tearDown() {
        for c in children.reversed() { c.stop(seconds: 5) }
        children.removeAll()
        Self.removeNamespaces(prefix: prefix)
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { tearDown() }

    private static func network(_ cidr: String) -> String {
        let parts = cidr.split(separator: "/")
        let octets = parts[0].split(separator: ".").compactMap { UInt32($0) }
        let length = UInt32(parts[1])!
        let value = octets.reduce(0) { $0 << 8 | $1 } & (length == 0 ? 0 : ~UInt32(0) << (32 - length))
        return "\(value >> 24).\(value >> 16 & 255).\(value >> 8 & 255).\(value & 255)/\(length)"
    }

    /// Deletes namespaces this process's labs left (a crashed test), killing what runs in them.
    static func removeNamespaces(prefix: String) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: "/var/run/netns")) ?? []).filter { $0.hasPrefix(prefix + "-") }
        for ns in names {
            if let p = try? ChildProcess("/usr/sbin/ip", ["netns", "pids", ns], outputPath: "/tmp/\(prefix)-pids") {
                p.wait(seconds: 5)
                let pids = ((try? String(contentsOfFile: "/tmp/\(prefix)-pids", encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Int32($0) }
                for pid in pids { kill(pid, SIGKILL) }
                unlink("/tmp/\(prefix)-pids")
            }
            if let p = try? ChildProcess("/usr/sbin/ip", ["netns", "del", ns]) { p.wait(seconds: 10) }
        }
    }

    private func ip(_ args: String...) throws { try run("/usr/sbin/ip", args) }
    private func ipIn(_ ns: String, _ args: String...) throws { try run("/usr/sbin/ip", ["-n", ns] + args) }

    private func run(_ path: String, _ args: [String]) throws {
        let log = "\(directory)/setup.out"
        let p = try ChildProcess(path, args, outputPath: log)
        let status = p.wait(seconds: 30)
        guard status == 0 else {
            let text = (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").last.map(String.init) ?? ""
            throw ChildProcessError("\(path) \(args.joined(separator: " ")) failed (\(status.map(String.init) ?? "timeout")): \(text)")
        }
    }
}
