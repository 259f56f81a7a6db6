import Inspect
#if canImport(Glibc)
import Glibc
#endif

/// What the evidence recorder knows of one flow's secrets: their bytes as
/// they crossed the wire, and the sides whose payload must be withheld
/// whole because a secret was sent there whose bytes are not known.
struct FlowSecrets {
    private(set) var values: [[UInt8]] = []
    var withholdInitiator = false
    var withholdResponder = false
    /// Distinct secrets kept per flow; beyond, the initiator's payload is withheld.
    static let limit = 32

    mutating func add(_ secret: WireSecret) {
        guard !secret.bytes.isEmpty, !values.contains(secret.bytes) else { return }
        if values.count >= Self.limit {
            withholdInitiator = true
            return
        }
        values.append(secret.bytes)
    }

    var isEmpty: Bool { values.isEmpty && !withholdInitiator && !withholdResponder }
}

/// Overwrites secrets in the packets of an evidence file, byte for byte with
/// `*`, so that lengths, checksums aside, and the rest of each packet still
/// decode. A TCP direction is searched as a stream (a password typed a
/// character per segment is found across its segments), with the partial
/// matches at the edges of what the file holds of the stream masked too;
/// other datagrams are searched one by one. A secret of the flow that is
/// found nowhere in the file (typed with corrections, say) withholds the
/// initiator's whole payload: a password is never written.
enum SecretMasking {
    static let maskByte: UInt8 = 0x2A
    /// Secrets shorter than this are masked only in what the initiator sent
    /// (a one-character password would otherwise blot out every reply).
    static let shortSecret = 4
    /// Runs of contiguous stream bytes longer than this in one file are withheld rather than searched.
    static let maximumStream = 8 << 20

    /// What masking a file did.
    struct Outcome {
        /// Bytes overwritten.
        var masked = 0
        /// Whether a side's whole payload was withheld.
        var withheld = false
    }

    /// Masks `secrets` in `packets`. `cutAtEnd`: the flow went on after the
    /// file's last packets (a secret may begin in them and end beyond).
    @discardableResult
    static func mask(_ packets: inout [StoredPacket], _ secrets: FlowSecrets, cutAtEnd: Bool = true) -> Outcome {
        guard !secrets.isEmpty, !packets.isEmpty else { return Outcome() }
        var masked = 0
        var withholdInitiator = secrets.withholdInitiator
        let withholdResponder = secrets.withholdResponder
        if !secrets.values.isEmpty {
            var found = [Bool](repeating: false, count: secrets.values.count)
            for initiator in [true, false] {
                masked += maskStream(&packets, initiator: initiator, secrets.values, cutAtEnd: cutAtEnd, &found, &withholdInitiator)
            }
            masked += maskDatagrams(&packets, secrets.values, &found)
            if found.contains(false) { withholdInitiator = true }
        }
        if withholdInitiator || withholdResponder {
            for i in packets.indices where packets[i].fromInitiator ? withholdInitiator : withholdResponder {
                masked += overwrite(&packets[i], packets[i].payloadRange)
            }
        }
        return Outcome(masked: masked, withheld: withholdInitiator || withholdResponder)
    }

