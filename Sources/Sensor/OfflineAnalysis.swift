import Capture
import Decode
#if canImport(Glibc)
import Glibc
#endif

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
        let handle: PcapHandle
        switch Self.open(path, filter: filter) {
        case .success(let h): handle = h
        case .failure(let error): return error
        }
        return run(handle: handle, link: path == "-" ? "standard input" : path.split(separator: "/").last.map(String.init) ?? path,
                   readAhead: readAhead && Self.isRegularFile(path) && sysconf(Int32(_SC_NPROCESSORS_ONLN)) > 1)
    }

    /// Opens a capture file (`-`: standard input) with the `--bpf` filter.
    static func open(_ path: String, filter: String?) -> Result<PcapHandle, CaptureError> {
        do throws(CaptureError) {
            let handle = try PcapHandle.openOffline(path)
            if let filter { try handle.setFilter(filter) }
            return .success(handle)
        } catch {
            return .failure(error)
        }
    }

    /// Capture files in the order of their first packets, for reading them as
    /// one capture: a file that starts earlier is read first, whatever order
    /// they were given in (a later file read first would hold the earlier
    /// file's flows open across the jump back in time, and their logins go
    /// unread). Files whose first packet cannot be read (empty, broken,
    /// missing) keep their place before the others, so their errors are said
    /// first. Streams (`-`, FIFOs) cannot be looked into: with one among the
    /// paths the order is kept.
    /// - Returns: the paths in reading order, and whether that differs from `paths`.
    public static func timeOrdered(_ paths: [String]) -> (paths: [String], reordered: Bool) {
        guard paths.count > 1 else { return (paths, false) }
        var starts: [(index: Int, first: UInt64?)] = []
        for (i, path) in paths.enumerated() {
            guard isRegularFile(path) else { return (paths, false) }
            var first: UInt64?
            if let handle = try? PcapHandle.openOffline(path), case .packet(let p)? = try? handle.next() { first = p.timestamp }
            starts.append((i, first))
        }
        // Unreadable files (no first packet) as if at time 0; ties keep the given order.
        let sorted = starts.sorted { ($0.first ?? 0, $0.index) < ($1.first ?? 0, $1.index) }
        let order = sorted.map { paths[$0.index] }
        return (order, order != paths)
    }

    /// Whether regular files are read on a thread of their own, ahead of the
    /// analysis (``ReadAhead``), when the machine has more than one core.
    public var readAhead = true

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
        // Each file is a link of its own for the rules that judge a link (5003).
        pipeline.beginLink(linkName)
        pipeline.evidence?.linkType = handle.linkType.rawValue
        defer { pipeline.endLink() }
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
            let reader = ReadAhead(handle: handle)
            if reader.start() {
                let error = reader.forEach { captured in
                    if !ahead && flows.count >= threshold { ahead = true }
                    guard ahead else {
                        pipeline.process(captured, link: link)
                        return 0
                    }
                    lookahead.push(captured, link: link, stable: true)
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
