#if canImport(Glibc)
import Glibc
#endif

/// Finds when a capture's last packet was taken from its record headers
/// alone (pcap records, pcapng blocks), without decoding a packet: how
/// `--since` tells a file that ends before the window from one that reaches
/// into it. Fed the file's bytes in pieces of any size, so that a compressed
/// file is scanned as it is decompressed.
public struct LastPacketScanner {
    private enum State {
        /// The first 4 bytes say pcap or pcapng.
        case magic
        case pcapHeader
        case pcapRecord
        /// A pcapng block's first 12 bytes (type, length, and the byte-order magic of a section header).
        case blockStart
        /// The rest of an interface description block (its options hold the timestamp resolution).
        case interface(length: Int)
        /// An enhanced (or obsolete) packet block's interface and timestamp.
        case packet(length: Int)
        /// A block's closing copy of its length, which must match its opening one.
        case blockEnd(length: Int)
    }

    private var state = State.magic
    /// Bytes of the header being gathered, and how many it needs.
    private var pending: [UInt8] = []
    private var need = 4
    /// Bytes to pass over (a packet's data, the rest of a block).
    private var skip = 0
    private var bigEndian = false
    private var nanoseconds = false
    /// pcapng: per interface of the section, its timestamp resolution and offset.
    private var interfaces: [(resolution: UInt8, offsetSeconds: UInt64)] = []

    /// The latest timestamp of the packets seen (nanoseconds since the epoch):
    /// the latest, not the last, since a file's records need not be in time
    /// order (several interfaces in one pcapng file).
    public private(set) var last: UInt64?
    /// The bytes are not a capture, or its headers make no sense: `last` is not to be trusted.
    public private(set) var broken = false

    public init() {}

