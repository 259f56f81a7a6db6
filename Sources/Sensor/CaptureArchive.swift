import Capture
import Foundation

/// The inputs of `analyze` and `report` as one capture: files and folders
/// (walked recursively), captures recognised by their first bytes (pcap,
/// pcapng, or gzip/zstd/xz/lz4 holding one), read in the order of their
/// first packets, with a time window that skips whole files.
public struct CaptureArchive {
    /// One capture file and what is known of it before it is read.
    public struct File: Sendable {
        public let path: String
        /// Bytes on disk (compressed bytes for a compressed file); 0 for a stream.
        public let size: Int64
        /// The timestamp of its first packet (nil: it has none, or it cannot be read).
        public let first: UInt64?
        /// Skipped by --since/--until without being read.
        public var outsideWindow = false
        /// Read in another place than it was given (or found) in.
        public var outOfOrder = false
    }

    /// The files in reading order.
    public private(set) var files: [File] = []
    /// Folders' files that are not captures, skipped: per folder given, how many.
    public private(set) var skipped: [(folder: String, count: Int)] = []
    /// Files named again (or named and also found in a folder given): read once.
    public private(set) var givenTwice: [String] = []
    /// Whether the reading order differs from the order the files were given (or found) in.
    public private(set) var reordered = false

    /// Expands folders, recognises captures and orders the files by their first
    /// packets. Files named on the command line are taken whatever they hold
    /// (reading says what is wrong with them); a folder's files only when they
    /// start like a capture. Streams (`-`, FIFOs) cannot be looked into: with
    /// one among the inputs the order given is kept.
    public static func gather(_ inputs: [String]) -> CaptureArchive {
        var archive = CaptureArchive()
        var paths: [String] = []
        // Which input each file came from: a folder's files have no given order among themselves.
        var inputOf: [Int] = []
        var seen = Set<[UInt64]>()
        for (inputIndex, input) in inputs.enumerated() {
            var isFolder: ObjCBool = false
            if input != "-", FileManager.default.fileExists(atPath: input, isDirectory: &isFolder), isFolder.boolValue {
                var found: [String] = [], notCaptures = 0
                var again: [String] = []
                walk(folder: input, visited: &seen, found: &found, notCaptures: &notCaptures, again: &again)
                archive.givenTwice += again
                paths += found
                inputOf += Array(repeating: inputIndex, count: found.count)
                if notCaptures > 0 { archive.skipped.append((input, notCaptures)) }
            } else if let key = identity(input), !seen.insert(key).inserted {
                archive.givenTwice.append(input)  // the same file named twice (or also inside a folder given): read once
            } else {
                paths.append(input)
                inputOf.append(inputIndex)
            }
        }
        // Streams are read in the order given (reading one for its first packet would consume it); a
        // missing file is no stream: it is said missing, and the others are still put in time order.
        let streams = paths.contains(where: isStream)
        var files: [(index: Int, file: File)] = []
        for (i, path) in paths.enumerated() {
            var first: UInt64?
            if !streams, paths.count > 1, let handle = try? PcapHandle.openOffline(path), case .packet(let p)? = try? handle.next() {
                first = p.timestamp
            }
            files.append((i, File(path: path, size: fileSize(path), first: first)))
        }
        if !streams {
            // Unreadable files (no first packet) as if at time 0, so their errors come first; ties keep the given order.
            files.sort { ($0.file.first ?? 0, $0.index) < ($1.file.first ?? 0, $1.index) }
        }
        // A file is read out of the given order when a file of a later input comes before it, or one of an earlier input after it.
        // Files with no first packet (missing, unreadable) come first to have their errors said; they move nothing.
        let given = files.map { inputOf[$0.index] }, readable = files.map { $0.file.first != nil }
        var laterBefore = [Bool](repeating: false, count: given.count), earlierAfter = laterBefore
        var most = Int.min, least = Int.max
        for i in given.indices where readable[i] {
            laterBefore[i] = most > given[i]
            most = max(most, given[i])
        }
        for i in given.indices.reversed() where readable[i] {
            earlierAfter[i] = least < given[i]
            least = min(least, given[i])
        }
        archive.files = files.enumerated().map { position, entry in
            var file = entry.file
            file.outOfOrder = laterBefore[position] || earlierAfter[position]
            return file
        }
        archive.reordered = archive.files.contains(where: \.outOfOrder)
        return archive
    }

    /// Marks the files wholly outside `[start, end]`: those that begin after
    /// `end`, and those whose last packet comes before `start`, found from
    /// the record (block) headers alone, a compressed file decompressed but
    /// no packet decoded (``Capture/LastPacketScanner``; asked of the files
    /// that begin before `start`). The packets of the others outside the
    /// window are passed over without being decoded.
    ///
    /// A compressed file is scanned as fast as it decompresses (about as long
    /// as reading it with its packets passed over), so the files are scanned
    /// on every core at once. `scanning` is told how many before they are.
    public mutating func applyWindow(start: UInt64, end: UInt64, scanning: (Int) -> Void = { _ in }) {
        var candidates: [Int] = []
        for i in files.indices {
            if let first = files[i].first, first > end { files[i].outsideWindow = true; continue }
            // Every file that begins before the window may end before it too (the one that holds
            // its start is scanned and then read: one file decompressed twice at most).
            guard start > 0, let first = files[i].first, first < start else { continue }
            candidates.append(i)
        }
        guard !candidates.isEmpty else { return }
        scanning(candidates.count)
        // Each iteration writes its own element.
        nonisolated(unsafe) let lasts = UnsafeMutableBufferPointer<UInt64?>.allocate(capacity: candidates.count)
        lasts.initialize(repeating: nil)
        defer { lasts.deallocate() }
        let paths = candidates.map { files[$0].path }
        DispatchQueue.concurrentPerform(iterations: paths.count) { k in
            lasts[k] = LastPacketScanner.lastTimestamp(ofFile: paths[k])
        }
        for (k, i) in candidates.enumerated() where (lasts[k] ?? .max) < start { files[i].outsideWindow = true }
    }

