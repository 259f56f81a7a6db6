import Decode
import Platform
import Vocabulary
#if canImport(Glibc)
import Glibc
#endif

/// The infrastructure endpoints (addresses in management, storage and
/// migration zones) the live sensor has seen, kept across restarts in a small
/// state file, for rule 7002. Shared by the capture threads: thread-safe.
///
/// With no state file yet, the sensor learns for `baselineSeconds` without
/// alerting: the first start would otherwise report every hypervisor.
public final class EndpointMemory: @unchecked Sendable {
    public let path: String
    private let lock = ConditionLock()
    private var known: [IPAddress: String] = [:]
    private var dirty = false
    private let baselineUntil: Double
    /// Most endpoints remembered; beyond it new ones are neither remembered nor reported.
    public let limit: Int
    public private(set) var full = false

    /// Loads `path` if it exists; the error names the file and line of a bad entry.
    public init(path: String, baselineSeconds: Int, limit: Int = 100_000) throws(EndpointMemoryError) {
        self.path = path
        self.limit = limit
        var loaded: [IPAddress: String] = [:]
        var exists = false
        if let text = Self.contents(of: path) {
            exists = true
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let trimmed = line.drop { $0 == " " || $0 == "\t" }
                if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
                let fields = trimmed.split(separator: " ", maxSplits: 1)
                guard let address = IPAddress(String(fields[0])) else {
                    throw EndpointMemoryError("\(path):\(n + 1): \"\(fields[0])\" is not an IP address")
                }
                loaded[address] = fields.count > 1 ? String(fields[1]) : ""
            }
        } else if access(path, F_OK) == 0 {
            throw EndpointMemoryError("\(path): cannot read: \(String(cString: strerror(errno)))")
        }
        known = loaded
        baselineUntil = exists ? 0 : monotonicSeconds() + Double(baselineSeconds)
    }

    /// Whether the sensor is still learning (no state file existed at start).
    public var learning: Bool { monotonicSeconds() < baselineUntil }

    public var count: Int { lock.withLock { known.count } }

    /// Records `address` (in `zone`); true if it is new and should be reported.
    public func remember(_ address: IPAddress, zone: String) -> Bool {
        lock.withLock {
            if known[address] != nil { return false }
            guard known.count < limit else { full = true; return false }
            known[address] = zone
            dirty = true
            return monotonicSeconds() >= baselineUntil
        }
    }

    /// Writes the state file if anything changed (atomically: a new file renamed over the old).
    public func save() throws(EndpointMemoryError) {
        let snapshot: [IPAddress: String]? = lock.withLock {
            guard dirty else { return nil }
            dirty = false
            return known
        }
        guard let snapshot else { return }
        var text = "# zonewarden: infrastructure endpoints seen (rule 7002). One per line: address zone.\n"
        for (address, zone) in snapshot.sorted(by: { $0.key < $1.key }) { text += "\(address) \(zone)\n" }
        do throws(SafeFile.Failure) {
            try SafeFile.replace(path, with: text, mode: SafeFile.privateMode, sync: true)
        } catch {
            lock.withLock { dirty = true }
            throw EndpointMemoryError(error.description)
        }
    }

    private static func contents(of path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = Glibc.read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            data += buffer[0..<n]
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A state file that cannot be read or written.
public struct EndpointMemoryError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
