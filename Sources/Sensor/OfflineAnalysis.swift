import Capture
import Foundation
import Decode
import Platform
#if canImport(Glibc)
import Glibc
#endif

/// What became of each capture file an analysis read, in reading order;
/// the file being read now, for progress.
public final class FileAccounts: @unchecked Sendable {
    public private(set) var list: [CaptureFileAccount] = []
    private let lock = NSLock()
    private var reading: PcapHandle?

    public init() {}

    /// A file that could not be opened.
    func unreadable(_ path: String, _ error: CaptureError) {
        var account = CaptureFileAccount(path: path)
        account.outcome = .unreadable(error.message)
        lock.withLock { list.append(account) }
    }

    /// A file skipped whole by the time window.
    public func skipped(_ path: String) {
        var account = CaptureFileAccount(path: path)
        account.outcome = .skippedByWindow
        lock.withLock { list.append(account) }
    }

    /// Files the analysis was stopped before (every file of the list not accounted for yet).
    public func notReached(_ paths: [String]) {
        lock.withLock {
            let accounted = Set(list.map(\.path))
            for path in paths where !accounted.contains(path) {
                var account = CaptureFileAccount(path: path)
                account.outcome = .notReached
                list.append(account)
            }
        }
    }

    /// The handle being read now (progress asks it how far it is).
    func began(_ handle: PcapHandle) { lock.withLock { reading = handle } }

    /// A file read to its end or to a fault.
    func record(_ handle: PcapHandle, error: CaptureError?, decodeErrors: UInt64) {
        var account = CaptureFileAccount(path: handle.source)
        account.packets = handle.packetsRead - handle.packetsOutsideWindow
        account.outsideWindow = handle.packetsOutsideWindow
        account.first = handle.firstTimestamp
        account.last = handle.firstTimestamp == nil ? nil : handle.lastTimestamp
        account.decodeErrors = decodeErrors
        account.compression = handle.compression?.rawValue
        // A file of a link type the decoder does not know was never read: unreadable, not cut short.
        if let error { account.outcome = error.kind == .unsupportedLinkType ? .unreadable(error.detail) : .truncated(error.detail) }
        // Stopped while this file was read: its packets so far count, and it is said to be partly read.
        else if StopSignals.requested && !handle.reachedEnd && !handle.isPaused { account.outcome = .stoppedPartway }
        lock.withLock {
            list.append(account)
            reading = nil
        }
    }

    /// Bytes of the current file read so far and packets read in it (any thread).
    public var current: (bytes: Int, packets: Int) {
        lock.withLock { reading.map { ($0.fileBytesRead, $0.packetsReadSoFar) } ?? (0, 0) }
    }

    /// Marks the files read in another place than given.
    public func markReordered(_ paths: Set<String>) {
        lock.withLock { for i in list.indices where paths.contains(list[i].path) { list[i].reordered = true } }
    }
}

/// The files of an archive still open because they go on past the start of
/// the next file (merged with it, ``Capture/MergedCapture``), what they have
/// counted so far, and the errors of merged files not yet said.
final class OverlappingFiles {
    private var handles: [PcapHandle] = []
    private var decodeErrors: [ObjectIdentifier: UInt64] = [:]
    private var otherErrors: [CaptureError] = []

    /// Whether files are waiting for the next to be merged with it.
    var isOpen: Bool { !handles.isEmpty }

    /// Keeps the files that paused, with the decode errors counted in each so far.
    func keep(_ paused: [PcapHandle], decodeErrors counts: [(PcapHandle, UInt64)]) {
        handles = paused
        decodeErrors = [:]
        for (h, n) in counts where paused.contains(where: { $0 === h }) { decodeErrors[ObjectIdentifier(h)] = n }
    }

    /// The waiting files (the merge takes them over).
    func takeHandles() -> [PcapHandle] {
        defer { handles = [] }
        return handles
    }

    func decodeErrors(of handle: PcapHandle) -> UInt64 { decodeErrors[ObjectIdentifier(handle)] ?? 0 }

    /// An error beyond the first of a merge, to be said after it.
    func said(_ error: CaptureError) { otherErrors.append(error) }

    func takeOtherErrors() -> [CaptureError] {
        defer { otherErrors = [] }
        return otherErrors
    }
}

/// Reads capture files through a ``Pipeline``.
public struct OfflineAnalysis {
    public let pipeline: Pipeline
    public let filter: String?

    public init(pipeline: Pipeline, filter: String?) {
        self.pipeline = pipeline
        self.filter = filter
    }

