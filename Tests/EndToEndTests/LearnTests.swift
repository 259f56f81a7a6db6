import Foundation
import Testing

/// Every capture the project has or was given: its own and ../shared/captures.
private let everyCapture: [String] = {
    let own = ((try? FileManager.default.contentsOfDirectory(atPath: repoPath("Captures"))) ?? [])
        .filter { $0.hasSuffix(".pcap") }.sorted().map { repoPath("Captures/" + $0) }
    return own + sharedCaptureFiles.map { sharedCaptures!.appendingPathComponent($0).path }
}()

/// The sids in an EVE output.
private func sids(_ eve: String) -> [Int] {
    eve.split(separator: "\n").compactMap { line in
        guard let range = line.range(of: "\"signature_id\":") else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }
}

/// `zonewarden learn`: drafts that can be adopted.
@Suite("learn drafts")
struct LearnTests {
    /// The drafted configuration of `captures`, checked by check-config and written to a file.
    private func draft(_ captures: [String]) throws -> (text: String, path: String) {
        let r = try zonewarden(["learn"] + captures)
        #expect(r.status == 0, "\(r.stderr)")
        let path = temporaryDirectory().appendingPathComponent("draft.yaml").path
        try r.stdout.write(toFile: path, atomically: true, encoding: .utf8)
        let check = try zonewarden(["check-config", "-c", path])
        #expect(check.status == 0, "\(check.stderr)\n\(r.stdout)")
        return (r.stdout, path)
    }

    /// Analysed with its own draft, no capture raises a structural finding:
    /// every VLAN and VNI declared, QinQ planned, tunnel endpoints in a transport
    /// zone, no address in no zone. Captures of a link type the sensor does not
    /// read are told apart (exit 3, one line) and skipped.
    @Test(arguments: everyCapture)
    func ownDraftRaisesNoStructuralFinding(capture: String) throws {
        let learned = try zonewarden(["learn", capture])
        if learned.status == 3 && learned.stderr.contains("unsupported link type") {
            #expect(learned.stderr.split(separator: "\n").count == 1)
            return
        }
        let (text, path) = try draft([capture])
        #expect(!text.contains("4094"), "no VLAN is invented")
        let r = try zonewarden(["analyze", "-c", path, "--format", "eve", capture])
        let structural = sids(r.stdout).filter { [5001, 5002, 5004, 7001].contains($0) }
        #expect(structural.isEmpty, "\(structural)\n\(text)\n\(r.stdout)")
        // The findings learn reports in the draft are those analyze gives with it.
        let listed = text.split(separator: "\n").filter { $0.hasPrefix("#   ") && $0.dropFirst(4).first?.isNumber == true }
            .compactMap { Int($0.dropFirst(4).prefix { $0.isNumber }) }
        #expect(Set(listed) == Set(sids(r.stdout)), "\(text)\n\(r.stdout)")
    }

    /// Untagged traffic is split by subnet, each with its role: an iSCSI SAN
    /// and web clients on one untagged link are two zones, not one; its one
    /// flow between two hosts of the subnet is counted once.
    @Test func untaggedTrafficIsSplitBySubnet() throws {
        let dir = try #require(sharedCaptures, "../shared/captures is missing")
        let (text, _) = try draft([dir.appendingPathComponent("iscsi-chap-login-lio.pcap").path,
                                   dir.appendingPathComponent("telnet-login-administrator.pcap").path])
        #expect(text.contains("storage-untagged: { role: storage, subnets: [\"192.168.2.0/24\"] }"), "\(text)")
        #expect(text.contains("guests-untagged: { role: guest, subnets: [\"192.168.75.0/24\"] }"), "\(text)")
        #expect(text.contains("#   192.168.2.0/24: 1 of 1 flow reached storage services (iscsi tcp/3260 ×1)"), "\(text)")
    }

    /// QinQ stacks become outer_vlans of the inner VLAN's zone, and the review
    /// block says that a 0x8100 outer tag may be VLAN hopping.
    @Test func qinqStacksBecomeOuterVLANs() throws {
        let dir = try #require(sharedCaptures, "../shared/captures is missing")
        let (text, _) = try draft([dir.appendingPathComponent("vlan-qinq-8100-8100.pcap").path])
        #expect(text.contains("vlans: [10], outer_vlans: [13]"), "\(text)")
        #expect(text.contains("VLAN 10 arrived inside outer VLAN 13") && text.contains("VLAN hopping (5001)"), "\(text)")
        let triple = try draft([dir.appendingPathComponent("vlan-triple-tagged.pcap").path]).text
        #expect(triple.contains("outer_vlans: ["), "\(triple)")
    }

