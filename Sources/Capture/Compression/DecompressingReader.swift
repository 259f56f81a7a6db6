import Platform
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Reads a compressed capture file on a thread of its own and hands the
/// decompressed bytes to libpcap through a local socket, so that
/// decompression overlaps the analysis and libpcap reads a plain stream.
/// A socket rather than a pipe: writes after the reader has gone fail with
/// EPIPE (MSG_NOSIGNAL) instead of raising SIGPIPE.
final class DecompressingReader: @unchecked Sendable {
    let compression: CaptureCompression
    /// The end libpcap reads (as a FILE); closed by `pcap_close`.
    let readDescriptor: Int32
    private let writeDescriptor: Int32
    private let file: Int32
    private var decoder: any StreamDecoder
    private var thread: WorkerThread?
    /// Set by the thread before it ends; read after `join`.
    private var failure: DecompressionError?
    /// Compressed bytes read so far (for progress), written by the thread.
    private let consumed = Atomic<Int>(0)
    /// Bytes read from `file` before the thread began, decompressed first.
    private var prefix: [UInt8] = []
    /// Whether `file` is closed at the end (not standard input's).
    private var ownsFile = true
    /// Whether `file` is a stream (standard input, a FIFO) that may stay silent.
    private var isStream = false

    /// Opens `path` (whose first bytes say `compression`) and starts decompressing.
    static func start(path: String, compression: CaptureCompression) -> Result<DecompressingReader, DecompressionError> {
        let file = open(path, O_RDONLY | O_CLOEXEC)
        guard file >= 0 else { return .failure(DecompressionError(String(cString: strerror(errno)).lowercased())) }
        return start(descriptor: file, owned: true, stream: false, prefix: [], compression: compression)
    }

    /// Starts decompressing what `descriptor` holds after `prefix` (bytes
    /// already read from it: a stream, whose first bytes were looked at).
    /// An `owned` descriptor is closed at the end; a `stream` is waited on in
    /// short polls, so that a stop ends the thread even if it never says more.
    static func start(descriptor file: Int32, owned: Bool, stream: Bool, prefix: [UInt8], compression: CaptureCompression) -> Result<DecompressingReader, DecompressionError> {
        func close(_ fd: Int32) { if fd != file || owned { _ = Glibc.close(fd) } }
        let decoder: any StreamDecoder
        switch compression.makeDecoder() {
        case .success(let d): decoder = d
        case .failure(let e):
            close(file)
            return .failure(e)
        }
        var ends: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else {
            close(file)
            return .failure(DecompressionError("socketpair: \(String(cString: strerror(errno)))"))
        }
        // A larger socket buffer: fewer wake-ups between the decompressor and the reader.
        var size: Int32 = 1 << 20
        setsockopt(ends[1], SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(ends[0], SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        shutdown(ends[0], Int32(SHUT_WR))
        let reader = DecompressingReader(compression: compression, file: file, read: ends[0], write: ends[1], decoder: decoder)
        reader.prefix = prefix
        reader.ownsFile = owned
        reader.isStream = stream
        let thread = WorkerThread(name: "decompress \(compression.rawValue)") { reader.run() }
        reader.thread = thread
        guard thread.start() else {
            close(file)
            close(ends[0])
            close(ends[1])
            return .failure(DecompressionError("cannot start the decompressing thread"))
        }
        return .success(reader)
    }

    private init(compression: CaptureCompression, file: Int32, read: Int32, write: Int32, decoder: any StreamDecoder) {
        self.compression = compression
        self.file = file
        self.readDescriptor = read
        self.writeDescriptor = write
        self.decoder = decoder
    }

    private func run() {
        defer {
            if ownsFile { close(file) }
            // The reader sees the end of the stream.
            close(writeDescriptor)
        }
        if !prefix.isEmpty {
            consumed.add(prefix.count, ordering: .relaxed)
            let result = prefix.withUnsafeBytes { decoder.decode($0, emit: { self.write($0) }) }
            switch result {
            case .failure(let e):
                failure = e
                return
            case .success(let more):
                if !more { return }
            }
        }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            if isStream && !waitForInput() { return }
            let n = read(file, chunk.baseAddress, chunk.count)
            if n < 0 {
                if errno == EINTR { continue }
                failure = DecompressionError("read: \(String(cString: strerror(errno)))")
                return
            }
            if n == 0 {
                failure = decoder.finish()
                return
            }
            consumed.add(n, ordering: .relaxed)
            switch decoder.decode(UnsafeRawBufferPointer(rebasing: chunk[..<n]), emit: { self.write($0) }) {
            case .failure(let e):
                failure = e
                return
            case .success(let more):
                if !more { return }  // the reader closed its end: stop quietly
            }
        }
    }

    /// A stream may stay silent for ever: it is waited on in short polls,
    /// so that a stop (``requestStop()``) ends the thread. False: stopped.
    private func waitForInput() -> Bool {
        var descriptor = pollfd(fd: file, events: Int16(POLLIN), revents: 0)
        while !stopping.load(ordering: .relaxed) {
            if poll(&descriptor, 1, 200) != 0 { return true }  // readable, at its end, or an error read() will say
        }
        return false
    }

    /// The reader has gone: the thread stops at its next wait for input.
    func requestStop() { stopping.store(true, ordering: .relaxed) }
    private let stopping = Atomic<Bool>(false)

    /// Writes all of `bytes` to the reader; false once the reader has gone.
    private func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = send(writeDescriptor, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }

    /// Waits for the thread (the reader has reached the end or closed its
    /// end) and returns why decompression failed, if it did.
    func finish() -> DecompressionError? {
        thread?.join()
        thread = nil
        return failure
    }

    /// Compressed bytes read so far (approximate while the thread runs).
    var compressedBytesRead: Int { consumed.load(ordering: .relaxed) }
}
