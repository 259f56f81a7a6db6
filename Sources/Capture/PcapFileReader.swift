import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A plain pcap file (the classic format, in this machine's byte order) read
/// in large blocks, each record handed out where it lies in the block.
///
/// libpcap reads a file record by record through stdio: two `fread` calls
/// per packet, each a copy out of the stream's buffer into libpcap's. For a
/// file of tens of millions of packets those copies cost as much as the
/// kernel's own, and offline analysis spends them on the reading core, which
/// is the slower side on traffic that gives the rules little to do. Here one
/// `read` fills a block and the records are parsed in place: the kernel's
/// copy is the only one. libpcap still opens the file (its header checks,
/// link type and snapshot length, and everything it reads stays its job:
/// pcapng, other byte orders, old versions, compressed input, streams, BPF
/// filters). Every record is judged as libpcap's `pcap_next_ex` judges it,
/// with its words for a damaged file, and the tests compare the two readers
/// packet by packet on every capture at hand and on damaged ones.
///
/// Not thread-safe, except ``bytesRead``.
final class PcapFileReader {
    /// The link types read here: those with no per-record fix-up in libpcap
    /// (`pcapint_post_process`) and its usual largest record (262,144 bytes).
    static let linkTypes: Set<Int32> = [LinkType.null, .ethernet, .raw, .loop, .linuxSLL, .ipv4, .ipv6, .linuxSLL2].reduce(into: []) { $0.insert($1.rawValue) }
    /// libpcap's `MAXIMUM_SNAPLEN`: a larger record is a damaged file.
    static let maximumRecord = 262_144
    /// Bytes asked of the kernel per read: a block the core's second-level
    /// cache holds while its records are parsed and copied on (64 KiB to
    /// 256 KiB measured 4% faster than 1 MiB, the stdio buffer libpcap gets).
    static let blockSize = 1 << 18
    private static let headerSize = 16

    private let descriptor: Int32
    /// One block and the largest record (a record begun in one block is completed behind it).
    private let buffer: UnsafeMutableRawPointer
    private let capacity: Int
    /// The bytes not parsed yet: buffer[position..<end].
    private var position = 0
    private var end = 0
    private var atEndOfFile = false
    /// Why the last read failed (errno), once it has.
    private var readError: Int32 = 0
    /// Nanoseconds per unit of the file's sub-second field.
    private let fractionScale: Int64
    /// ``timeFieldsSigned``, kept here: no one-time initialisation check per packet.
    private let signedTimes = PcapFileReader.timeFieldsSigned
    /// The file's snapshot length as libpcap adjusted it.
    private let snapshot: Int
    /// min(snapshot, ``maximumRecord``): a record at most this long is handed out as it lies.
    private let fastLimit: Int
    /// File bytes read so far, the file header included (progress; any thread); where the next read begins.
    let bytesRead = Atomic<Int>(24)

    /// One record, as `pcap_next_ex` would return it.
    enum Record {
        case packet(timestamp: UInt64, capturedLength: Int, wireLength: Int, bytes: UnsafeRawBufferPointer)
        case end
        /// A damaged or unreadable file, in libpcap's words.
        case failure(String)
    }

    /// A reader for the file libpcap has opened (`file`, its descriptor: the
    /// same file, whatever has happened to its path since) as `linkType`
    /// with snapshot length `snapshot`, or nil when the file is one libpcap
    /// reads itself.
    init?(file: Int32, linkType: LinkType, snapshot: Int) {
        guard Self.linkTypes.contains(linkType.rawValue) else { return nil }
        // Its own descriptor (read with pread: libpcap's FILE shares the offset of a duplicate).
        let fd = dup(file)
        guard fd >= 0 else { return nil }
        var header = (UInt32(0), UInt16(0), UInt16(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0))
        let got = withUnsafeMutableBytes(of: &header) { pread(fd, $0.baseAddress, 24, 0) }
        // Only this machine's byte order (the other needs libpcap's pseudo-header swaps) and version 2.4
        // (older ones may have their lengths swapped). The magic says micro- or nanoseconds.
        let scale: Int64
        switch header.0 {
        case 0xA1B2_C3D4: scale = 1000
        case 0xA1B2_3C4D: scale = 1
        default: scale = 0
        }
        guard got == 24, scale != 0, header.1 == 2, header.2 == 4 else {
            close(fd)
            return nil
        }
        descriptor = fd
        fractionScale = scale
        self.snapshot = snapshot
        // The fast path's bound: a record longer than libpcap's maximum is an error even within the snapshot length.
        fastLimit = min(snapshot, Self.maximumRecord)
        capacity = Self.blockSize + Self.maximumRecord + Self.headerSize
        buffer = .allocate(byteCount: capacity, alignment: 64)
    }

    deinit {
        close(descriptor)
        buffer.deallocate()
    }

    /// The next record; its bytes are valid until the next call.
    @inline(__always)
    func next() -> Record {
        let plain = nextPlain(earliest: 0, latest: .max)
        if _fastPath(plain.bytes != nil) {
            let caplen = Int(truncatingIfNeeded: plain.lengths & 0xFFFF_FFFF)
            return .packet(timestamp: plain.timestamp, capturedLength: caplen, wireLength: Int(truncatingIfNeeded: plain.lengths >> 32),
                           bytes: UnsafeRawBufferPointer(start: plain.bytes, count: caplen))
        }
        return nextSlowPath()
    }

    /// The next record when it lies wholly in the block, within the fast
    /// path's bound and stamped from `earliest` through `latest`: its
    /// timestamp, its captured and wire lengths (the low and high 32 bits),
    /// and its bytes (valid until the next call). Anything else (`bytes`
    /// nil) leaves the record to ``next()``'s slow path. Three words:
    /// returned in registers, where ``Record`` goes through memory.
    @inline(__always)
    func nextPlain(earliest: UInt64, latest: UInt64) -> (timestamp: UInt64, lengths: UInt64, bytes: UnsafeRawPointer?) {
        guard _fastPath(end - position >= Self.headerSize) else { return (0, 0, nil) }
        let h = buffer + position
        let caplen = Int(h.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        guard _fastPath(caplen <= fastLimit && end - position - Self.headerSize >= caplen) else { return (0, 0, nil) }
        let timestamp = Self.timestamp(h, fractionScale, signed: signedTimes)
        guard _fastPath(timestamp >= earliest && timestamp <= latest) else { return (0, 0, nil) }
        position += Self.headerSize + caplen
        let wire = UInt64(h.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        return (timestamp, UInt64(caplen) | wire << 32, UnsafeRawPointer(h + Self.headerSize))
    }

    /// libpcap's timestamp: 32-bit seconds and fraction, the fraction scaled
    /// to nanoseconds; signed as the installed libpcap reads them
    /// (``timeFieldsSigned``).
    @inline(__always)
    private static func timestamp(_ h: UnsafeMutableRawPointer, _ scale: Int64, signed: Bool) -> UInt64 {
        let rawSeconds = h.loadUnaligned(fromByteOffset: 0, as: UInt32.self), rawFraction = h.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
        let seconds = signed ? Int64(Int32(bitPattern: rawSeconds)) : Int64(rawSeconds)
        let fraction = (signed ? Int64(Int32(bitPattern: rawFraction)) : Int64(rawFraction)) &* scale
        return UInt64(truncatingIfNeeded: seconds) &* 1_000_000_000 &+ UInt64(truncatingIfNeeded: fraction)
    }

    /// Whether libpcap reads a record's seconds and fraction as signed (up to
    /// 1.10.4) or unsigned (from 1.10.5): asked once, of libpcap itself, with
    /// a record stamped 2^31 seconds.
    static let timeFieldsSigned: Bool = {
        var file: [UInt8] = [0xD4, 0xC3, 0xB2, 0xA1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 1, 0, 0, 0]
        file += [0, 0, 0, 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0]
        guard let handle = try? PcapHandle.openOffline(bytes: file), case .packet(let p)? = try? handle.next() else { return true }
        return p.timestamp != UInt64(1 << 31) * 1_000_000_000
    }()

    /// A record that is not wholly in the block, the end of the file, or a damaged record.
    @inline(never)
    private func nextSlowPath() -> Record {
        guard fill(atLeast: Self.headerSize) else {
            return end == position && readError == 0 ? .end : shortRead("\(Self.headerSize) header bytes", got: end - position)
        }
        let h = buffer + position
        let caplen = Int(h.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        let wireLength = Int(h.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        let timestamp = Self.timestamp(h, fractionScale, signed: signedTimes)
        if caplen > Self.maximumRecord {
            return .failure(caplen > snapshot
                            ? "invalid packet capture length \(caplen), bigger than snaplen of \(snapshot)"
                            : "invalid packet capture length \(caplen), bigger than maximum of \(Self.maximumRecord)")
        }
        // libpcap hands out at most the snapshot length and passes over the rest of a longer record.
        let kept = min(caplen, snapshot)
        guard fill(atLeast: Self.headerSize + kept) else { return shortRead("\(kept) captured bytes", got: end - position - Self.headerSize) }
        // The bytes past the snapshot length are passed over (the record may move to the block's start for them).
        if caplen > kept, !fill(atLeast: Self.headerSize + caplen) { return shortRead("\(caplen) captured bytes", got: end - position - Self.headerSize) }
        let bytes = UnsafeRawBufferPointer(start: buffer + position + Self.headerSize, count: kept)
        position += Self.headerSize + caplen
        return .packet(timestamp: timestamp, capturedLength: kept, wireLength: wireLength, bytes: bytes)
    }

    /// Makes at least `count` unparsed bytes available (false: the file ends, or fails, before).
    private func fill(atLeast count: Int) -> Bool {
        if end - position >= count { return true }
        // What is left of the block goes to its start; a block is read behind it.
        if position > 0 {
            let left = end - position
            if left > 0 { buffer.copyMemory(from: buffer + position, byteCount: left) }
            position = 0
            end = left
        }
        while end < count && !atEndOfFile && readError == 0 {
            // An interrupted read is read again (libpcap's fread would end the file with an error; a
            // stop signal is noticed by the caller between packets, and only network file systems interrupt reads).
            let offset = bytesRead.load(ordering: .relaxed)
            let n = pread(descriptor, buffer + end, min(Self.blockSize, capacity - end), off_t(offset))
            if n > 0 {
                end += n
                bytesRead.store(offset + n, ordering: .relaxed)
            } else if n == 0 {
                atEndOfFile = true
            } else if errno != EINTR {
                readError = errno
            }
        }
        return end - position >= count
    }

    /// A record the file ends, or fails, inside of, in libpcap's words.
    private func shortRead(_ wanted: String, got: Int) -> Record {
        .failure(readError != 0 ? "error reading dump file: \(String(cString: strerror(readError)))"
                                : "truncated dump file; tried to read \(wanted), only got \(got)")
    }
}
