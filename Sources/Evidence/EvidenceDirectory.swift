import Platform
#if canImport(Glibc)
import Glibc
#endif

/// The evidence directory (`--evidence DIR`): one pcap file per alert,
/// bounded in size with the oldest files removed first, every file created
/// readable by the sensor's user only (mode 0600) and written whole (a
/// write cut short removes the file), so that a full disk leaves no half-written file.
/// A thread of its own (`zw-evidence`) masks the secrets in each file and
/// writes it, off the packet path. Shared by the capture threads of the live sensor.
public final class EvidenceDirectory: @unchecked Sendable {
    /// The directory as given.
    public let path: String
    /// The most bytes its pcap files may hold together.
    public let maximumBytes: Int
    /// Called once, with a one-line message, when a file first cannot be written.
    public var onFirstFailure: ((String) -> Void)?

    /// What the directory has done since it was opened.
    public struct Statistics: Sendable {
        /// Evidence files written.
        public var written = 0
        /// Bytes written.
        public var bytesWritten = 0
        /// Older files removed to stay within the bound.
        public var removed = 0
        /// Files that could not be written (full disk, no permission).
        public var failed = 0
        /// Files larger than the whole bound, not written.
        public var tooLarge = 0
        /// The bytes of pcap files in the directory now.
        public var bytesHeld = 0
        /// The pcap files in the directory now.
        public var files = 0
        /// The first failure's message.
        public var firstFailure: String?
        /// Bytes of secrets overwritten in the files.
        public var maskedBytes = 0
        /// Files whose payload was withheld (in part) for want of knowing where a secret was.
        public var withheld = 0
    }

    /// A file to write: its packets, and the secrets to mask in them (``SecretMasking``).
    struct Job {
        var name: String
        var packets: PacketList
        var secrets: FlowSecrets
        /// The flow went on after the file's last packet.
        var cutAtEnd: Bool
        var size: Int { 24 + packets.data.capacity + MemoryLayout<PacketArena.Header>.stride * packets.headers.capacity }
    }

    private let lock = ConditionLock()
    private var stats = Statistics()
    private var jobs: [Job] = []
    private var queuedBytes = 0
    /// Files waiting for the writer hold at most this many bytes; beyond, the packet thread waits.
    let queueLimit: Int
    private var writing = false
    private var stopping = false
    private var thread: WorkerThread?
    /// The pcap files held, oldest first (name, size).
    private var held: [(name: String, size: Int)] = []
    private var oldest = 0
    private var indexByName: [String: Int] = [:]

    public static let fileMode: mode_t = 0o600
    public static let directoryMode: mode_t = 0o700

    /// Opens (or creates, mode 0700) the directory and counts the pcap files already in it.
    /// - Parameter queueMegabytes: files handed over and not yet written hold at most this much.
    /// - Throws: a one-line reason when it cannot be used.
    public init(path: String, maximumMegabytes: Int, queueMegabytes: Int = 32) throws(SafeFile.Failure) {
        queueLimit = max(queueMegabytes, 1) << 20
        // Every trailing slash off (a path ending in one is looked at through a link, and lstat would not see the link).
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        self.path = String(trimmed)
        maximumBytes = maximumMegabytes << 20
        var info = stat()
        // A link is followed only if the sensor's user or root owns it, as for every file the sensor writes.
        if lstat(self.path, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK && info.st_uid != geteuid() && info.st_uid != 0 {
            throw SafeFile.Failure(path, "is a symbolic link owned by another user (uid \(info.st_uid)); refusing to follow it")
        }
        if stat(self.path, &info) != 0 {
            let code = errno
            guard code == ENOENT else { throw SafeFile.Failure(path, "cannot look at it: \(String(cString: strerror(code)))", code: code) }
            guard mkdir(self.path, Self.directoryMode) == 0 else {
                let code = errno
                throw SafeFile.Failure(path, "cannot create the evidence directory: \(String(cString: strerror(code)))", code: code)
            }
            chmod(self.path, Self.directoryMode)  // exactly 0700, whatever the umask
        } else {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw SafeFile.Failure(path, "is not a directory") }
            guard access(self.path, W_OK | X_OK) == 0 else {
                let code = errno
                throw SafeFile.Failure(path, "cannot create files in it: \(String(cString: strerror(code)))", code: code)
            }
        }
        scan()
        // The thread keeps the directory alive until stop() (a command that gives up early never calls it).
        let thread = WorkerThread(name: "zw-evidence") { [self] in self.run() }
        self.thread = thread
        if !thread.start() { self.thread = nil }  // no thread: files are written by the callers
    }