    /// The bytes of the files that will be read (for progress).
    public var bytesToRead: Int64 { files.filter { !$0.outsideWindow }.reduce(0) { $0 + $1.size } }

    /// A folder's captures, in name order at every level, following symbolic
    /// links (each folder and file once: a link loop ends there), and how many
    /// files are not captures.
    static func walk(folder: String, visited: inout Set<[UInt64]>, found: inout [String], notCaptures: inout Int, again: inout [String]) {
        guard let key = identity(folder), visited.insert(key).inserted,
              let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for entry in entries.sorted() {
            let path = folder.hasSuffix("/") ? folder + entry : folder + "/" + entry
            var info = stat()
            guard stat(path, &info) == 0 else { continue }  // a dangling link
            if info.st_mode & S_IFMT == S_IFDIR {
                walk(folder: path, visited: &visited, found: &found, notCaptures: &notCaptures, again: &again)
            } else if info.st_mode & S_IFMT == S_IFREG {
                guard visited.insert([UInt64(info.st_dev), UInt64(info.st_ino)]).inserted else {
                    // Named before the folder too (or a second link to it): read once, and said.
                    if looksLikeCapture(path) { again.append(path) }
                    continue
                }
                if looksLikeCapture(path) { found.append(path) } else { notCaptures += 1 }
            }
        }
    }

    /// The device and inode a path leads to (links followed).
    static func identity(_ path: String) -> [UInt64]? {
        var info = stat()
        guard path != "-", stat(path, &info) == 0 else { return nil }
        return [UInt64(info.st_dev), UInt64(info.st_ino)]
    }

    /// Whether a file starts like a pcap or pcapng file, or is a compressed
    /// file whose content does (a compressed log beside the captures does not).
    static func looksLikeCapture(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let prefix = [UInt8]((try? handle.read(upToCount: 8)) ?? Data())
        guard prefix.count >= 4 else { return false }
        if let compression = CaptureCompression.recognise(prefix) {
            // What decompresses to something else is no capture (a compressed log); what does not
            // decompress far enough to tell (truncated, corrupt) is read, and its error said.
            // One that decompresses whole to fewer bytes than a header (an empty rotated log) is no capture either.
            guard let content = compression.decompressedPrefix(path: path, count: 4) else { return true }
            return content.count >= 4 && startsLikeCapture(content)
        }
        return startsLikeCapture(prefix)
    }

    static func startsLikeCapture(_ prefix: [UInt8]) -> Bool {
        let magics: [[UInt8]] = [[0xD4, 0xC3, 0xB2, 0xA1], [0xA1, 0xB2, 0xC3, 0xD4], [0x4D, 0x3C, 0xB2, 0xA1], [0xA1, 0xB2, 0x3C, 0x4D],
                                 [0x0A, 0x0D, 0x0D, 0x0A]]
        return magics.contains { prefix.starts(with: $0) }
    }

    /// Whether a capture argument is read as a stream: standard input, a
    /// FIFO, a character device or a socket (a process substitution is a
    /// pipe). A missing file is none: it is said missing.
    public static func isStream(_ path: String) -> Bool {
        if path == "-" { return true }
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        let type = info.st_mode & S_IFMT
        return type == S_IFIFO || type == S_IFCHR || type == S_IFSOCK
    }

    static func isRegularFile(_ path: String) -> Bool {
        guard path != "-" else { return false }
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
    }

    static func fileSize(_ path: String) -> Int64 {
        var info = stat()
        guard path != "-", stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return 0 }
        return Int64(info.st_size)
    }
}

/// What became of one capture file: for `--summary` and the report's coverage.
public struct CaptureFileAccount: Sendable {
    public var path: String
    public var packets = 0
    public var first: UInt64?
    public var last: UInt64?
    public var decodeErrors: UInt64 = 0
    /// Packets passed over because they lie outside --since/--until.
    public var outsideWindow = 0
    public var compression: String?
    public enum Outcome: Sendable, Equatable {
        case read
        /// Wholly outside the time window: not read.
        case skippedByWindow
        /// Read up to a fault (a truncated or corrupt file): the message.
        case truncated(String)
        /// Could not be opened or read at all: the message.
        case unreadable(String)
        /// Not read: the analysis was stopped (SIGINT, SIGTERM) before it came to it.
        case notReached
        /// Read up to a stop (SIGINT, SIGTERM) before its end.
        case stoppedPartway
    }
    public var outcome: Outcome = .read
    /// Read in another place than given (the order of first packets).
    public var reordered = false

    public init(path: String) { self.path = path }
}
