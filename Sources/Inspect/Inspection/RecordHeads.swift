/// Cuts a stream of length-prefixed records (ONC RPC record marking, NetBIOS
/// session framing) into the first bytes of each record and skips the rest
/// without buffering it: a 1 MiB NFS WRITE or SMB READ costs a counter, not a copy.
struct RecordHeads {
    /// Bytes that carry a record's length.
    let lengthBytes: Int
    /// How much of each record is handed out, at most.
    let keep: Int
    /// A record's total length (header included) from its first `lengthBytes`, or nil if the stream is not framed as expected.
    let totalLength: @Sendable ([UInt8]) -> Int?
    private var head: [UInt8] = []
    private var total = 0
    private var skip = 0

    init(lengthBytes: Int, keep: Int, totalLength: @escaping @Sendable ([UInt8]) -> Int?) {
        self.lengthBytes = lengthBytes
        self.keep = keep
        self.totalLength = totalLength
    }

    /// Feeds stream bytes; calls `record` with each record's head (at most `keep`
    /// bytes) and its total length, until it returns false. Returns false if the
    /// framing broke (the caller should stop inspecting).
    mutating func feed(_ bytes: UnsafeRawBufferPointer, _ record: (_ head: [UInt8], _ total: Int) -> Bool) -> Bool {
        var i = 0
        // Room for a whole head once: grown from the length bytes it would be allocated twice.
        if head.capacity < keep { head.reserveCapacity(keep) }
        while i < bytes.count {
            if skip > 0 {
                let n = min(skip, bytes.count - i)
                skip -= n
                i += n
                continue
            }
            let wanted = total == 0 ? lengthBytes : min(total, keep)
            let n = min(wanted - head.count, bytes.count - i)
            head.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<(i + n)]))
            i += n
            guard head.count == wanted else { return true }  // the rest comes with the next bytes
            if total == 0 {
                guard let t = totalLength(head), t >= lengthBytes else { return false }
                total = t
                if head.count < min(total, keep) { continue }
            }
            let more = record(head, total)
            skip = total - head.count
            total = 0
            head.removeAll(keepingCapacity: true)
            if !more { return true }
        }
        return true
    }
}