    /// NTLM's answer to a challenge (an AUTHENTICATE message: its LM and NT
    /// responses let the password be guessed offline, as a VNC response or a
    /// MySQL scramble do), wherever it crosses the wire: raw, in telnet, SMB
    /// and other binary protocols, or in base64 after `NTLM ` or `Negotiate `
    /// in an HTTP header (WinRM), bare or wrapped in SPNEGO. No inspector needs to have recognised the
    /// flow: every file's payload is searched. Raw, the two responses are
    /// overwritten where the message says they are (the rest, user and domain
    /// names, still decodes), or the payload from the message on when it says
    /// nothing usable; in base64, the whole token.
    ///
    /// Likewise Kerberos: every `EncryptedData` (RFC 4120: an encryption type,
    /// a key version, a cipher) has its cipher overwritten, wherever it is
    /// found (KDC exchanges on port 88, GSS-API tokens in SMB, LDAP or HTTP):
    /// an AS-REQ's encrypted timestamp and an AS-REP's part encrypted with the
    /// user's key let the password be guessed offline, a service ticket the
    /// service account's. Names, realms and times still decode.
    static func maskNTLMResponses(_ packets: inout [StoredPacket]) -> Int {
        var masked = 0
        // Each TCP direction as a stream, placed by sequence number: a message, a header or the marker itself
        // split across segments is found whole, and a retransmitted or duplicated segment gets the same mask.
        for initiator in [true, false] {
            masked += maskStreamRuns(&packets, initiator: initiator) { maskRawNTLM($0) + maskBase64NTLM($0) + maskKerberosCiphers($0) }
        }
        // Datagrams one by one.
        for i in packets.indices where !packets[i].isTCP {
            let range = packets[i].payloadRange
            guard range.count >= 12 else { continue }
            masked += packets[i].bytes.withUnsafeMutableBytes { raw -> Int in
                let payload = UnsafeMutableRawBufferPointer(rebasing: raw[range])
                return maskRawNTLM(payload) + maskBase64NTLM(payload) + maskKerberosCiphers(payload)
            }
        }
        return masked
    }

    /// Runs `masker` on each run of one TCP direction's contiguous stream
    /// bytes (``StreamRuns``), and overwrites every byte it masked in every
    /// segment that holds it. Returns the bytes overwritten.
    private static func maskStreamRuns(_ packets: inout [StoredPacket], initiator: Bool, _ masker: (UnsafeMutableRawBufferPointer) -> Int) -> Int {
        guard let stream = StreamRuns(packets, initiator: initiator) else { return 0 }
        var n = 0
        for run in stream.runs {
            let bytes = stream.bytes(of: run, packets)
            var masked = bytes
            guard masked.withUnsafeMutableBytes(masker) > 0 else { continue }
            n += stream.overwrite(run, where: bytes.indices.map { masked[$0] != bytes[$0] }, &packets)
        }
        return n
    }

    /// "NTLMSSP" and a NUL, then message type 3.
    private static let ntlmAuthenticate: [UInt8] = [0x4E, 0x54, 0x4C, 0x4D, 0x53, 0x53, 0x50, 0x00, 0x03, 0x00, 0x00, 0x00]
    /// Base64 of the same 12 bytes.
    private static let ntlmAuthenticateBase64: [UInt8] = Array("TlRMTVNTUAADAAAA".utf8)

    private static func find(_ needle: [UInt8], in haystack: UnsafeMutableRawBufferPointer, from start: Int) -> Int? {
        guard let base = haystack.baseAddress else { return nil }
        // memchr (vectorised) for the first byte, then the rest compared.
        var i = start
        while i + needle.count <= haystack.count {
            guard let hit = memchr(base + i, Int32(needle[0]), haystack.count - needle.count + 1 - i) else { return nil }
            let at = base.distance(to: hit)
            if needle.withUnsafeBytes({ memcmp(base + at, $0.baseAddress!, needle.count) }) == 0 { return at }
            i = at + 1
        }
        return nil
    }

    private static func maskRawNTLM(_ payload: UnsafeMutableRawBufferPointer) -> Int {
        var masked = 0, start = 0
        let count = UInt64(payload.count)
        while let at = find(ntlmAuthenticate, in: payload, from: start) {
            start = at + ntlmAuthenticate.count
            // The LM and NT responses' security buffers: length (2), allocated (2), offset (4) from the message's
            // start; in 64-bit arithmetic (the numbers are the sender's, not to be trusted).
            var low = UInt64.max, high = UInt64(0)
            var usable = at + 28 <= payload.count
            for field in [12, 20] where usable {
                let f = at + field
                let length = UInt64(payload[f]) | UInt64(payload[f + 1]) << 8
                let offset = UInt64(payload[f + 4]) | UInt64(payload[f + 5]) << 8 | UInt64(payload[f + 6]) << 16 | UInt64(payload[f + 7]) << 24
                let first = UInt64(at) + offset, end = first + length
                if end <= count { low = min(low, first); high = max(high, end) } else { usable = false }
            }
            var range = at..<payload.count
            if usable && low < high {
                // From the first response to the last one's end, and one byte further for each 0xFF before it:
                // telnet doubles them on the wire, so the bytes lie later than the message's offsets say.
                var end = Int(high), doubled = 0
                while true {
                    let seen = (at..<min(end, payload.count)).reduce(0) { $0 + (payload[$1] == 0xFF ? 1 : 0) }
                    if seen <= doubled || end >= payload.count { break }
                    end += seen - doubled
                    doubled = seen
                }
                range = Int(low)..<min(end, payload.count)
            }
            for j in range where payload[j] != maskByte {
                payload[j] = maskByte
                masked += 1
            }
        }
        return masked
    }

