import Foundation
import Platform
import Synchronization

/// The status line of a long offline analysis: files done of all, bytes read
/// of all, packets per second, alerts so far, time spent and time left. On a
/// terminal one line on standard error, redrawn in place twice a second and
/// cleared at the end; elsewhere (`--progress` into a log) one line every
/// `interval` seconds. Never on standard output.
public final class ProgressMeter: @unchecked Sendable {
    private let totalFiles: Int
    private let totalBytes: Int64
    private let accounts: FileAccounts
    // Called on the meter's thread: reads an atomic counter.
    private let alerts: () -> Int
    private let terminal: Bool
    private let interval: Double
    private let write: @Sendable (String) -> Void
    private let lock = ConditionLock()
    // Guarded by `lock`:
    private var filesDone = 0
    private var bytesDone: Int64 = 0
    private var packetsDone = 0
    private var stopping = false
    private var thread: WorkerThread?
    private let started = monotonicSeconds()

    /// - Parameters:
    ///   - terminal: redraw one line in place (standard error is a terminal).
    ///   - write: where the text goes (standard error), with no newline added.
    public init(totalFiles: Int, totalBytes: Int64, accounts: FileAccounts, alerts: @escaping () -> Int,
                terminal: Bool, interval: Double, write: @escaping @Sendable (String) -> Void) {
        self.totalFiles = totalFiles
        self.totalBytes = totalBytes
        self.accounts = accounts
        self.alerts = alerts
        self.terminal = terminal
        self.interval = terminal ? 0.5 : interval
        self.write = write
    }

    /// Set for a meter that redraws on a terminal: while it runs, messages clear its line first.
    public var onTerminal = false

    public func start() {
        guard thread == nil else { return }
        lock.withLock { stopping = false }
        ProgressMeter.lineShown.store(onTerminal, ordering: .relaxed)
        let thread = WorkerThread(name: "progress") { [self] in run() }
        self.thread = thread
        if !thread.start() { self.thread = nil }
    }

    /// A file has been read (or skipped): its bytes and packets count as done.
    public func fileDone(bytes: Int64, packets: Int) {
        lock.withLock {
            filesDone += 1
            bytesDone += bytes
            packetsDone += packets
        }
    }

    /// Stops the meter; on a terminal the line is cleared, in a log the last line says where it ended.
    public func stop() {
        guard let running = thread else { return }
        lock.withLock { stopping = true }
        lock.broadcast()
        running.join()
        thread = nil
        ProgressMeter.lineShown.store(false, ordering: .relaxed)
        write(terminal ? "\r\u{1B}[K" : line() + "\n")
    }

    /// Whether a status line is on the terminal now (a message clears it first).
    public static var isLineShown: Bool { lineShown.load(ordering: .relaxed) }
    private static let lineShown = Atomic<Bool>(false)

    private func run() {
        while true {
            let stop = lock.withLock { () -> Bool in
                if !stopping { lock.wait(seconds: interval) }
                return stopping
            }
            if stop { return }
            write(terminal ? "\r\u{1B}[K" + line() : line() + "\n")
        }
    }

    /// The status as one line.
    func line() -> String {
        let (files, done, packetsBefore, stoppingNow) = lock.withLock { (filesDone, bytesDone, packetsDone, stopping) }
        let current = accounts.current
        let bytes = min(done + Int64(current.bytes), max(totalBytes, 1))
        let packets = packetsBefore + current.packets
        let elapsed = monotonicSeconds() - started
        var text = "zonewarden: \(min(files + (stoppingNow ? 0 : 1), totalFiles))/\(totalFiles) files"
        if totalBytes > 0 {
            text += ", \(Self.size(bytes)) of \(Self.size(totalBytes)) (\(Int(Double(bytes) * 100 / Double(totalBytes)))%)"
        }
        text += ", \(Self.count(elapsed > 0 ? Double(packets) / elapsed : 0)) packets/s, \(alerts()) alerts, \(Self.duration(elapsed)) elapsed"
        if totalBytes > 0, bytes > 0, elapsed > 2 {
            text += ", \(Self.duration(elapsed * Double(totalBytes - bytes) / Double(bytes))) left"
        }
        return text
    }

    static func size(_ bytes: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var value = Double(bytes), unit = 0
        while value >= 1000 && unit < units.count - 1 { value /= 1000; unit += 1 }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }

    static func count(_ rate: Double) -> String {
        rate >= 1e6 ? String(format: "%.1fM", rate / 1e6) : rate >= 1e3 ? String(format: "%.0fk", rate / 1e3) : String(format: "%.0f", rate)
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