    /// Hands a file to the writer (masked and written at once when there is no writer thread).
    func submit(_ job: Job) {
        let size = job.size
        let queued: Bool = lock.withLock {
            guard thread != nil else { return false }
            while queuedBytes > queueLimit && !jobs.isEmpty { lock.wait(seconds: 0.1) }
            jobs.append(job)
            queuedBytes += size
            // The writer is woken per batch (or finds the files at its next look, within 0.2 s).
            if !writing && (jobs.count == 32 || queuedBytes >= 4 << 20) { lock.broadcast() }
            return true
        }
        if !queued { write(job) }
    }

    /// Waits until every file handed over is written.
    public func flush() {
        lock.withLock {
            lock.broadcast()
            while !jobs.isEmpty || writing { lock.wait(seconds: 0.1) }
        }
    }

    /// Writes what is queued and ends the writer thread.
    public func stop() {
        flush()
        lock.withLock {
            stopping = true
            lock.broadcast()
        }
        thread?.join()
        thread = nil
    }

    private func run() {
        var batch: [Job] = []
        while true {
            lock.withLock {
                while jobs.isEmpty && !stopping { lock.wait(seconds: 0.2) }
                swap(&batch, &jobs)
                queuedBytes = 0
                writing = !batch.isEmpty
                lock.broadcast()  // room for a waiting packet thread
            }
            if batch.isEmpty { return }
            for job in batch { write(job) }
            batch.removeAll(keepingCapacity: true)
            lock.withLock {
                writing = false
                lock.broadcast()
            }
        }
    }

    /// Masks a file's secrets and stores it.
    private func write(_ job: Job) {
        var packets = job.packets.packets
        let outcome = SecretMasking.mask(&packets, job.secrets, cutAtEnd: job.cutAtEnd)
        let ntlm = SecretMasking.maskNTLMResponses(&packets)
        lock.withLock {
            stats.maskedBytes += outcome.masked + ntlm
            if outcome.withheld { stats.withheld += 1 }
        }
        store(name: job.name, bytes: Self.pcap(packets))
    }

    /// A nanosecond pcap file of `packets` (those of the first packet's link type).
    static func pcap(_ packets: [StoredPacket]) -> [UInt8] {
        let link = packets.first?.header.linkType ?? 1
        var out: [UInt8] = []
        out.reserveCapacity(24 + packets.reduce(0) { $0 + 16 + $1.bytes.count })
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        u32(0xA1B2_3C4D)  // nanosecond timestamps
        u16(2)
        u16(4)
        u32(0)
        u32(0)
        u32(262_144)
        u32(UInt32(bitPattern: link))
        for p in packets where p.header.linkType == link {
            u32(UInt32(truncatingIfNeeded: p.header.timestamp / 1_000_000_000))
            u32(UInt32(truncatingIfNeeded: p.header.timestamp % 1_000_000_000))
            u32(UInt32(p.bytes.count))
            u32(max(p.header.wireLength, UInt32(p.bytes.count)))
            out.append(contentsOf: p.bytes)
        }
        return out
    }