    /// Tunnel endpoints go to a transport zone: subnets of endpoints only as a
    /// whole, public endpoints as hosts (said in the review block).
    @Test func tunnelEndpointsGoToATransportZone() throws {
        let dir = try #require(sharedCaptures, "../shared/captures is missing")
        let (text, _) = try draft([dir.appendingPathComponent("gre-within-gre.pcap").path])
        #expect(text.contains("underlay-untagged: { role: transport, subnets: [\"10.10.11.0/24\", \"10.10.13.0/24\"] }"), "\(text)")
        #expect(text.contains("underlay-endpoints: { role: transport, subnets: [\"72.205.54.70/32\", \"86.106.164.150/32\"] }"), "\(text)")
        #expect(text.contains("tunnel endpoint 72.205.54.70 (gre) is a public address"), "\(text)")
        // A VTEP among guests is declared, and the review says what that accepts.
        let misplaced = try draft([repoPath("Captures/overlay-misplaced.pcap")]).text
        #expect(misplaced.contains("tunnel endpoint 192.168.100.70 (vxlan) is in 192.168.100.0/24 of zone guests-vni5000 (guest)"), "\(misplaced)")
    }

    /// ARP-only and loopback-only captures: the subnets they show, no invented VLAN.
    @Test func arpAndLoopbackOnlyCaptures() throws {
        let dir = try #require(sharedCaptures, "../shared/captures is missing")
        let arp = try draft([dir.appendingPathComponent("linux-sll-arp.pcap").path]).text
        #expect(arp.contains("subnets: [\"10.1.10.0/24\", \"192.168.22.0/24\"]") && !arp.contains("no IP traffic was seen"), "\(arp)")
        let loopback = try draft([dir.appendingPathComponent("redis-auth-loopback-null.pcap").path]).text
        #expect(loopback.contains("subnets: [\"127.0.0.0/8\"]"), "\(loopback)")
        // A VLAN with non-IP frames only is declared.
        let quiet = try draft([repoPath("Captures/vlan-double-tagging.pcap")]).text
        #expect(quiet.contains("# VLAN 20: no IP flows, only other frames"), "\(quiet)")
    }

