import CPcap
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One packet as libpcap hands it out.
///
/// `bytes` points into libpcap's buffer and is valid only until the next call
/// to ``PcapHandle/next()`` on the same handle: decode it in place, copy only
/// what must outlive the call.
public struct CapturedPacket {
    /// Capture time in nanoseconds since the Unix epoch.
    public var timestamp: UInt64
    /// Bytes captured (at most the snapshot length).
    public var capturedLength: Int
    /// Length of the packet on the wire.
    public var wireLength: Int
    /// The captured bytes.
    public var bytes: UnsafeRawBufferPointer

    public init(timestamp: UInt64, capturedLength: Int, wireLength: Int, bytes: UnsafeRawBufferPointer) {
        self.timestamp = timestamp
        self.capturedLength = capturedLength
        self.wireLength = wireLength
        self.bytes = bytes
    }
}

/// What ``PcapHandle/next()`` found.
public enum NextPacket {
    case packet(CapturedPacket)
    /// A live capture's read timeout expired with no packet.
    case timeout
    /// The end of a file, or a live capture stopped by ``PcapHandle/breakLoop()``.
    case end
}

/// Kernel and libpcap counters of a live capture (`pcap_stats`).
public struct CaptureStatistics: Sendable, Equatable {
    public var received: UInt64
    public var droppedByKernel: UInt64
    public var droppedByInterface: UInt64
}

/// Options of a live capture; libpcap's defaults where `nil`.
public struct LiveCaptureOptions: Sendable {
    /// Bytes captured per packet (the sensor's default is `sensor.snaplen`'s).
    public var snaplen: Int32
    public var promiscuous: Bool = true
    /// Read timeout in milliseconds; also bounds how long a stop request waits.
    public var timeoutMilliseconds: Int32 = 200
    /// Kernel ring buffer size in bytes.
    public var bufferSize: Int32? = nil
    public var immediateMode: Bool = false
    /// Capture only packets received by the interface (the sensor never transmits).
    public var inboundOnly: Bool = false
    public init(snaplen: Int32) { self.snaplen = snaplen }
}

/// A libpcap capture handle, live or offline. It owns its `pcap_t` and closes it
/// when released.
///
/// Not thread-safe: use one handle from one thread, except ``breakLoop()``.
public final class PcapHandle {
    let handle: OpaquePointer
    /// The file name (`-` for standard input) or interface name.
    public let source: String
    /// The link type of the packets this handle delivers.
    public let linkType: LinkType
    public let isLive: Bool
    /// Packets delivered so far.
    public private(set) var packetsRead: Int = 0
    /// Multiplier from libpcap's sub-second field to nanoseconds (1 or 1000).
    let fractionScale: UInt64

    var headerPointer: UnsafeMutablePointer<UnsafeMutablePointer<pcap_pkthdr>?>
    var dataPointer: UnsafeMutablePointer<UnsafePointer<UInt8>?>

    private init(handle: OpaquePointer, source: String, isLive: Bool) {
        self.handle = handle
        self.source = source
        self.isLive = isLive
        self.linkType = LinkType(rawValue: Libpcap.datalink(handle))
        self.fractionScale = Libpcap.tstampPrecisionIsNano(handle) ? 1 : 1000
        headerPointer = .allocate(capacity: 1)
        headerPointer.initialize(to: nil)
        dataPointer = .allocate(capacity: 1)
        dataPointer.initialize(to: nil)
    }

    deinit {
        if let filterProgram {
            Libpcap.freecode(filterProgram)
            filterProgram.deallocate()
        }
        _ = stopDecompressor()
        Libpcap.close(handle)
        memory?.deallocate()
        headerPointer.deallocate()
        dataPointer.deallocate()
    }