    /// Analyses one pcap or pcapng file (`-` for standard input). Every packet
    /// before a fault is processed and its alerts written before the error is
    /// returned. A failing alert sink does not stop the analysis (the caller
    /// reads ``Alerting/AlertStage/failure`` and ``Alerting/AlertStage/unwritten``).
    ///
    /// - Returns: the capture error, if the file could not be (fully) read.
    public func run(path: String) -> CaptureError? {
        // Stopped (SIGINT, SIGTERM): the files not reached are not opened.
        if StopSignals.requested { return nil }
        let handle: PcapHandle
        switch Self.open(path, filter: filter, window: window) {
        case .success(let h): handle = h
        case .failure(let error):
            // A stream's header read cut short by SIGINT/SIGTERM is a stop, not a broken capture.
            if StopSignals.requested { return nil }
            accounts?.unreadable(path, error)
            return error
        }
        // Files that overlap in time: each pauses where the next begins, and the overlap is merged packet by packet.
        handle.pauseAfter = nextFileStart ?? .max
        if overlapping.isOpen { return merge(overlapping.takeHandles() + [handle], pauseAt: nextFileStart ?? .max) }
        let before = pipeline.statistics.decodeErrors
        // A compressed file is decompressed on a thread of its own already: no read-ahead thread besides.
        let error = run(handle: handle, link: path == "-" ? "standard input" : path.split(separator: "/").last.map(String.init) ?? path,
                        readAhead: readAhead && Self.isRegularFile(path) && handle.compression == nil && availableCores() > 1)
        if error == nil && handle.isPaused {
            // It goes on after the next file begins: read on with it.
            overlapping.keep([handle], decodeErrors: [(handle, pipeline.statistics.decodeErrors - before)])
            return nil
        }
        accounts?.record(handle, error: error, decodeErrors: pipeline.statistics.decodeErrors - before)
        return error
    }

    /// When the next file's first packet comes (set before each ``run(path:)``;
    /// nil: there is none, or it is not known).
    public var nextFileStart: UInt64?

    /// The errors of merged files beyond the one the last ``run(path:)`` or
    /// ``finishOverlapping()`` returned (each file's error is said once).
    public func takeOtherErrors() -> [CaptureError] { overlapping.takeOtherErrors() }
    private let overlapping = OverlappingFiles()

    /// Reads open files in the order of their packets' timestamps
    /// (``Capture/MergedCapture``), until each ends or pauses at the next
    /// file's start. Slower than one file's read-ahead, and only where files
    /// overlap. Returns the first error.
    private func merge(_ handles: [PcapHandle], pauseAt: UInt64) -> CaptureError? {
        var firstError: CaptureError?
        func failed(_ error: CaptureError) {
            if firstError == nil { firstError = error } else { overlapping.said(error) }
        }
        var readable: [PcapHandle] = [], links: [LinkLayer] = []
        for h in handles {
            guard let link = LinkLayer(h.linkType) else {
                let error = CaptureError(.unsupportedLinkType, source: h.source, message: LinkLayer.unsupportedMessage(h.linkType))
                accounts?.record(h, error: error, decodeErrors: 0)
                failed(error)
                continue
            }
            readable.append(h)
            links.append(link)
        }
        var errors = readable.map { overlapping.decodeErrors(of: $0) }
        for h in readable { accounts?.began(h) }
        var ended = Set<Int>()
        let merged = MergedCapture(readable, pauseAt: pauseAt) { [accounts] i, error in
            ended.insert(i)
            accounts?.record(readable[i], error: error, decodeErrors: errors[i])
        }
        if let continuous = link, pipeline.linkName != continuous { pipeline.beginLink(continuous) }
        while !StopSignals.requested, case .packet(let packet) = merged.next() {
            let before = pipeline.statistics.decodeErrors
            pipeline.process(packet, link: links[merged.source])
            errors[merged.source] += pipeline.statistics.decodeErrors - before
        }
        merged.errors.forEach(failed)
        if StopSignals.requested {
            // Stopped: each file still open is accounted for as far as it was read.
            for i in readable.indices where !ended.contains(i) { accounts?.record(readable[i], error: nil, decodeErrors: errors[i]) }
            overlapping.keep([], decodeErrors: [])
            return firstError
        }
        overlapping.keep(merged.paused, decodeErrors: readable.indices.map { (readable[$0], errors[$0]) })
        return firstError
    }

    /// The end of the input: files still paused (when the files after them
    /// were not read) are read to their ends. Returns the first error.
    public func finishOverlapping() -> CaptureError? {
        guard overlapping.isOpen else { return nil }
        return merge(overlapping.takeHandles(), pauseAt: .max)
    }

    /// Only packets from the first through the second timestamp (nanoseconds) are analysed (--since, --until).
    public var window: (start: UInt64, end: UInt64)?
    /// The name of the one link all the files are, read as one continuous
    /// capture (a rotated set); nil: each file is a link of its own.
    public var link: String?
    /// What became of each file read, appended as they are read (nil: not kept).
    public var accounts: FileAccounts?