    /// Storage seen without an iSCSI login: NFSv3 with its MOUNT calls from
    /// reserved client ports (udp/20048, mountd), and ATA over Ethernet with no
    /// IP at all. Both were drafted as guests, hiding 4003 behind 4001.
    @Test func nfsAndAoEAreStorage() throws {
        let dir = try #require(sharedCaptures, "../shared/captures is missing")
        let nfs = try draft([dir.appendingPathComponent("nfsv3-basic.pcap").path]).text
        #expect(nfs.contains("storage-untagged: { role: storage, subnets: [\"10.111.131.0/24\"] }") && nfs.contains("nfs-mountd udp/20048"), "\(nfs)")
        #expect(nfs.contains("4003 storage-weak-authentication") && !nfs.contains("4001"), "\(nfs)")
        let aoe = try draft([dir.appendingPathComponent("aoe-linux.pcap").path]).text
        #expect(aoe.contains("role: storage, macs: [\"20:cf:30:02:b0:52\", \"68:a3:c4:f4:84:1e\"]") && !aoe.contains("4001"), "\(aoe)")
        // A folder: one capture per comment line, and the captures that could not be read are no source of the draft.
        let folder = try zonewarden(["learn", dir.path])
        let head = folder.stdout.split(separator: "\n").prefix { $0.hasPrefix("#") }
        #expect(folder.status == 3 && (head.first?.count ?? 0) < 120 && head.dropFirst().first?.hasPrefix("#   ") == true
                && !folder.stdout.contains("fddi-dns-inverse-query.pcap"), "\(head)")
    }

    /// Admin zones (the clients of management services) and gateways (a MAC
    /// with many subnets behind it) are proposed, and the review block lists
    /// them with what the captures' traffic would report under the draft.
    @Test func adminZonesGatewaysAndWhatLooksLikeAViolation() throws {
        let (text, _) = try draft([repoPath("Captures/example-site.pcap")])
        #expect(text.contains("admin-vlan10: { role: admin, subnets: [\"10.99.0.0/24\"] }"), "\(text)")
        #expect(text.contains("gateways:\n") && text.contains("- { name: gateway-1, macs: [\"00:1b:21:aa:bb:cc\"] }"), "\(text)")
        #expect(text.contains("admin-vlan10 (10.99.0.0/24 on VLAN 10) is proposed as admin"), "\(text)")
        #expect(text.contains("#   1001 guest-to-management ×1, e.g. guest 192.168.100.11 in zone guests-vlan100 reached management host 10.10.0.5"), "\(text)")
        // A console reached from another VLAN: the clients become admins, and the review says so.
        let console = try draft([repoPath("Captures/console-exposed.pcap")]).text
        #expect(console.contains("is proposed as admin") && console.contains("If its hosts are not administrators' workstations"), "\(console)")
        // A VLAN taken for guests by its many guest-like flows, with hypervisors and BMCs answering in it: said for review.
        let logins = try draft([repoPath("Captures/cleartext-admin-login.pcap")]).text
        #expect(logins.contains("guests-vlan10 (VLAN 10) is proposed as guest, yet management services answer in it (10.10.0.11"), "\(logins)")
    }

    /// Standard input is read once: the draft says the check was not made.
    /// A capture without frames is an error, not an invented zone.
    @Test func standardInputAndEmptyCaptures() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: repoPath("Captures/example-site.pcap")))
        let r = try zonewarden(["learn", "-"], stdin: bytes)
        #expect(r.status == 0 && r.stdout.contains("#   not checked: a stream (standard input, a FIFO, a process substitution) is read once."), "\(r.stderr)")
        let empty = temporaryDirectory().appendingPathComponent("empty.pcap")
        // A pcap header (microseconds, Ethernet) and no packet.
        var header = Data([0xD4, 0xC3, 0xB2, 0xA1, 2, 0, 4, 0])
        header.append(Data(count: 8))
        header.append(contentsOf: [0xFF, 0xFF, 0, 0, 1, 0, 0, 0])
        try header.write(to: empty)
        let none = try zonewarden(["learn", empty.path])
        #expect(none.status == 3 && none.stdout.isEmpty && none.stderr == "zonewarden: nothing to learn from: the captures hold no frames\n", "\(none)")
    }

    /// `learn --inventory`: zones named after their port groups, infrastructure
    /// marked and misplaced infrastructure in the review, the inventory declared;
    /// check-config accepts the draft, and analysed with it the alerts carry names.
    @Test func inventoryNamesTheDraft() throws {
        let dir = temporaryDirectory()
        let vms = dir.appendingPathComponent("vms.json").path
        try """
            {"virtualMachines": [
              {"name": "web-01", "config": {"name": "web-01", "hardware": {"device": [{"key": 4000, "backing": {"deviceName": "Web Tier"}, "macAddress": "00:50:56:00:00:10"}]}},
               "guest": {"net": [{"network": "Web Tier", "ipAddress": ["192.168.100.10"], "macAddress": "00:50:56:00:00:10"}]}},
              {"name": "web-02", "config": {"name": "web-02", "hardware": {"device": [{"key": 4000, "backing": {"deviceName": "Web Tier"}, "macAddress": "00:50:56:00:00:11"}]}},
               "guest": {"net": [{"network": "Web Tier", "ipAddress": ["192.168.100.11"], "macAddress": "00:50:56:00:00:11"}]}}
            ]}
            """.write(toFile: vms, atomically: true, encoding: .utf8)
        let r = try zonewarden(["learn", "--inventory", "govc-vm:\(vms)", "--inventory", "govc-vnic:\(repoPath("config/examples/inventory/vmknics"))",
                                repoPath("Captures/example-site.pcap"), repoPath("Captures/inventory-roles.pcap")])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("  web-tier: { role: guest, vlans: [100]"), "\(r.stdout)")
        #expect(r.stdout.contains("# named after \"Web Tier\" (the network of 2 of its 4 inventory addresses") == false)
        #expect(r.stdout.contains("web-tier (guest) holds migration infrastructure per the inventory: esx-03 vmk1 (vmkernel-vmotion, 192.168.100.70)"), "\(r.stdout)")
        #expect(r.stdout.contains("inventory:\n") && r.stdout.contains("- { format: govc-vm, path: \"\(vms)\" }"))
        let path = dir.appendingPathComponent("draft.yaml").path
        try r.stdout.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try zonewarden(["check-config", "-c", path]).status == 0)
        let alerts = try zonewarden(["analyze", "-c", path, repoPath("Captures/inventory-roles.pcap")])
        #expect(alerts.stdout.contains("(esx-03 vmk1 on esx-03, zone web-tier)"), "\(alerts.stdout)")
        // A format that is none, or a file that is not there: one line, before any capture is read.
        let wrong = try zonewarden(["learn", "--inventory", "govc:\(vms)", repoPath("Captures/example-site.pcap")])
        #expect(wrong.status == 64 || wrong.status == 2)
        #expect(wrong.stderr.contains("expected FORMAT:PATH, FORMAT one of csv, govc-vm, govc-vnic, libvirt, netbox"), "\(wrong.stderr)")
        let missing = try zonewarden(["learn", "--inventory", "csv:/nonexistent.csv", repoPath("Captures/example-site.pcap")])
        #expect(missing.status == 2 && missing.stderr.contains("inventory /nonexistent.csv: cannot read it"), "\(missing.stderr)")
    }

    /// `learn --netbox-prefixes`: the zone plan from NetBox's prefixes (as NetBox 4 writes them), checked by
    /// check-config, the capture analysed with it; containers left out, a prefix twice declared once.
    @Test func netboxPrefixesDraftAPlan() throws {
        let dir = temporaryDirectory()
        let file = dir.appendingPathComponent("prefixes.json").path
        func prefix(_ id: Int, _ p: String, vlan: (Int, String)?, role: String?, status: String = "active", description: String = "") -> String {
            let v = vlan.map { #"{"id": \#($0.0), "url": "https://netbox.example/api/ipam/vlans/\#($0.0)/", "display": "\#($0.1) (\#($0.0))", "vid": \#($0.0), "name": "\#($0.1)", "description": ""}"# } ?? "null"
            let r = role.map { #"{"id": 1, "url": "https://netbox.example/api/ipam/roles/1/", "display": "\#($0)", "name": "\#($0)", "slug": "\#($0.lowercased())", "description": ""}"# } ?? "null"
            return #"{"id": \#(id), "url": "https://netbox.example/api/ipam/prefixes/\#(id)/", "display": "\#(p)", "family": {"value": 4, "label": "IPv4"}, "prefix": "\#(p)", "vrf": null, "scope_type": null, "scope_id": null, "scope": null, "tenant": null, "vlan": \#(v), "status": {"value": "\#(status)", "label": "\#(status.capitalized)"}, "role": \#(r), "is_pool": false, "mark_utilized": false, "description": "\#(description)", "comments": "", "tags": [], "custom_fields": {}, "children": 0, "_depth": 0}"#
        }
        let results = [prefix(9, "10.0.0.0/8", vlan: nil, role: nil, status: "container"),
                       prefix(1, "10.10.0.0/24", vlan: (10, "esx-mgmt"), role: "Management"),
                       prefix(2, "10.20.0.0/24", vlan: (20, "san-a"), role: "Storage", description: "iSCSI fabric A"),
                       prefix(3, "10.30.0.0/24", vlan: (30, "vmotion"), role: nil),
                       prefix(4, "192.168.100.0/22", vlan: (100, "web"), role: "Production"),
                       prefix(5, "192.168.100.0/22", vlan: (100, "web"), role: "Production"),
                       prefix(6, "10.99.0.0/24", vlan: nil, role: "Admin", status: "reserved")]
        try (#"{"count": 7, "next": null, "previous": null, "results": ["# + results.joined(separator: ", ") + "]}").write(toFile: file, atomically: true, encoding: .utf8)
        let r = try zonewarden(["learn", "--netbox-prefixes", file, repoPath("Captures/example-site.pcap")])
        #expect(r.status == 0, "\(r.stderr)")
        for line in ["  esx-mgmt: { role: management, vlans: [10], subnets: [\"10.10.0.0/24\"] }", "  san-a: { role: storage, vlans: [20]",
                     "  vmotion: { role: migration, vlans: [30]", "  web: { role: guest, vlans: [100], subnets: [\"192.168.100.0/22\"] }",
                     "  admin: { role: admin, subnets: [\"10.99.0.0/24\"] }", "1 containers or deprecated left out",
                     "web (192.168.100.0/22) is taken for guests", "192.168.100.0/22 appears again (results[5])",
                     "1001 guest-to-management ×1, e.g. guest 192.168.100.11 in zone web reached management host 10.10.0.5 (zone esx-mgmt)"] {
            #expect(r.stdout.contains(line), "\(line) in\n\(r.stdout)")
        }
        let path = dir.appendingPathComponent("draft.yaml").path
        try r.stdout.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try zonewarden(["check-config", "-c", path]).status == 0)
        // Without captures: the plan alone, said to be unchecked; anything not NetBox's: one line.
        let alone = try zonewarden(["learn", "--netbox-prefixes", file])
        #expect(alone.status == 0 && alone.stdout.contains("#   not checked: no capture given."))
        let wrong = try zonewarden(["learn", "--netbox-prefixes", repoPath("config/examples/inventory/vmknics/esx-03.json")])
        #expect(wrong.status == 2 && wrong.stderr.contains("not a NetBox API answer"), "\(wrong.stderr)")
    }
}
