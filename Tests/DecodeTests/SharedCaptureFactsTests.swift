import Capture
import Decode
import Foundation
import Testing

/// `../shared/captures` beside the repository, when present.
let sharedCaptures: URL? = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let dir = root.deletingLastPathComponent().appendingPathComponent("shared/captures")
    return FileManager.default.fileExists(atPath: dir.appendingPathComponent("expected.json").path) ? dir : nil
}()

struct Fact {
    let file: String
    let kind: String
    let proto: String?
    let client: String?
    let vlan: [Int]?
    let detail: String
}

let sharedFacts: [Fact] = {
    guard let dir = sharedCaptures,
          let data = try? Data(contentsOf: dir.appendingPathComponent("expected.json")),
          let entries = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] else { return [] }
    return entries.flatMap { entry -> [Fact] in
        let file = entry["file"] as! String
        return (entry["facts"] as! [[String: Any]]).map {
            Fact(file: file, kind: $0["kind"] as! String, proto: $0["proto"] as? String, client: $0["client"] as? String,
                 vlan: $0["vlan"] as? [Int], detail: $0["detail"] as? String ?? "")
        }
    }
}()

/// What decoding a whole capture found.
struct CaptureObservations {
    var stacks = Set<[Int]>()
    var tunnelKinds = Set<TunnelKind>()
    var tunnelIDs = Set<UInt32>()
    var tunnelSources = Set<String>()
    var mplsStacks = Set<[Int]>()
    var mplsUnderVLAN = Set<[Int]>()
    var anomalies = Set<DecodeAnomaly>()
    var fragments = 0
    var packets = 0
    var innerSources = Set<String>()
}

func observe(_ path: String) throws -> CaptureObservations {
    let handle = try PcapHandle.openOffline(path)
    let link: LinkLayer = switch handle.linkType {
    case .linuxSLL: .linuxSLL
    case .linuxSLL2: .linuxSLL2
    case .null: .null
    case .loop: .loop
    case .ethernet: .ethernet
    default: .rawIP
    }
    var o = CaptureObservations()
    var p = DecodedPacket()
    let decoder = PacketDecoder()
    while case .packet(let c) = try handle.next() {
        p.reset(timestamp: c.timestamp, capturedLength: c.capturedLength, wireLength: c.wireLength)
        decoder.decode(ByteView(c.bytes), link: link, into: &p)
        o.packets += 1
        o.stacks.insert(p.reportedVLANs.map(Int.init))
        for i in 0..<p.tunnels.count {
            o.tunnelKinds.insert(p.tunnels[i].kind)
            if p.tunnels[i].hasIdentifier { o.tunnelIDs.insert(p.tunnels[i].identifier) }
            o.tunnelSources.insert(p.tunnels[i].outerSource.description)
        }
        if p.mplsLabelCount > 0 {
            o.mplsStacks.insert(p.mplsLabelList.map(Int.init))
            o.mplsUnderVLAN.insert(p.vlans.ids.map(Int.init))
        }
        if let a = p.anomaly { o.anomalies.insert(a) }
        if p.isFragment { o.fragments += 1 }
        if p.isIP { o.innerSources.insert(p.source.description) }
    }
    return o
}

@Suite("Shared captures: decoder facts from expected.json", .enabled(if: sharedCaptures != nil, "../shared/captures is absent: skipping the shared-capture facts"))
struct SharedCaptureFactsTests {
    static let layerFacts = sharedFacts.filter { ["vlan", "qinq", "tunnel", "mpls", "fragments", "truncated", "corrupt"].contains($0.kind) }

    @Test(arguments: layerFacts.indices)
    func fact(_ index: Int) throws {
        let fact = Self.layerFacts[index]
        let o = try observe(sharedCaptures!.appendingPathComponent(fact.file).path)
        switch fact.kind {
        case "vlan", "qinq":
            #expect(o.stacks.contains(fact.vlan ?? []), "\(fact.file): VLAN stack \(fact.vlan ?? []) not seen in \(o.stacks)")
        case "tunnel":
            let kinds: Set<TunnelKind> = switch fact.proto {
            case "vxlan": [.vxlan]
            case "geneve": [.geneve]
            case "gre": [.gre]
            case "erspan": fact.detail.contains("type III") ? [.erspan3] : [.erspan2]
            case "ipip": [.ipv4InIPv4]
            case "6in4": [.ipv6InIPv4]
            default: []
            }
            #expect(!kinds.isEmpty && kinds.isSubset(of: o.tunnelKinds), "\(fact.file): tunnels \(o.tunnelKinds)")
            if let client = fact.client { #expect(o.tunnelSources.contains(client), "\(fact.file): outer source \(client)") }
            if let vni = fact.detail.firstMatch(of: /VNI (\d+)/) { #expect(o.tunnelIDs.contains(UInt32(vni.1)!)) }
            if let span = fact.detail.firstMatch(of: /span id (\d+)/) { #expect(o.tunnelIDs.contains(UInt32(span.1)!)) }
            if fact.proto == "erspan", let vlan = fact.vlan { #expect(o.stacks.contains(vlan), "ERSPAN VLAN \(vlan) in \(o.stacks)") }
            if fact.detail.contains("two encapsulation levels") { #expect(o.stacks.count >= 1 && o.tunnelSources.count >= 2) }
        case "mpls":
            let labels = fact.detail.firstMatch(of: /label (?:stack )?([\d\/]+)/).map { $0.1.split(separator: "/").map { Int($0)! } }
            if fact.detail.contains("no MPLS") {
                #expect(o.stacks.contains(fact.vlan ?? []))
            } else {
                #expect(labels.map { o.mplsStacks.contains($0) } ?? false, "\(fact.file): MPLS \(labels ?? []) in \(o.mplsStacks)")
                #expect(o.mplsUnderVLAN.contains(fact.vlan ?? []))
            }
        case "fragments":
            #expect(o.fragments >= 2, "\(fact.file): fragments seen \(o.fragments)")
        case "truncated":
            let wanted: DecodeAnomaly = fact.proto == "ipv6" ? .ipv6Truncated : .ipv4Truncated
            #expect(o.anomalies.contains(wanted), "\(fact.file): anomalies \(o.anomalies)")
        case "corrupt":
            #expect(o.anomalies.contains { $0.name.hasPrefix("decode.ipv4.") }, "\(fact.file): anomalies \(o.anomalies)")
        default:
            Issue.record("unexpected fact kind \(fact.kind)")
        }
    }

    @Test func everyCaptureOpensOrFailsClearly() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: sharedCaptures!.path).filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }
        #expect(files.count >= 50)
        for file in files {
            let path = sharedCaptures!.appendingPathComponent(file).path
            do {
                let o = try observe(path)
                #expect(o.packets > 0, "\(file)")
            } catch let error as CaptureError {
                #expect(error.kind == .unsupportedLinkType, "\(file): \(error)")
                #expect(["nflog-http.pcap", "radiotap-80211.pcap", "fddi-dns-inverse-query.pcap"].contains(file), "\(file): \(error)")
            }
        }
    }
}