    private static func maskBase64NTLM(_ payload: UnsafeMutableRawBufferPointer) -> Int {
        var masked = 0, start = 0
        func mask(from at: Int) -> Int {
            var end = at
            while end < payload.count, isBase64(payload[end]) { end += 1 }
            for j in at..<end where payload[j] != maskByte {
                payload[j] = maskByte
                masked += 1
            }
            return end
        }
        while let at = find(ntlmAuthenticateBase64, in: payload, from: start) { start = mask(from: at) }
        // The same message wrapped in SPNEGO (ASN.1, then base64) after "Negotiate ": decoded to be recognised.
        start = 0
        while let at = find(negotiate, in: payload, from: start) {
            let token = at + negotiate.count
            var end = token
            while end < payload.count, isBase64(payload[end]) { end += 1 }
            start = max(end, at + 1)
            guard end - token >= 16 else { continue }
            guard var decoded = Base64.decode(UnsafeMutableRawBufferPointer(rebasing: payload[token..<end])) else { continue }
            // NTLM, or Kerberos (an AP-REQ's service ticket): the token goes whole.
            let holdsResponse = decoded.withUnsafeMutableBytes { find(ntlmAuthenticate, in: $0, from: 0) != nil || maskKerberosCiphers($0) > 0 }
            if holdsResponse { _ = mask(from: token) }
        }
        return masked
    }

    private static let negotiate: [UInt8] = Array("Negotiate ".utf8)

    /// Overwrites the cipher of every Kerberos `EncryptedData` in `payload`:
    /// DER `SEQUENCE { [0] INTEGER etype, [1] INTEGER kvno OPTIONAL, [2] OCTET STRING cipher }`,
    /// recognised by its shape and lengths agreeing (the sequence's length is
    /// exactly its three parts'). A cipher cut off by the payload's end is masked to the end.
    static func maskKerberosCiphers(_ payload: UnsafeMutableRawBufferPointer) -> Int {
        var masked = 0, start = 0
        while let at = find(encryptionType, in: payload, from: start) {
            start = at + 1
            guard at + 5 < payload.count else { continue }
            // The etype's byte, then the key version if there is one.
            var i = at + 5
            if payload[i] == 0xA1 {
                // The key version: an INTEGER.
                guard let version = derLength(payload, at: i + 1), i + 1 + version.size < payload.count, payload[i + 1 + version.size] == 0x02 else { continue }
                i += 1 + version.size + version.length
            }
            guard i + 1 < payload.count, payload[i] == 0xA2, let wrapper = derLength(payload, at: i + 1) else { continue }
            let octets = i + 1 + wrapper.size
            guard octets + 1 < payload.count, payload[octets] == 0x04, let cipher = derLength(payload, at: octets + 1),
                  wrapper.length == 1 + cipher.size + cipher.length else { continue }
            let first = octets + 1 + cipher.size, end = first + cipher.length
            guard cipher.length > 0, hasSequenceHeader(payload, before: at, length: end - at) else { continue }
            for j in first..<min(end, payload.count) where payload[j] != maskByte {
                payload[j] = maskByte
                masked += 1
            }
            start = max(start, min(end, payload.count))
        }
        return masked
    }

    /// `[0] INTEGER` of one byte: an EncryptedData's encryption type (and its first part).
    private static let encryptionType: [UInt8] = [0xA0, 0x03, 0x02, 0x01]

