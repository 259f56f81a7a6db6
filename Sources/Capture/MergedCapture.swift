/// Capture files that overlap in time, read as one capture: packet by packet
/// in timestamp order (the file with the earliest next packet first; of
/// equal timestamps, the file given first), as `mergecap` does.
///
/// Each file pauses at `pauseAt` (where the next file of an archive begins:
/// ``PcapHandle/pauseAfter``), so that a merge holds only the files open at
/// one moment. A file's error ends that file alone: it is handed to `ended`
/// and the others are read on.
public final class MergedCapture {
    /// The files, in the order given.
    public let handles: [PcapHandle]
    /// Each file's next packet (nil: the file has ended or paused).
    private var upcoming: [CapturedPacket?]
    /// The file the packet ``next()`` returned last came from.
    public private(set) var source = 0
    /// The first error of a file, and those after it.
    public private(set) var errors: [CaptureError] = []
    /// Called when a file ends (not when it pauses): its index and its error.
    private let ended: (Int, CaptureError?) -> Void

    /// Reads the first packet of every file.
    public init(_ handles: [PcapHandle], pauseAt: UInt64, ended: @escaping (Int, CaptureError?) -> Void) {
        self.handles = handles
        self.ended = ended
        upcoming = Array(repeating: nil, count: handles.count)
        for (i, h) in handles.enumerated() {
            h.pauseAfter = pauseAt
            h.resume()
            upcoming[i] = advance(i)
        }
    }

    /// The files that paused at `pauseAt` (they go on after it).
    public var paused: [PcapHandle] { handles.filter(\.isPaused) }

    /// The next packet of the merged capture, or `.end` once every file has
    /// ended or paused. The packet is valid until the next call.
    public func next() -> NextPacket {
        if pendingAdvance >= 0 {
            upcoming[pendingAdvance] = advance(pendingAdvance)
            pendingAdvance = -1
        }
        var earliest = -1
        var time = UInt64.max
        for i in upcoming.indices {
            if let p = upcoming[i], earliest < 0 || p.timestamp < time {
                earliest = i
                time = p.timestamp
            }
        }
        guard earliest >= 0, let packet = upcoming[earliest] else { return .end }
        source = earliest
        upcoming[earliest] = nil
        pendingAdvance = earliest
        return .packet(packet)
    }

    /// The file whose next packet is read at the start of the next call:
    /// reading it now would overwrite the packet just delivered.
    private var pendingAdvance = -1

    private func advance(_ i: Int) -> CapturedPacket? {
        let h = handles[i]
        do throws(CaptureError) {
            while true {
                switch try h.next() {
                case .packet(let p): return p
                case .timeout: continue
                case .end:
                    if !h.isPaused { ended(i, nil) }
                    return nil
                }
            }
        } catch {
            errors.append(error)
            ended(i, error)
            return nil
        }
    }
}
