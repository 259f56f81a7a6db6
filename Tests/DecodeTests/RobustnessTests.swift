import CaptureBuilder
import Decode
import Testing
import Vocabulary

/// Frames that exercise many layers; every prefix of each must decode without
/// trapping, and a cut frame must not look complete.
let complexFrames: [(String, [UInt8], LinkLayer)] = [
    ("vxlan", underlayUDP(port: 4789, Frames.vxlan(vni: 5000, inner: innerFrame(tags: [Frames.dot1q(101)]))), .ethernet),
    ("geneve", underlayUDP(port: 6081, Frames.geneve(vni: 3, optionWords: 2, inner: innerFrame())), .ethernet),
    ("erspan3", underlayGRE(Frames.gre(protocolType: 0x22EB, sequence: 1, payload: Frames.erspan3(vlan: 20, session: 7, platformSubheader: true, inner: innerFrame()))), .ethernet),
    ("qinq-mpls", ether(Frames.mpls(labels: [1, 2], payload: ipv4TCP(payload: [1, 2, 3])), type: 0x8847, tags: [Frames.dot1ad(5), Frames.dot1q(6)]), .ethernet),
    ("ipv6-ext", ether(Frames.ipv6(source: v6a, destination: v6b, nextHeader: 6, payload: tcpSegment(v6a, v6b, payload: [9]), extensions: [Frames.ipv6OptionsHeader(type: 0), Frames.ipv6FragmentHeader(offset: 0, more: true, identification: 1)]), type: 0x86DD), .ethernet),
    ("6in4", ether(Frames.ipv4(source: vtepA, destination: vtepB, proto: 41, payload: Frames.ipv6(source: v6a, destination: v6b, nextHeader: 17, payload: Frames.udp(source: v6a, destination: v6b, sourcePort: 1, destinationPort: 2, payload: [1])))), .ethernet),
    ("sll2", Frames.linuxSLL2(source: macA, protocolType: 0x0800, payload: ipv4TCP()), .linuxSLL2),
    ("pppoe", ether(Frames.pppoeSession(sessionID: 1, payload: ipv4TCP()), type: 0x8864, tags: [Frames.dot1q(3704), Frames.dot1q(2474)]), .ethernet),
]

@Suite("Robustness")
struct RobustnessTests {
    @Test(arguments: complexFrames.map { $0.0 })
    func everyTruncationDecodesSafely(name: String) {
        let (_, frame, link) = complexFrames.first { $0.0 == name }!
        let full = decode(frame, link: link)
        #expect(full.anomaly == nil, "the complete \(name) frame is well-formed")
        for length in 0..<frame.count {
            let p = decode(Array(frame.prefix(length)), link: link)
            let complete = p.anomaly == nil && p.hasTransport == full.hasTransport && p.tunnels.count == full.tunnels.count
                && p.payloadLength == full.payloadLength && p.network == full.network
            #expect(!complete, "\(name) cut to \(length) of \(frame.count) bytes decoded as if whole")
        }
    }

    @Test func randomBytesNeverTrap() {
        var rng = SeededRandom(seed: 2026)
        let links: [LinkLayer] = [.ethernet, .linuxSLL, .linuxSLL2, .rawIP, .null, .loop]
        for i in 0..<20_000 {
            let length = Int(rng.next() % 200)
            var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            // Steer some inputs into deeper layers.
            if i % 2 == 0 && length > 14 { bytes[12] = [0x08, 0x81, 0x86, 0x88][i / 2 % 4]; bytes[13] = [0x00, 0x00, 0xDD, 0x47][i / 2 % 4] }
            if i % 4 == 0 && length > 15 { bytes[14] = 0x45 }
            let p = decode(bytes, link: links[i % links.count])
            #expect(p.payloadOffset + p.payloadLength <= max(length, 0) || p.payloadLength == 0)
        }
    }

    @Test func mutatedFramesNeverTrap() {
        var rng = SeededRandom(seed: 7)
        for (_, frame, link) in complexFrames {
            for _ in 0..<2000 {
                var bytes = frame
                for _ in 0..<Int(1 + rng.next() % 4) {
                    bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next())
                }
                let p = decode(bytes, link: link)
                #expect(p.payloadOffset + p.payloadLength <= bytes.count)
            }
        }
    }
}

@Suite("Addresses")
struct AddressTests {
    @Test(arguments: [
        ("2001:db8::1", "2001:db8::1"), ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("::", "::"), ("::1", "::1"), ("fe80::8c36:6ff:fe44:acaf", "fe80::8c36:6ff:fe44:acaf"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"), ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
        ("::ffff:1.2.3.4", "1.2.3.4"), ("192.0.2.1", "192.0.2.1"), ("dead::beef", "dead::beef"),
    ])
    func textRoundTrip(input: String, canonical: String) {
        #expect(IPAddress(input)?.description == canonical)
    }

    @Test(arguments: ["1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1:2:3:4:5:6:7:8:9", "1::2::3", "g::1", "", ":"])
    func invalidAddresses(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func macAddresses() {
        #expect(MACAddress("00:1B:21:aa:bb:cc")?.description == "00:1b:21:aa:bb:cc")
        #expect(MACAddress("00-1b-21-aa-bb-cc") == MACAddress("001b.21aa.bbcc"))
        #expect(MACAddress("00:1b:21:aa:bb") == nil)
        #expect(MACAddress("0:1b:21:aa:bb:ccc") == nil)
        #expect(MACAddress.broadcast.isGroup && !macA.isGroup)
    }

    @Test func specialPurpose() {
        for s in ["224.0.0.251", "255.255.255.255", "0.0.0.0", "127.0.0.1", "169.254.1.1", "ff02::1", "fe80::1", "::1", "::"] {
            #expect(IPAddress(s)!.isSpecialPurpose, "\(s)")
        }
        for s in ["10.0.0.1", "8.8.8.8", "2001:db8::1", "fd00::1"] {
            #expect(!IPAddress(s)!.isSpecialPurpose, "\(s)")
        }
    }
}