    /// Why `path` cannot be analysed at all (it cannot be opened as a
    /// capture, or its link type is not one the decoder reads), or nil.
    public static func openError(_ path: String) -> CaptureError? {
        switch open(path, filter: nil) {
        case .failure(let error): return error
        case .success(let handle):
            return LinkLayer(handle.linkType) == nil
                ? CaptureError(.unsupportedLinkType, source: handle.source, message: LinkLayer.unsupportedMessage(handle.linkType)) : nil
        }
    }

    /// Opens a capture file (`-`: standard input) with the `--bpf` filter and the time window.
    static func open(_ path: String, filter: String?, window: (start: UInt64, end: UInt64)? = nil) -> Result<PcapHandle, CaptureError> {
        do throws(CaptureError) {
            let handle = try PcapHandle.openOffline(path)
            if let filter { try handle.setFilter(filter) }
            if let window { handle.setWindow(start: window.start, end: window.end) }
            return .success(handle)
        } catch {
            return .failure(error)
        }
    }

    /// Whether regular files are read on a thread of their own, ahead of the
    /// analysis (``ReadAhead``), when the machine has more than one core.
    public var readAhead = true
    /// The read-ahead thread also decodes while this many packets wait for
    /// the analysis (0: always; `Int.max`: never; negative: every other
    /// packet); the tests compare them.
    public var readerDecodingBacklog = ReadAhead.decodingBacklog

    /// Called with every packet after the pipeline has processed it (`learn`
    /// gathers VLAN stacks, tunnel endpoints and MACs here). When set, packets
    /// are read and processed one by one, without reading or decoding ahead.
    public var packetObserver: ((UnsafePointer<DecodedPacket>) -> Void)?

    private static func isRegularFile(_ path: String) -> Bool {
        guard path != "-" else { return false }
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
    }

    /// Analyses an open capture (a file, or bytes in memory for the fuzzers) as
    /// ``run(path:)`` does; `link` names it for the rules that judge a link.
    public func run(handle: PcapHandle, link linkName: String, readAhead: Bool = false) -> CaptureError? {
        guard let link = LinkLayer(handle.linkType) else {
            return CaptureError(.unsupportedLinkType, source: handle.source, message: LinkLayer.unsupportedMessage(handle.linkType))
        }
        accounts?.began(handle)
        // The rules that judge a link (5003) judge the one link of all the files
        // (``link``, ended by ``Pipeline/finish(flushOutputs:)``), or each file on its own.
        let continuous = self.link
        if let continuous {
            if pipeline.linkName != continuous { pipeline.beginLink(continuous) }
        } else {
            pipeline.beginLink(linkName)
        }
        pipeline.evidence?.linkType = handle.linkType.rawValue
        defer { if continuous == nil { pipeline.endLink() } }
        if let observe = packetObserver {
            do throws(CaptureError) {
                while !StopSignals.requested {
                    switch try handle.next() {
                    case .packet(let captured):
                        pipeline.process(captured, link: link)
                        observe(pipeline.currentPacket)
                    case .timeout: continue
                    case .end: return nil
                    }
                }
                return nil
            } catch {
                return StopSignals.requested ? nil : error
            }
        }
        // Decode ahead and prefetch once the flow table outgrows the caches
        // (packets are still processed in order; the queue is drained at the end).
        let lookahead = Lookahead(pipeline: pipeline)
        let threshold = pipeline.lookaheadThreshold
        let flows = pipeline.flows
        var ahead = false
        if readAhead {
            let decoding = ReadAhead.Decoding(decoder: pipeline.decoder, link: link, keys: flows.keyPreparer, backlog: readerDecodingBacklog)
            let reader = ReadAhead(handle: handle, decoding: decoding)
            if reader.start() {
                let error = reader.forEach { item in
                    if !ahead && flows.count >= threshold { ahead = true }
                    guard ahead else {
                        let (p, key) = pipeline.decoded(item, link: link, scratch: pipeline.packet)
                        pipeline.processDecoded(p, bytes: item.packet.bytes, key: key)
                        return 0
                    }
                    lookahead.push(item, link: link)
                    return lookahead.count
                }
                // The slots the lookahead still holds stay valid: the reader has stopped.
                lookahead.drain()
                // A read interrupted by SIGINT/SIGTERM is a stop, not a broken capture.
                return StopSignals.requested ? nil : error
            }
        }
        do throws(CaptureError) {
            while true {
                if _slowPath(StopSignals.requested) {
                    lookahead.drain()
                    return nil
                }
                switch try handle.next() {
                case .packet(let captured):
                    if !ahead && flows.count >= threshold { ahead = true }
                    if ahead { lookahead.push(captured, link: link) } else { pipeline.process(captured, link: link) }
                case .timeout:
                    continue
                case .end:
                    lookahead.drain()
                    return nil
                }
            }
        } catch {
            // Every packet before the fault is processed.
            lookahead.drain()
            // A read interrupted by SIGINT/SIGTERM is a stop, not a broken capture.
            return StopSignals.requested ? nil : error
        }
    }
}