    /// Whether users other than the owner may list the directory (its files stay 0600).
    public var isOpenToOthers: Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & 0o077 != 0
    }

    /// The existing evidence files, oldest first: the first to go when the bound is reached.
    private func scan() {
        guard let dir = opendir(path) else { return }
        defer { closedir(dir) }
        var found: [(mtime: Int, name: String, size: Int)] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            // Only files named as this sensor names them: a capture someone put here is never removed.
            guard EvidenceRecorder.isEvidenceFileName(name) else { continue }
            var info = stat()
            guard lstat("\(path)/\(name)", &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
            found.append((info.st_mtim.tv_sec, name, Int(info.st_size)))
        }
        found.sort { ($0.mtime, $0.name) < ($1.mtime, $1.name) }
        for f in found { add(f.name, f.size) }
    }

    private func add(_ name: String, _ size: Int) {
        indexByName[name] = held.count
        held.append((name, size))
        stats.bytesHeld += size
        stats.files += 1
    }

    private func forget(_ index: Int) {
        let entry = held[index]
        guard entry.size >= 0 else { return }
        held[index].size = -1  // a hole; skipped when it comes round
        indexByName[entry.name] = nil
        stats.bytesHeld -= entry.size
        stats.files -= 1
    }

    /// Removes the oldest files until `size` more bytes fit.
    private func makeRoom(for size: Int) {
        while stats.bytesHeld + size > maximumBytes && oldest < held.count {
            let entry = held[oldest]
            if entry.size >= 0 {
                unlink("\(path)/\(entry.name)")
                forget(oldest)
                stats.removed += 1
            }
            oldest += 1
        }
        // Compact the list of the gone now and then.
        if oldest > 4096 && oldest * 2 > held.count {
            held.removeFirst(oldest)
            oldest = 0
            indexByName.removeAll(keepingCapacity: true)
            for (i, e) in held.enumerated() where e.size >= 0 { indexByName[e.name] = i }
        }
    }

    /// Writes `bytes` as `name` (replacing a file of that name: the same
    /// finding analysed again). Returns false, counting it, when it cannot.
    /// The bookkeeping holds the lock; the file's own writing does not (the
    /// packet threads hand files over meanwhile).
    @discardableResult
    public func store(name: String, bytes: [UInt8]) -> Bool {
        let fits: Bool = lock.withLock {
            guard bytes.count <= maximumBytes else {
                stats.tooLarge += 1
                return false
            }
            if let existing = indexByName[name] { forget(existing) }
            makeRoom(for: bytes.count)
            return true
        }
        guard fits else { return false }
        // Without a writer thread, callers of several capture threads write here: one at a time.
        let error = thread == nil ? lock.withLock { Self.write(bytes, to: "\(path)/\(name)") } : Self.write(bytes, to: "\(path)/\(name)")
        var failure: String?
        let ok: Bool = lock.withLock {
            if let error {
                stats.failed += 1
                if stats.firstFailure == nil {
                    stats.firstFailure = error
                    failure = error
                }
                return false
            }
            add(name, bytes.count)
            stats.written += 1
            stats.bytesWritten += bytes.count
            return true
        }
        if let failure, let onFirstFailure { onFirstFailure("evidence file \(failure); alerts are still written, their evidence files are not") }
        return ok
    }

    /// Writes a whole file in the sensor's own directory (never through a
    /// link); a write cut short (a full disk) removes it, so no file is left
    /// half-written. Returns the error, one line naming the file.
    static func write(_ bytes: [UInt8], to target: String) -> String? {
        // A file there before (the same finding analysed again, or anything planted) is
        // removed, never written through; the new one is created afresh (O_EXCL: a link,
        // FIFO or file put back meanwhile makes this fail). Removing rather than truncating
        // or renaming over also spares ext4's forced write-out of replaced files. Most names
        // are new: the removal is tried only when creating finds one (a system call less per file).
        var fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, fileMode)
        if fd < 0 && errno == EEXIST {
            unlink(target)
            fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, fileMode)
        }
        guard fd >= 0 else { return "\(target): cannot create: \(String(cString: strerror(errno)))" }
        // Exactly 0600, whatever the umask: set only when the umask takes bits of it away.
        if !umaskKeepsFileMode { fchmod(fd, fileMode) }
        var offset = 0
        var failure: String?
        bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    failure = "\(target): write failed: \(String(cString: strerror(n < 0 ? errno : EIO)))"
                    return
                }
                offset += n
            }
        }
        if close(fd) != 0 && failure == nil { failure = "\(target): write failed: \(String(cString: strerror(errno)))" }
        if failure != nil { unlink(target) }
        return failure
    }

    public var statistics: Statistics { lock.withLock { stats } }

    /// Whether the file at `path` (as an alert names it) was written here and
    /// is still held: not one that failed, nor one the bound removed since.
    public func holds(_ path: String) -> Bool {
        guard path.hasPrefix(self.path + "/") else { return false }
        let name = String(path.dropFirst(self.path.count + 1))
        return lock.withLock { indexByName[name] != nil }
    }
}

/// Whether the process's umask leaves evidence files' mode (0600) whole, so
/// that creating a file gives it exactly (read once from /proc/self/status:
/// `umask()` cannot be read without being set, which would race other threads).
let umaskKeepsFileMode: Bool = {
    guard let file = fopen("/proc/self/status", "r") else { return false }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, Int32(line.count), file) != nil {
        let text = String(cString: line)
        if text.hasPrefix("Umask:") {
            guard let mask = mode_t(String(text.dropFirst(6).filter { ("0"..."7").contains($0) }), radix: 8) else { return false }
            return mask & 0o600 == 0
        }
    }
    return false
}()
