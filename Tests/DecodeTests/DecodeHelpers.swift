import CaptureBuilder
import Decode
import Vocabulary

extension LinkLayer {
    // The link layers by libpcap's link type numbers, for the tests.
    static let linuxSLL = LinkLayer(linkType: 113)!
    static let linuxSLL2 = LinkLayer(linkType: 276)!
    static let rawIP = LinkLayer(linkType: 12)!
    static let null = LinkLayer(linkType: 0)!
    static let loop = LinkLayer(linkType: 108)!
}

/// Decodes `bytes` as a packet of link type `link`.
func decode(_ bytes: [UInt8], link: LinkLayer = .ethernet, decoder: PacketDecoder = PacketDecoder()) -> DecodedPacket {
    var p = DecodedPacket()
    p.reset(timestamp: 1, capturedLength: bytes.count, wireLength: bytes.count)
    bytes.withUnsafeBytes { raw in
        // Decode from an exact-size copy so that nothing past the end is valid memory of the frame.
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(raw.count, 1), alignment: 1)
        defer { copy.deallocate() }
        if raw.count > 0 { copy.copyMemory(from: raw) }
        decoder.decode(ByteView(base: UnsafeRawPointer(copy.baseAddress!), count: raw.count), link: link, into: &p)
    }
    return p
}

let macA = MACAddress("02:00:00:00:00:0a")!
let macB = MACAddress("02:00:00:00:00:0b")!
let v4a = IPAddress("192.0.2.1")!
let v4b = IPAddress("198.51.100.2")!
let v6a = IPAddress("2001:db8::1")!
let v6b = IPAddress("2001:db8::2")!

func tcpSegment(_ a: IPAddress = v4a, _ b: IPAddress = v4b, sport: UInt16 = 40000, dport: UInt16 = 443, flags: UInt8 = 0x02, payload: [UInt8] = []) -> [UInt8] {
    Frames.tcp(source: a, destination: b, sourcePort: sport, destinationPort: dport, sequence: 1, acknowledgement: 0, flags: flags, payload: payload)
}

func ipv4TCP(_ a: IPAddress = v4a, _ b: IPAddress = v4b, dport: UInt16 = 443, payload: [UInt8] = []) -> [UInt8] {
    Frames.ipv4(source: a, destination: b, proto: 6, payload: tcpSegment(a, b, dport: dport, payload: payload))
}

func ether(_ payload: [UInt8], type: UInt16 = 0x0800, tags: [VLANTag] = []) -> [UInt8] {
    Frames.ethernet(source: macA, destination: macB, tags: tags, etherType: type, payload: payload)
}