    /// Scans the next piece of the file.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        var i = 0
        while i < bytes.count && !broken {
            if skip > 0 {
                let k = min(skip, bytes.count - i)
                skip -= k
                i += k
                continue
            }
            let k = min(need - pending.count, bytes.count - i)
            pending.append(contentsOf: bytes[i..<(i + k)])
            i += k
            if pending.count == need { parse() }
        }
    }

    private func word(_ at: Int) -> UInt32 {
        let v = UInt32(pending[at]) << 24 | UInt32(pending[at + 1]) << 16 | UInt32(pending[at + 2]) << 8 | UInt32(pending[at + 3])
        return bigEndian ? v : v.byteSwapped
    }

    private func half(_ at: Int) -> UInt16 {
        let v = UInt16(pending[at]) << 8 | UInt16(pending[at + 1])
        return bigEndian ? v : v.byteSwapped
    }

    private mutating func expect(_ count: Int, _ next: State) {
        pending.removeAll(keepingCapacity: true)
        need = count
        state = next
    }

    private mutating func parse() {
        switch state {
        case .magic:
            bigEndian = true
            switch word(0) {
            case 0xA1B2_C3D4: (bigEndian, nanoseconds) = (true, false)
            case 0xD4C3_B2A1: (bigEndian, nanoseconds) = (false, false)
            case 0xA1B2_3C4D: (bigEndian, nanoseconds) = (true, true)
            case 0x4D3C_B2A1: (bigEndian, nanoseconds) = (false, true)
            case 0x0A0D_0D0A:
                need = 12
                state = .blockStart
                return
            default:
                broken = true
                return
            }
            need = 24
            state = .pcapHeader
        case .pcapHeader:
            expect(16, .pcapRecord)
        case .pcapRecord:
            let seconds = UInt64(word(0)), fraction = UInt64(word(4)), captured = Int(word(8))
            guard captured <= 0x1000_0000 else { broken = true; return }
            seen(seconds &* 1_000_000_000 &+ fraction &* (nanoseconds ? 1 : 1000))
            skip = captured
            expect(16, .pcapRecord)
        case .blockStart:
            var type = word(0)
            if type == 0x0A0D_0D0A {
                // A section header: its byte-order magic says how to read the section.
                switch UInt32(pending[8]) << 24 | UInt32(pending[9]) << 16 | UInt32(pending[10]) << 8 | UInt32(pending[11]) {
                case 0x1A2B_3C4D: bigEndian = true
                case 0x4D3C_2B1A: bigEndian = false
                default: broken = true; return
                }
                interfaces = []
                type = word(0)
            }
            let length = Int(word(4))
            guard length >= 12, length % 4 == 0, length <= 0x1000_0000 else { broken = true; return }
            switch type {
            case 1:
                // An interface the packets name by its index: one too large to read spoils what follows.
                guard length <= 1 << 16 else { broken = true; return }
                need = length
                state = .interface(length: length)
            case 2, 6:
                guard length >= 24 else { broken = true; return }
                need = 20
                state = .packet(length: length)
            default:
                closeBlock(length: length, gathered: 12)
            }
        case .interface(let length):
            guard length >= 20, Int(word(length - 4)) == length else { broken = true; return }
            var resolution: UInt8 = 6, offset: UInt64 = 0
            // Options follow the link type, reserved half and snapshot length; the block ends with its length again.
            var at = 16
            while at + 4 <= length - 4 {
                let code = half(at), size = Int(half(at + 2))
                if code == 0 { break }
                guard at + 4 + size <= length - 4 else { broken = true; return }
                if code == 9 && size >= 1 { resolution = pending[at + 4] }
                if code == 14 && size >= 8 {
                    // A 64-bit value in the section's byte order.
                    let first = UInt64(word(at + 4)), second = UInt64(word(at + 8))
                    offset = bigEndian ? first << 32 | second : second << 32 | first
                }
                at += 4 + (size + 3) / 4 * 4
            }
            interfaces.append((resolution, offset))
            expect(12, .blockStart)
        case .packet(let length):
            // An obsolete packet block's interface id is 16 bits, followed by a drop count.
            let interface = word(0) == 2 ? Int(half(8)) : Int(word(8))
            let units = UInt64(word(12)) << 32 | UInt64(word(16))
            guard interface < interfaces.count else { broken = true; return }
            let (resolution, offset) = interfaces[interface]
            seen(Self.nanoseconds(units, resolution: resolution) &+ offset &* 1_000_000_000)
            closeBlock(length: length, gathered: 20)
        case .blockEnd(let length):
            guard Int(word(0)) == length else { broken = true; return }
            expect(12, .blockStart)
        }
    }

    private mutating func seen(_ timestamp: UInt64) {
        last = max(last ?? 0, timestamp)
    }

    /// Passes over the rest of a block but its closing length, then checks that.
    private mutating func closeBlock(length: Int, gathered: Int) {
        if length == gathered {
            // A block of no body: its closing length was among the bytes gathered.
            guard Int(word(length - 4)) == length else { broken = true; return }
            expect(12, .blockStart)
            return
        }
        skip = length - gathered - 4
        expect(4, .blockEnd(length: length))
    }

    /// A pcapng timestamp in nanoseconds: `resolution` is a negative power
    /// of 10, or of 2 when its high bit is set (if_tsresol).
    static func nanoseconds(_ units: UInt64, resolution: UInt8) -> UInt64 {
        if resolution & 0x80 == 0 {
            let power = Int(resolution)
            if power <= 9 {
                var scale: UInt64 = 1
                for _ in power..<9 { scale *= 10 }
                return units &* scale
            }
            var divisor: UInt64 = 1
            for _ in 9..<min(power, 28) { divisor = divisor &* 10 }
            return units / divisor
        }
        let shift = UInt64(resolution & 0x7F)
        guard shift > 0 else { return units &* 1_000_000_000 }
        guard shift < 64 else { return 0 }
        let whole = units >> shift, fraction = units & ((1 << shift) - 1)
        // fraction * 10^9 / 2^shift, from the 128-bit product.
        let product = fraction.multipliedFullWidth(by: 1_000_000_000)
        return whole &* 1_000_000_000 &+ (product.high << (64 - shift) | product.low >> shift)
    }
}

extension LastPacketScanner {
    /// The timestamp of the last packet of the capture file at `path`,
    /// plain or compressed (decompressed as it is read, nothing decoded):
    /// nil if it holds no packet or is not a capture.
    public static func lastTimestamp(ofFile path: String) -> UInt64? {
        var scanner = LastPacketScanner()
        if let compression = PcapHandle.compression(of: path) {
            guard compression.decompress(path: path, { scanner.feed($0); return !scanner.broken }) else { return nil }
        } else {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return nil }
            defer { close(fd) }
            let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
            defer { chunk.deallocate() }
            while !scanner.broken {
                let n = read(fd, chunk.baseAddress, chunk.count)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                scanner.feed(UnsafeRawBufferPointer(rebasing: chunk[..<n]))
            }
        }
        return scanner.broken ? nil : scanner.last
    }
}
