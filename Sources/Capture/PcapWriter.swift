import CPcap

/// Writes packets to a pcap file through libpcap (evidence files, test captures).
///
/// Not thread-safe. The file is complete once ``close()`` returns or the writer
/// is released.
public final class PcapWriter {
    private let dead: OpaquePointer
    private var dumper: OpaquePointer?
    public let path: String
    public let linkType: LinkType
    public private(set) var packetsWritten = 0

    /// Creates (or truncates) `path` as a nanosecond-precision pcap file.
    ///
    /// The corresponding C functions are `pcap_open_dead_with_tstamp_precision` and `pcap_dump_open`.
    public init(path: String, linkType: LinkType = .ethernet, snaplen: Int32 = 262_144) throws(CaptureError) {
        guard let dead = Libpcap.openDead(linkType: linkType.rawValue, snaplen: snaplen) else {
            throw CaptureError(.write, source: path, message: "cannot create a pcap handle for link type \(linkType.rawValue)")
        }
        guard let dumper = Libpcap.dumpOpen(dead, path) else {
            let message = Libpcap.geterr(dead)
            Libpcap.close(dead)
            throw CaptureError(.write, source: path, message: message)
        }
        self.dead = dead
        self.dumper = dumper
        self.path = path
        self.linkType = linkType
    }

    /// Appends one packet.
    ///
    /// - Parameters:
    ///   - timestamp: nanoseconds since the Unix epoch.
    ///   - wireLength: the original length; `nil` means the bytes are the whole packet.
    public func write(timestamp: UInt64, bytes: UnsafeRawBufferPointer, wireLength: Int? = nil) {
        guard let dumper, let base = bytes.baseAddress else { return }
        var header = pcap_pkthdr()
        header.ts.tv_sec = Int(timestamp / 1_000_000_000)
        header.ts.tv_usec = Int(timestamp % 1_000_000_000)
        header.caplen = UInt32(bytes.count)
        header.len = UInt32(wireLength ?? bytes.count)
        Libpcap.dump(dumper, &header, base.assumingMemoryBound(to: UInt8.self))
        packetsWritten += 1
    }

    /// Appends one packet from an array of bytes.
    public func write(timestamp: UInt64, bytes: [UInt8], wireLength: Int? = nil) {
        bytes.withUnsafeBytes { write(timestamp: timestamp, bytes: $0, wireLength: wireLength) }
    }

    /// Flushes and closes the file.
    public func close() throws(CaptureError) {
        guard let dumper else { return }
        let failed = Libpcap.dumpFlush(dumper) != 0
        Libpcap.dumpClose(dumper)
        self.dumper = nil
        if failed { throw CaptureError(.write, source: path, message: "could not flush the capture file") }
    }

    deinit {
        if let dumper { Libpcap.dumpClose(dumper) }
        Libpcap.close(dead)
    }
}