    /// Opens a pcap or pcapng file, or standard input when `path` is `-`.
    ///
    /// - Parameter inBlocks: a plain pcap file is read in blocks, its records
    ///   parsed in place (``PcapFileReader``); false: record by record by
    ///   libpcap, as every other input is (the tests compare the two).
    ///
    /// The corresponding C function is `pcap_open_offline_with_tstamp_precision`.
    public static func openOffline(_ path: String, inBlocks: Bool = true) throws(CaptureError) -> PcapHandle {
        var isRegularFile = false
        if path != "-" {
            var info = stat()
            if stat(path, &info) != 0 {
                throw CaptureError(.open, source: path, message: String(cString: strerror(errno)).lowercased())
            }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                throw CaptureError(.open, source: path, message: "is a directory, not a capture file")
            }
            // Only a regular file can be empty: a FIFO, /dev/stdin or a process
            // substitution (/dev/fd/63) has no size and is read as a stream.
            if (info.st_mode & S_IFMT) == S_IFREG && info.st_size == 0 {
                throw CaptureError(.open, source: path, message: "empty file: no pcap or pcapng header")
            }
            isRegularFile = (info.st_mode & S_IFMT) == S_IFREG
        }
        // libpcap reads each record with two freads through the FILE's buffer,
        // which stdio sizes at the file system's block (4 KiB): a read system
        // call every few packets. A 1 MiB buffer makes that one per thousand
        // and halves the cost of reading a file (scripts/bench shows both).
        let file: UnsafeMutablePointer<FILE>
        let buffer: UnsafeMutableRawPointer
        var decompressor: DecompressingReader?
        var compressedInput: (compression: CaptureCompression, descriptor: Int32, owned: Bool, prefix: [UInt8])?
        // A stream (standard input, a FIFO, /dev/fd/N) cannot be read twice: its first bytes say whether
        // it is compressed, and a plain capture gets them back (ungetc) for libpcap.
        var plainStream: (file: UnsafeMutablePointer<FILE>, prefix: [UInt8])?
        if path == "-" {
            _ = Self.standardInputBuffer  // set up once, before standard input is first read (or given bytes back)
            let prefix = try Self.readPrefix(0, source: path)
            if prefix.isEmpty { throw CaptureError(.open, source: path, message: "empty input: no pcap or pcapng header") }
            if let compression = CaptureCompression.recognise(prefix) {
                compressedInput = (compression, 0, false, prefix)
            } else {
                for byte in prefix.reversed() { ungetc(Int32(byte), zw_standard_input()) }
            }
        } else if !isRegularFile {
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw CaptureError(.open, source: path, message: String(cString: strerror(errno)).lowercased()) }
            let prefix: [UInt8]
            do throws(CaptureError) {
                prefix = try Self.readPrefix(descriptor, source: path)
            } catch {
                close(descriptor)
                throw error
            }
            if prefix.isEmpty {
                close(descriptor)
                throw CaptureError(.open, source: path, message: "empty input: no pcap or pcapng header")
            }
            if let compression = CaptureCompression.recognise(prefix) {
                compressedInput = (compression, descriptor, true, prefix)
            } else if let stream = fdopen(descriptor, "rb") {
                plainStream = (stream, prefix)
            } else {
                close(descriptor)
                throw CaptureError(.open, source: path, message: String(cString: strerror(errno)).lowercased())
            }
        } else if let compression = Self.compression(of: path) {
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw CaptureError(.open, source: path, message: String(cString: strerror(errno)).lowercased()) }
            compressedInput = (compression, descriptor, true, [])
        }
        if let input = compressedInput {
            // gzip, zstd, xz, lz4: decompressed on a thread of its own, read by libpcap as a stream.
            switch DecompressingReader.start(descriptor: input.descriptor, owned: input.owned, stream: !isRegularFile, prefix: input.prefix, compression: input.compression) {
            case .failure(let e): throw CaptureError(.open, source: path, message: e.description)
            case .success(let reader): decompressor = reader
            }
            guard let opened = fdopen(decompressor!.readDescriptor, "rb") else {
                close(decompressor!.readDescriptor)
                decompressor!.requestStop()
                _ = decompressor!.finish()
                throw CaptureError(.open, source: path, message: String(cString: strerror(errno)).lowercased())
            }
            file = opened
            buffer = .allocate(byteCount: Self.readBufferSize, alignment: 64)
            setvbuf(file, buffer.assumingMemoryBound(to: CChar.self), _IOFBF, Self.readBufferSize)
        } else if path == "-" {
            file = zw_standard_input()
            buffer = Self.standardInputBuffer
        } else if let plainStream {
            file = plainStream.file
            buffer = .allocate(byteCount: Self.readBufferSize, alignment: 64)
            setvbuf(file, buffer.assumingMemoryBound(to: CChar.self), _IOFBF, Self.readBufferSize)
            for byte in plainStream.prefix.reversed() { ungetc(Int32(byte), file) }
        } else {
            guard let opened = fopen(path, "rb") else {
                throw CaptureError(.open, source: path, message: String(cString: strerror(errno)).lowercased())
            }
            file = opened
            buffer = .allocate(byteCount: Self.readBufferSize, alignment: 64)
            setvbuf(file, buffer.assumingMemoryBound(to: CChar.self), _IOFBF, Self.readBufferSize)
        }
        let (opened, text) = Libpcap.withErrbuf { Libpcap.fopenOffline(file, errbuf: $0) }
        // Standard input's FILE and buffer outlive the handle; a file's or a decompressor's go with it.
        let ownsFile = path != "-" || decompressor != nil
        guard let opened else {
            if ownsFile {
                fclose(file)
                buffer.deallocate()
            }
            // The decompressor's own reason comes first (a corrupt or truncated compressed file);
            // standard input's, which may never say more, is not waited for beyond what it has read.
            if !isRegularFile { decompressor?.requestStop() }
            if let decompressor, let failure = decompressor.finish() {
                throw CaptureError(.open, source: path, message: failure.description)
            }
            let what = decompressor.map { " (decompressed from \($0.compression.rawValue))" } ?? ""
            throw CaptureError(.open, source: path, message: Self.describeOpenFailure(text, path: path) + what)
        }
        let pcap = PcapHandle(handle: opened, source: path, isLive: false)
        if ownsFile { pcap.memory = buffer }  // freed after pcap_close has closed the FILE
        pcap.decompressor = decompressor
        if path != "-" && decompressor == nil { pcap.descriptor = fileno(file) }
        // A plain pcap file libpcap has checked is read in blocks, its records parsed in place.
        if isRegularFile && compressedInput == nil && inBlocks {
            pcap.fileReader = PcapFileReader(file: fileno(file), linkType: pcap.linkType, snapshot: pcap.snaplen)
        }
        return pcap
    }

    /// A stream's first bytes (up to 8: the longest magic looked for), read
    /// from its descriptor before any FILE has read from it. A read
    /// interrupted by a signal (a stop: the sensor's handlers do not restart
    /// reads) ends the opening.
    static func readPrefix(_ descriptor: Int32, source: String) throws(CaptureError) -> [UInt8] {
        var prefix = [UInt8](repeating: 0, count: 8)
        var got = 0
        while got < prefix.count {
            let n = prefix.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + got, $0.count - got) }
            if n < 0 && errno == EINTR { throw CaptureError(.open, source: source, message: "interrupted before the capture began") }
            if n < 0 { throw CaptureError(.open, source: source, message: String(cString: strerror(errno)).lowercased()) }
            if n == 0 { break }
            got += n
        }
        return Array(prefix.prefix(got))
    }

    /// The compression of the file at `path` from its first bytes (nil: none, or unreadable).
    static func compression(of path: String) -> CaptureCompression? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var prefix = [UInt8](repeating: 0, count: 8)
        let n = prefix.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        return n > 0 ? CaptureCompression.recognise(prefix.prefix(n)) : nil
    }

    /// For a plain pcap file: reads it in blocks instead of libpcap.
    private var fileReader: PcapFileReader? {
        didSet { unownedFileReader = fileReader.map { Unmanaged.passUnretained($0) } }
    }
    /// ``fileReader`` without a reference count's atomic operations per packet (the handle keeps it alive).
    private var unownedFileReader: Unmanaged<PcapFileReader>?
    /// Whether the file is read in blocks (``openOffline(_:inBlocks:)``), not by libpcap.
    public var readsInBlocks: Bool { fileReader != nil }
    /// The BPF filter applied to the records ``fileReader`` reads (libpcap applies its own otherwise).
    private var filterProgram: UnsafeMutablePointer<bpf_program>?
    private var filterHeader = pcap_pkthdr()

    /// For a compressed file: the thread decompressing it.
    private var decompressor: DecompressingReader?

    /// The compression the file came in (nil: a plain pcap or pcapng).
    public var compression: CaptureCompression? { decompressor?.compression }

    /// Bytes of the file read so far (compressed bytes for a compressed file),
    /// for progress; callable from any thread (the file descriptor's offset, not the FILE's).
    public var fileBytesRead: Int {
        if let decompressor { return decompressor.compressedBytesRead }
        if let fileReader { return fileReader.bytesRead.load(ordering: .relaxed) }
        guard descriptor >= 0 else { return 0 }
        return max(0, Int(lseek(descriptor, 0, SEEK_CUR)))
    }
    /// The descriptor of a plain capture file (-1 otherwise).
    private var descriptor: Int32 = -1

    /// Stops a decompressing thread that may be blocked on the reader: the
    /// reader will take nothing more. Returns its error, if it had one.
    private func stopDecompressor() -> DecompressionError? {
        guard let decompressor else { return nil }
        decompressor.requestStop()
        shutdown(decompressor.readDescriptor, Int32(SHUT_RD))
        return decompressor.finish()
    }

    /// Reads a capture held in memory (pcap or pcapng), as from a file: for the
    /// fuzzers and tests. The handle keeps the bytes alive.
    public static func openOffline(bytes: [UInt8], name: String = "<memory>") throws(CaptureError) -> PcapHandle {
        let storage = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 8)
        bytes.withUnsafeBytes { if let base = $0.baseAddress { storage.copyMemory(from: base, byteCount: bytes.count) } }
        guard let file = fmemopen(storage, bytes.count, "rb") else {
            storage.deallocate()
            throw CaptureError(.open, source: name, message: "cannot read from memory")
        }
        let (opened, text) = Libpcap.withErrbuf { Libpcap.fopenOffline(file, errbuf: $0) }
        guard let opened else {
            fclose(file)
            storage.deallocate()
            throw CaptureError(.open, source: name, message: Self.describeOpenFailure(text, path: name))
        }
        let pcap = PcapHandle(handle: opened, source: name, isLive: false)
        pcap.memory = storage  // pcap_close closes the FILE; the bytes go with the handle
        return pcap
    }

    /// Memory the handle's FILE reads into or from; freed after `pcap_close`.
    private var memory: UnsafeMutableRawPointer?

    /// The stdio buffer size for capture files.
    static let readBufferSize = 1 << 20
    /// Standard input's buffer, installed on first use: never freed, as
    /// standard input outlives any handle.
    nonisolated(unsafe) static let standardInputBuffer: UnsafeMutableRawPointer = {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: readBufferSize, alignment: 64)
        setvbuf(zw_standard_input(), buffer.assumingMemoryBound(to: CChar.self), _IOFBF, readBufferSize)
        return buffer
    }()

    /// Whether libpcap knows a device of this name (`nflog:5` as `nflog`);
    /// true when it cannot list its devices (opening it will say).
    public static func deviceExists(_ interface: String) -> Bool {
        guard let names = Libpcap.deviceNames() else { return true }
        return names.contains(interface) || names.contains(String(interface.prefix { $0 != ":" }))
    }

    /// Opens a live capture on an interface and activates it.
    ///
    /// The corresponding C functions are `pcap_create`, `pcap_set_*` and `pcap_activate`.
    public static func openLive(_ interface: String, options: LiveCaptureOptions) throws(CaptureError) -> PcapHandle {
        let (created, text) = Libpcap.withErrbuf { Libpcap.create(interface, errbuf: $0) }
        guard let created else { throw CaptureError(.open, source: interface, message: text) }
        // Until activation succeeds nothing owns `created`: close it on every failure.
        func fail(_ kind: CaptureError.Kind, _ message: String) -> CaptureError {
            Libpcap.close(created)
            return CaptureError(kind, source: interface, message: message)
        }
        func check(_ status: Int32, _ what: String) throws(CaptureError) {
            if status != 0 { throw fail(.configure, "\(what): \(Libpcap.statustostr(status))") }
        }
        try check(Libpcap.setSnaplen(created, options.snaplen), "snaplen \(options.snaplen)")
        try check(Libpcap.setPromisc(created, options.promiscuous), "promiscuous mode")
        try check(Libpcap.setTimeout(created, options.timeoutMilliseconds), "read timeout")
        if let size = options.bufferSize { try check(Libpcap.setBufferSize(created, size), "buffer size \(size)") }
        try check(Libpcap.setImmediateMode(created, options.immediateMode), "immediate mode")
        _ = Libpcap.setTstampPrecisionNano(created)  // falls back to microseconds where unsupported
        let status = Libpcap.activate(created)
        if status < 0 {
            let detail = Libpcap.geterr(created)
            let reason = Libpcap.statustostr(status)
            throw fail(.open, detail.isEmpty || detail == reason || detail.hasPrefix(reason) ? (detail.isEmpty ? reason : detail) : "\(reason): \(detail)")
        }
        let pcap = PcapHandle(handle: created, source: interface, isLive: true)
        pcap.readTimeoutMilliseconds = options.timeoutMilliseconds
        if options.inboundOnly, Libpcap.setDirectionIn(created) != 0 {
            throw CaptureError(.configure, source: interface, message: "inbound-only capture: \(Libpcap.geterr(created))")
        }
        return pcap
    }

    /// Compiles a BPF expression and applies it to this handle.
    ///
    /// The corresponding C functions are `pcap_compile`, `pcap_setfilter` and `pcap_freecode`.
    public func setFilter(_ expression: String) throws(CaptureError) {
        var program = bpf_program()
        if Libpcap.compile(handle, &program, expression) != 0 {
            throw CaptureError(.filter, source: source, message: "BPF filter \"\(expression)\": \(Libpcap.geterr(handle))")
        }
        if fileReader != nil {
            // The records libpcap does not read are filtered here (pcap_offline_filter), with the program it compiled.
            if let old = filterProgram { Libpcap.freecode(old) } else { filterProgram = .allocate(capacity: 1) }
            filterProgram!.initialize(to: program)
            return
        }
        defer { Libpcap.freecode(&program) }
        if Libpcap.setfilter(handle, &program) != 0 {
            throw CaptureError(.filter, source: source, message: "BPF filter \"\(expression)\": \(Libpcap.geterr(handle))")
        }
    }

    /// Reads the next packet.
    ///
    /// - Throws: ``CaptureError`` with kind `.read` and the packet's index when the
    ///   file is corrupt or truncated, or the device fails.
    ///
    /// The corresponding C function is `pcap_next_ex`.
    public func next() throws(CaptureError) -> NextPacket {
        if _slowPath(held != nil) {
            // Resumed, but the held packet may lie past the new pause point too (a file spanning several short ones).
            if held.unsafelyUnwrapped.timestamp > upperBound {
                isPaused = true
                return .end
            }
            return .packet(deliverHeld())
        }
        if let reader = unownedFileReader { return try nextFromFile(reader) }
        while true {
            let status = Libpcap.nextEx(handle, headerPointer, dataPointer)
            if _fastPath(status == 1) {
                let header = headerPointer.pointee.unsafelyUnwrapped.pointee
                let seconds = UInt64(truncatingIfNeeded: header.ts.tv_sec)
                let fraction = UInt64(truncatingIfNeeded: header.ts.tv_usec) &* fractionScale
                let packet = CapturedPacket(timestamp: seconds &* 1_000_000_000 &+ fraction, capturedLength: Int(header.caplen), wireLength: Int(header.len),
                                            bytes: UnsafeRawBufferPointer(start: dataPointer.pointee.unsafelyUnwrapped, count: Int(header.caplen)))
                if let next = deliver(packet) { return next }
                continue
            }
            publishedPackets.store(packetsRead, ordering: .relaxed)
            return try nextSlowPath(status)
        }
    }

    /// The next packet of a file read in blocks when nothing is special about
    /// it (no held packet, no filter, within the window, wholly in the block):
    /// its timestamp, captured and wire lengths (the low and high 32 bits) and
    /// bytes, valid until the next read. `bytes` nil: call ``next()``, which
    /// reads whatever comes next. Counted as ``next()`` counts. Returned in
    /// registers, where ``NextPacket`` goes through memory: the caller's load
    /// of it could not be forwarded from the stores that wrote it, and waited
    /// behind every store before them (on a reading thread, those of the
    /// packets it copies for the other core).
    public func nextPlain() -> (timestamp: UInt64, lengths: UInt64, bytes: UnsafeRawPointer?) {
        guard _fastPath(held == nil && filterProgram == nil), let reader = unownedFileReader else { return (0, 0, nil) }
        let record = reader._withUnsafeGuaranteedRef { $0.nextPlain(earliest: windowStart, latest: upperBound) }
        guard _fastPath(record.bytes != nil) else { return record }
        packetsRead &+= 1
        noteDelivered(record.timestamp)
        return record
    }

    /// ``next()`` for a file read in blocks.
    @inline(__always)
    private func nextFromFile(_ reader: Unmanaged<PcapFileReader>) throws(CaptureError) -> NextPacket {
        while true {
            switch reader._withUnsafeGuaranteedRef({ $0.next() }) {
            case .packet(let timestamp, let capturedLength, let wireLength, let bytes):
                let packet = CapturedPacket(timestamp: timestamp, capturedLength: capturedLength, wireLength: wireLength, bytes: bytes)
                // libpcap filters a file's records before handing them out: those it drops are not counted.
                if _slowPath(filterProgram != nil) && !passesFilter(packet) { continue }
                if let next = deliver(packet) { return next }
            case .end:
                publishedPackets.store(packetsRead, ordering: .relaxed)
                reachedEnd = true
                return .end
            case .failure(let text):
                publishedPackets.store(packetsRead, ordering: .relaxed)
                throw CaptureError(.read, source: source, message: Self.describeReadFailure(text), packetIndex: packetsRead + 1)
            }
        }
    }

    /// A packet read (by libpcap or in blocks), counted: what ``next()``
    /// returns for it, or nil when it lies outside the window and is passed over.
    @inline(__always)
    private func deliver(_ packet: CapturedPacket) -> NextPacket? {
        packetsRead &+= 1
        let timestamp = packet.timestamp
        // --since/--until: packets outside the window are read, counted and passed over;
        // one after ``pauseAfter`` is held back and the file pauses (another file's turn).
        if _slowPath(timestamp < windowStart || timestamp > upperBound) {
            if timestamp < windowStart || timestamp > windowEnd {
                packetsOutsideWindow &+= 1
                return nil
            }
            held = packet
            isPaused = true
            return .end
        }
        noteDelivered(timestamp)
        return .packet(packet)
    }

    /// Counts a packet handed out (``packetsRead`` already counts it): the first and last timestamps, the progress.
    @inline(__always)
    private func noteDelivered(_ timestamp: UInt64) {
        if _slowPath(firstTimestamp == nil) { firstTimestamp = timestamp }
        lastTimestamp = timestamp
        if _slowPath(packetsRead & 4095 == 0) { publishedPackets.store(packetsRead, ordering: .relaxed) }
    }

    /// Whether the BPF filter keeps a record ``fileReader`` read.
    private func passesFilter(_ packet: CapturedPacket) -> Bool {
        guard let program = filterProgram, let base = packet.bytes.baseAddress else { return filterProgram == nil }
        filterHeader.caplen = UInt32(packet.capturedLength)
        filterHeader.len = UInt32(truncatingIfNeeded: packet.wireLength)
        return Libpcap.offlineFilter(program, &filterHeader, base.assumingMemoryBound(to: UInt8.self))
    }

    /// Only packets from `start` through `end` (nanoseconds since the epoch)
    /// are delivered; the others are counted in ``packetsOutsideWindow``.
    public func setWindow(start: UInt64, end: UInt64) {
        windowStart = start
        windowEnd = end
        upperBound = min(windowEnd, pauseAfter)
    }

    /// Ends the reading early, before the first packet stamped after this
    /// moment (nanoseconds): ``next()`` says `.end`, ``isPaused`` is set, and
    /// the packet is kept for the next call. Reading files that overlap in time
    /// merges them: each pauses where the next one begins.
    public var pauseAfter: UInt64 = .max {
        didSet { upperBound = min(windowEnd, pauseAfter) }
    }
    /// Whether the last `.end` was a pause (``pauseAfter``), not the end of the file.
    public private(set) var isPaused = false
    /// Whether the file was read to its end (a stop signal may end the reading before).
    public private(set) var reachedEnd = false
    /// Reading goes on after a pause: the held packet comes first.
    public func resume() { isPaused = false }
    /// The packet read when the file paused, delivered by the next ``next()``.
    private var held: CapturedPacket?
    /// min(windowEnd, pauseAfter): one comparison on the fast path.
    private var upperBound: UInt64 = .max

    private func deliverHeld() -> CapturedPacket {
        let packet = held!
        held = nil
        isPaused = false
        if firstTimestamp == nil { firstTimestamp = packet.timestamp }
        lastTimestamp = packet.timestamp
        return packet
    }
    private var windowStart: UInt64 = 0
    private var windowEnd: UInt64 = .max
    /// Packets read and passed over because they are outside the window.
    public private(set) var packetsOutsideWindow = 0
    /// The first and last timestamps of the packets delivered.
    public private(set) var firstTimestamp: UInt64?
    public private(set) var lastTimestamp: UInt64 = 0
    /// ``packetsRead`` for other threads (progress), updated every 4,096 packets and at the end.
    private let publishedPackets = Atomic<Int>(0)
    public var packetsReadSoFar: Int { publishedPackets.load(ordering: .relaxed) }

    @inline(never)
    func nextSlowPath(_ status: Int32) throws(CaptureError) -> NextPacket {
        switch status {
        case 0: return .timeout
        case -2:
            // A compressed file that ended inside a frame ends early, not cleanly.
            if let failure = decompressor?.finish() {
                throw CaptureError(.read, source: source, message: failure.description, packetIndex: packetsRead + 1)
            }
            reachedEnd = true
            return .end
        default:
            let text = Self.describeReadFailure(Libpcap.geterr(handle))
            if let failure = stopDecompressor() {
                throw CaptureError(.read, source: source, message: failure.description, packetIndex: packetsRead + 1)
            }
            throw CaptureError(.read, source: source, message: text, packetIndex: packetsRead + 1)
        }
    }

    /// Puts a live capture into non-blocking mode: ``next()`` then returns
    /// ``NextPacket/timeout`` at once when nothing is buffered, and
    /// ``waitForPackets(milliseconds:)`` waits. Needed because libpcap's read
    /// timeout does not expire on a quiet Linux interface (TPACKET_V3), and the
    /// sensor must still notice a stop request, a reload and the passing time.
    public func setNonblocking() throws(CaptureError) {
        let (status, text) = Libpcap.withErrbuf { Libpcap.setNonblock(handle, true, errbuf: $0) }
        if status != 0 { throw CaptureError(.configure, source: source, message: "non-blocking mode: \(text)") }
        selectableFD = Libpcap.selectableFD(handle)
    }

    private var selectableFD: Int32 = -1

    /// A live capture's read timeout: the kernel hands over a partly filled
    /// ring block after this long (TPACKET_V3).
    public private(set) var readTimeoutMilliseconds: Int32 = 0

    /// In non-blocking mode: waits up to `milliseconds` for packets; false on timeout.
    public func waitForPackets(milliseconds: Int32) -> Bool {
        guard selectableFD >= 0 else { return true }
        var descriptor = pollfd(fd: selectableFD, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, milliseconds) > 0
    }

    /// Asks a blocking ``next()`` on another thread to return ``NextPacket/end``.
    ///
    /// The corresponding C function is `pcap_breakloop`.
    public func breakLoop() { Libpcap.breakloop(handle) }

    /// Kernel counters of a live capture; `nil` for files.
    ///
    /// The corresponding C function is `pcap_stats`.
    public func statistics() -> CaptureStatistics? {
        guard isLive else { return nil }
        var s = pcap_stat()
        guard Libpcap.stats(handle, &s) == 0 else { return nil }
        return CaptureStatistics(received: UInt64(s.ps_recv), droppedByKernel: UInt64(s.ps_drop), droppedByInterface: UInt64(s.ps_ifdrop))
    }

    /// The snapshot length of the capture.
    public var snaplen: Int { Int(Libpcap.snapshot(handle)) }

    /// The libpcap version string.
    public static var libraryVersion: String { Libpcap.libraryVersion() }

    /// libpcap's open errors start with the path; the caller prefixes it already.
    static func describeOpenFailure(_ text: String, path: String) -> String {
        var message = text
        if message.hasPrefix(path + ": ") { message.removeFirst(path.count + 2) }
        if message == "unknown file format" { return "not a pcap or pcapng file (unknown file format)" }
        if message.hasPrefix("truncated dump file") || message.hasPrefix("truncated pcapng dump file") {
            return "truncated file header: \(message)"
        }
        return message.isEmpty ? "cannot open capture" : message
    }

    static func describeReadFailure(_ text: String) -> String {
        text.isEmpty ? "read error" : text
    }
}

extension PcapHandle {
    /// Checks that a BPF expression compiles for `linkType`, without opening a capture.
    ///
    /// - Returns: libpcap's error text, or nil when it compiles.
    public static func filterError(_ expression: String, linkType: LinkType = .ethernet) -> String? {
        guard let dead = Libpcap.openDead(linkType: linkType.rawValue, snaplen: 65535) else { return "cannot create a pcap handle" }
        defer { Libpcap.close(dead) }
        var program = bpf_program()
        if Libpcap.compile(dead, &program, expression) != 0 { return Libpcap.geterr(dead) }
        Libpcap.freecode(&program)
        return nil
    }
}