    /// Whether a SEQUENCE header of content `length` ends just before `at`, in any of DER's length forms
    /// (each tried: `30 82 30 45` is a long form whose high byte looks like a short form's tag).
    private static func hasSequenceHeader(_ p: UnsafeMutableRawBufferPointer, before at: Int, length: Int) -> Bool {
        for size in 1...3 where at - 1 - size >= 0 && p[at - 1 - size] == 0x30 {
            if let l = derLength(p, at: at - size), l.size == size, l.length == length { return true }
        }
        return false
    }

    /// A DER length at `i`: its value and how many bytes it takes (short form, or long form of one or two bytes).
    private static func derLength(_ p: UnsafeMutableRawBufferPointer, at i: Int) -> (length: Int, size: Int)? {
        guard i < p.count else { return nil }
        let b = p[i]
        if b < 0x80 { return (Int(b), 1) }
        if b == 0x81, i + 1 < p.count { return (Int(p[i + 1]), 2) }
        if b == 0x82, i + 2 < p.count { return (Int(p[i + 1]) << 8 | Int(p[i + 2]), 3) }
        return nil
    }

    private static func isBase64(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2B || b == 0x2F || b == 0x3D
    }

    private static func overwrite(_ p: inout StoredPacket, _ range: Range<Int>) -> Int {
        var n = 0
        for i in range where p.bytes[i] != maskByte {
            p.bytes[i] = maskByte
            n += 1
        }
        return n
    }

    /// One TCP direction as a stream: the bytes the file holds, placed by
    /// sequence number, in runs of contiguous bytes (work and memory in
    /// proportion to the payload, however far apart the segments are).
    private static func maskStream(_ packets: inout [StoredPacket], initiator: Bool, _ values: [[UInt8]], cutAtEnd: Bool, _ found: inout [Bool],
                                   _ withholdInitiator: inout Bool) -> Int {
        guard let stream = StreamRuns(packets, initiator: initiator) else { return 0 }
        // With the direction's SYN in the file, its stream's first byte is known: nothing of a secret came before it.
        let start = packets.first { $0.isTCP && $0.isSYN && $0.fromInitiator == initiator }.map { Int(Int32(bitPattern: $0.header.sequence &+ 1 &- stream.base)) }
        var n = 0
        for (r, run) in stream.runs.enumerated() {
            guard run.end - run.start <= maximumStream else {
                for k in run.segments { n += overwrite(&packets[stream.places[k].index], packets[stream.places[k].index].payloadRange) }
                if initiator { withholdInitiator = true }
                continue
            }
            let bytes = stream.bytes(of: run, packets)
            var hide = [Bool](repeating: false, count: bytes.count)
            // A run's edges may cut a secret where bytes are missing: before it (unless
            // it starts the stream), after it (unless it ends what the flow sent).
            let cutBefore = start.map { run.start != $0 } ?? true
            let cutAfter = r + 1 < stream.runs.count || cutAtEnd
            markRun(bytes, 0..<bytes.count, values, initiator: initiator, cutBefore: cutBefore, cutAfter: cutAfter, &found, &hide)
            if hide.contains(true) { n += stream.overwrite(run, where: hide, &packets) }
        }
        return n
    }

    /// Marks in `hide` every occurrence of a secret inside `run`, and the
    /// parts of one cut off at the run's edges.
    private static func markRun(_ s: [UInt8], _ run: Range<Int>, _ values: [[UInt8]], initiator: Bool, cutBefore: Bool, cutAfter: Bool,
                                _ found: inout [Bool], _ hide: inout [Bool]) {
        for (v, value) in values.enumerated() {
            if !initiator && value.count < shortSecret { continue }
            for start in occurrences(of: value, in: s, run) {
                found[v] = true
                for k in start..<(start + value.count) { hide[k] = true }
            }
            // A secret begun before the run's start or running past its end.
            for k in stride(from: min(value.count - 1, run.count), through: 1, by: -1) where cutAfter {
                if s[(run.upperBound - k)..<run.upperBound].elementsEqual(value[0..<k]) {
                    for x in (run.upperBound - k)..<run.upperBound { hide[x] = true }
                    break
                }
            }
            for k in stride(from: min(value.count - 1, run.count), through: 1, by: -1) where cutBefore {
                if s[run.lowerBound..<(run.lowerBound + k)].elementsEqual(value[(value.count - k)...]) {
                    for x in run.lowerBound..<(run.lowerBound + k) { hide[x] = true }
                    break
                }
            }
        }
    }

