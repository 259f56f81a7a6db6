import Foundation
import Testing

/// A `storage` fact from `../shared/captures/expected.json`: client and server are addresses, or MACs for AoE.
struct StorageFact: CustomStringConvertible, Sendable {
    let file: String
    let proto: String
    let client: String
    let server: String
    let user: String?
    var description: String { "\(file) \(proto)" }
    var isEthernet: Bool { client.split(separator: ":").count == 6 && !client.contains(".") }
}

let sharedStorageFacts: [StorageFact] = {
    guard let dir = sharedCaptures, let data = try? Data(contentsOf: dir.appendingPathComponent("expected.json")),
          let entries = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] else { return [] }
    return entries.flatMap { entry in
        (entry["facts"] as! [[String: Any]]).filter { $0["kind"] as? String == "storage" }.map {
            StorageFact(file: entry["file"] as! String, proto: $0["proto"] as! String, client: $0["client"] as! String,
                        server: $0["server"] as! String, user: $0["user"] as? String)
        }
    }
}()

/// Runs the binary with the fact's client in a zone of `clientRole` and its server in a storage zone.
func storageAlerts(_ fact: StorageFact, clientRole: String) throws -> [[String: Any]] {
    func declaration(_ endpoint: String) -> String {
        fact.isEthernet ? "macs: [\"\(endpoint)\"]" : "subnets: [\"\(endpoint)/32\"]"
    }
    let yaml = """
        zones:
          hosts: { role: \(clientRole), \(declaration(fact.client)) }
          san:   { role: storage, \(declaration(fact.server)) }
        rules:
          unknown-address: off
        """
    let config = temporaryDirectory().appendingPathComponent("storage.yaml").path
    try yaml.write(toFile: config, atomically: true, encoding: .utf8)
    let r = try zonewarden(["analyze", "-c", config, "--format", "eve", sharedCaptures!.appendingPathComponent(fact.file).path])
    #expect(r.status == 0, "\(r.stderr)")
    return try r.stdoutLines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
}

@Suite("Shared captures: iSCSI, NFS, AoE and Ceph placed into zones",
       .enabled(if: sharedCaptures != nil, "../shared/captures is absent: skipping"))
struct SharedStorageFactsTests {
    /// A hypervisor's management address speaking storage: 4001, with the protocol and its zones.
    @Test(arguments: sharedStorageFacts)
    func fromManagementIsOutsideTheStorageNetwork(_ fact: StorageFact) throws {
        let found = try storageAlerts(fact, clientRole: "management")
        let outside = found.filter { $0.sid == 4001 }
        #expect(outside.count >= 1, "\(fact): \(found.map(\.sid))")
        #expect(outside.allSatisfy { $0.evidence["protocol"] as? String == fact.proto })
        if fact.isEthernet {
            // Ethernet storage on a segment no storage zone declares, whoever speaks it.
            #expect(outside.count == 1, "one finding per segment and EtherType")
            #expect((outside[0]["ether"] as? [String: Any])?["ether_type"] as? Int == 0x88A2)
            #expect(outside[0].evidence["outside"] as? String == "the frames are on a segment no storage zone declares")
        } else {
            let zones = outside[0].zw
            #expect(outside[0]["src_ip"] as? String == fact.client && outside[0]["dest_ip"] as? String == fact.server)
            #expect(zones["src_zone"] as? String == "hosts" && zones["dest_zone"] as? String == "san")
            #expect(outside[0].evidence["outside"] as? String == "\(fact.client) is in zone hosts (management)")
        }
        switch fact.proto {
        case "iscsi":
            #expect(outside[0].evidence["initiator"] as? String == "iqn.2005-03.org.open-iscsi:4b90a15d7c24")
            #expect(outside[0].evidence["target"] as? String == "iqn.2003-01.org.linux-iscsi.manjaro.i686:sn.a5ec269a2361")
        case "nfs":
            let programs = Set(outside.compactMap { $0.evidence["rpc_program"] as? String })
            #expect(programs == ["NFS", "MOUNT"], "NFS by its RPC program, and MOUNT on its own port (20048)")
        case "ceph":
            #expect(outside[0].evidence["messenger"] as? String == "msgr1")
        default: break
        }
    }

    /// The same traffic inside a storage zone: no 4001; what remains is the protocol's own weakness.
    @Test(arguments: sharedStorageFacts)
    func insideTheStorageNetwork(_ fact: StorageFact) throws {
        let found = try storageAlerts(fact, clientRole: "storage")
        #expect(!found.contains { $0.sid == 4001 }, "\(fact): \(found.map(\.sid))")
        let weak = found.filter { $0.sid == 4003 }
        switch fact.proto {
        case "iscsi":
            #expect(found.isEmpty, "CHAP was negotiated: \(found.map(\.sid))")
        case "nfs":
            // NFS (tcp/2049) and MOUNT (udp/20048, called from reserved ports) with AUTH_SYS: one finding per service.
            #expect(weak.count == 2 && Set(weak.compactMap { $0["dest_port"] as? Int }) == [2049, 20048], "\(weak)")
            #expect(weak.allSatisfy { $0.evidence["credential_flavor"] as? String == "AUTH_SYS" && $0.evidence["machine_name"] as? String == "pddevbal802" })
        case "aoe":
            #expect(weak.count == 1, "AoE has no authentication; one finding for the segment")
        default:
            #expect(found.isEmpty, "\(fact): \(found.map(\.sid))")
        }
    }

    /// NFS's MOUNT over UDP seen from its replies only (one direction of a
    /// mirror), or cut by a short snap length: no whole call for the inspector,
    /// so the port (udp/20048, mountd) decides 4001, as it did before UDP RPC was inspected.
    @Test func mountSeenWithoutAWholeCall() throws {
        let capture = try #require(sharedCaptures).appendingPathComponent("nfsv3-basic.pcap").path
        let dir = temporaryDirectory()
        let config = dir.appendingPathComponent("st.yaml").path
        try "zones:\n  hosts: { role: management, subnets: [10.111.131.18/32] }\n  san: { role: storage, subnets: [10.111.131.132/32] }\nrules:\n  unknown-address: off\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        // Frames 11-16 and 92-95 are the MOUNT calls and replies (tshark -Y udp).
        for (name, options) in [("replies", ["-r", capture, "R", "12", "14", "16", "93", "95"]), ("calls", ["-r", capture, "C", "11-16", "92-95"]),
                                ("snap", ["-s", "60", "-r", capture, "S", "11-16", "92-95"])] {
            let out = dir.appendingPathComponent("\(name).pcap").path
            let edited = try runProgram("/usr/bin/editcap", options.map { $0 == "R" || $0 == "C" || $0 == "S" ? out : $0 })
            #expect(edited.status == 0, "\(edited.stderr)")
            let r = try zonewarden(["analyze", "-c", config, "--format", "eve", out])
            let alerts = try r.stdoutLines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
            let outside = alerts.filter { $0.sid == 4001 }
            #expect(r.status == 0 && outside.count == 1 && outside[0]["dest_port"] as? Int == 20048, "\(name): \(r.stdout)\(r.stderr)")
            // Whole calls: the inspector's finding, with the RPC program; otherwise the port's.
            #expect(outside.first?.evidence["rpc_program"] as? String == (name == "calls" ? "MOUNT" : nil), "\(name): \(outside)")
        }
    }

    @Test func theStorageFactsAreAllRead() {
        #expect(Set(sharedStorageFacts.map(\.proto)) == ["iscsi", "nfs", "aoe", "ceph"])
    }
}