    /// Start indexes of `needle` in `haystack[range]`.
    static func occurrences(of needle: [UInt8], in haystack: [UInt8], _ range: Range<Int>) -> [Int] {
        guard let first = needle.first, needle.count <= range.count else { return [] }
        var result: [Int] = []
        var i = range.lowerBound
        let last = range.upperBound - needle.count
        while i <= last {
            if haystack[i] == first && haystack[i..<(i + needle.count)].elementsEqual(needle) {
                result.append(i)
                i += needle.count
            } else {
                i += 1
            }
        }
        return result
    }

    /// Every packet that is not TCP, one by one (SNMP repeats its community in each).
    private static func maskDatagrams(_ packets: inout [StoredPacket], _ values: [[UInt8]], _ found: inout [Bool]) -> Int {
        var n = 0
        for i in packets.indices where !packets[i].isTCP {
            let range = packets[i].payloadRange
            guard !range.isEmpty else { continue }
            for (v, value) in values.enumerated() {
                if !packets[i].fromInitiator && value.count < shortSecret { continue }
                for start in occurrences(of: value, in: packets[i].bytes, range) {
                    found[v] = true
                    n += overwrite(&packets[i], start..<(start + value.count))
                }
            }
        }
        return n
    }
}

/// One TCP direction's segments in an evidence file, placed by sequence
/// number (relative to the first's: sequence numbers wrap), in runs of
/// segments that touch or overlap: work and memory in proportion to the
/// payload, however far apart the segments are.
private struct StreamRuns {
    /// The first segment's sequence number.
    let base: UInt32
    /// Each segment's packet and place, in stream order.
    let places: [(index: Int, start: Int)]
    /// Each run: its segments (indexes into `places`) and its stream bytes' range.
    let runs: [(segments: Range<Int>, start: Int, end: Int)]

    init?(_ packets: [StoredPacket], initiator: Bool) {
        let members = packets.indices.filter { packets[$0].isTCP && packets[$0].fromInitiator == initiator && !packets[$0].payloadRange.isEmpty }
        guard let first = members.first else { return nil }
        let base = packets[first].header.sequence
        let places = members.map { (index: $0, start: Int(Int32(bitPattern: packets[$0].header.sequence &- base))) }
            .sorted { ($0.start, $0.index) < ($1.start, $1.index) }
        var runs: [(segments: Range<Int>, start: Int, end: Int)] = []
        var i = 0
        while i < places.count {
            let start = places[i].start
            var end = start + packets[places[i].index].payloadRange.count
            var j = i + 1
            while j < places.count && places[j].start <= end {
                end = max(end, places[j].start + packets[places[j].index].payloadRange.count)
                j += 1
            }
            runs.append((i..<j, start, end))
            i = j
        }
        (self.base, self.places, self.runs) = (base, places, runs)
    }

    /// A run's bytes (of overlapping segments, the first copy's).
    func bytes(of run: (segments: Range<Int>, start: Int, end: Int), _ packets: [StoredPacket]) -> [UInt8] {
        var stream = [UInt8](repeating: 0, count: run.end - run.start)
        var held = [Bool](repeating: false, count: stream.count)
        for k in run.segments {
            let p = places[k], range = packets[p.index].payloadRange
            for (x, b) in packets[p.index].bytes[range].enumerated() where !held[p.start - run.start + x] {
                stream[p.start - run.start + x] = b
                held[p.start - run.start + x] = true
            }
        }
        return stream
    }

    /// Overwrites the run's bytes marked in `hide` in every segment that holds them; returns how many changed.
    func overwrite(_ run: (segments: Range<Int>, start: Int, end: Int), where hide: [Bool], _ packets: inout [StoredPacket]) -> Int {
        var n = 0
        for k in run.segments {
            let p = places[k], range = packets[p.index].payloadRange
            for x in 0..<range.count where hide[p.start - run.start + x] && packets[p.index].bytes[range.lowerBound + x] != SecretMasking.maskByte {
                packets[p.index].bytes[range.lowerBound + x] = SecretMasking.maskByte
                n += 1
            }
        }
        return n
    }
}
