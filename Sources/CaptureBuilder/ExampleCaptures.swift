import Decode
import Vocabulary

/// The hosts of the example site that the captures under `Captures/` and the
/// configs under `config/` describe (a VMware/KVM data centre).
public enum Lab {
    // Management (VLAN 10)
    public static let vcenter = Host("10.10.0.5")
    public static let esxi1 = Host("10.10.0.11")
    public static let esxi2 = Host("10.10.0.12")
    public static let kvm1 = Host("10.10.0.21")
    // Admin workstations (VLAN 15)
    public static let adminWorkstation = Host("10.99.0.20")
    // Storage (VLAN 20)
    public static let san = Host("10.20.0.10")
    public static let esxi1Storage = Host("10.20.0.11")
    // vMotion (VLAN 30)
    public static let esxi1VMotion = Host("10.30.0.11")
    public static let esxi2VMotion = Host("10.30.0.12")
    // Overlay underlay (VLAN 40)
    public static let vtep1 = Host("10.40.0.11")
    public static let vtep2 = Host("10.40.0.12")
    // Shared services (VLAN 50)
    public static let backup = Host("10.50.0.5")
    public static let dns = Host("10.50.0.53")
    // Guests (VLANs 100-119, VNI 5000)
    public static let web1 = Host("192.168.100.10")
    public static let web2 = Host("192.168.100.11")
    public static let db1 = Host("192.168.101.20")
    public static let rogueHypervisorGuest = Host("192.168.100.50")
    public static let closedGuest = Host("192.168.100.51")
    public static let guestV6 = Host("fd00:100::10")
    public static let guestV6Peer = Host("fd00:100::11")
    // Outside
    public static let internetHost = Host("203.0.113.50")
    public static let strangerInternal = Host("10.77.0.5")
    public static let firewall = Host("10.10.0.1", mac: "00:1b:21:aa:bb:cc")
    /// The firewall in front of the management network (layer2.yaml's fw-mgmt).
    public static let managementFirewall = Host("10.10.0.2", mac: "00:1b:21:aa:bb:dd")
    public static let bmc = Host("10.10.0.31")
    public static let hyperv = Host("10.10.0.41")
    public static let ldap = Host("10.50.0.10")
    public static let kvm2 = Host("10.10.0.22")
    public static let hyperv2 = Host("10.10.0.42")
    public static let xenServer1 = Host("10.10.0.51")
    public static let xenServer2 = Host("10.10.0.52")
    public static let nas = Host("10.20.0.20")
    public static let kvm1Storage = Host("10.20.0.21")
    public static let cephMonitor = Host("10.20.0.30")
    public static let fileServer = Host("10.20.0.40")
    public static let kvm1Migration = Host("10.30.0.21")
    public static let kvm2Migration = Host("10.30.0.22")
    public static let tenantNAS = Host("192.168.100.60")
    public static let ftpServer = Host("10.50.0.21")

    public static let mgmtVLAN = Wire.vlan(10)
    public static let adminVLAN = Wire.vlan(15)
    public static let storageVLAN = Wire.vlan(20)
    public static let vmotionVLAN = Wire.vlan(30)
    public static let servicesVLAN = Wire.vlan(50)
    public static let guestVLAN = Wire.vlan(100)
}

/// A capture the project builds for its examples and tests.
public struct ExampleCapture: Sendable {
    /// File name under `Captures/` (without `.pcap`); `Captures/NAME.expect.yaml`
    /// names the configuration it goes with and what it must raise.
    public let name: String
    public let summary: String
    public let build: @Sendable (CaptureScript) -> Void
}

public enum ExampleCaptures {
    static let http = Array("GET / HTTP/1.1\r\nHost: example\r\n\r\n".utf8)
    static let httpOK = Array("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".utf8)
    static let tlsHello: [UInt8] = [0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x03]
    static let sshBanner = Array("SSH-2.0-OpenSSH_9.2p1\r\n".utf8)
    static let ntp = [UInt8](repeating: 0, count: 48)
    static let dnsQuery: [UInt8] = [0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 3, 0x77, 0x77, 0x77, 0, 0, 1, 0, 1]

    public static let all: [ExampleCapture] = zoneRules + adminAccess + infrastructure + layer2

    /// Captures of layer-2 and overlay separation (rules 5001, 5003, 5004, 6001, 6002).
    public static let layer2: [ExampleCapture] = {
        @Sendable func tags(_ t: VLANTag...) -> Wire { Wire(tags: t) }
        let underlay = [Frames.dot1q(40)]
        let vxlan = Wire(tunnel: .vxlan(vni: 5000, from: Lab.vtep1, to: Lab.vtep2, tags: underlay))
        return [
            ExampleCapture(name: "vlan-double-tagging",
                           summary: "5001 positive: a guest's ping double-tagged 100 > 10 (VLAN hopping to vCenter), QinQ on an undeclared S-VLAN 300, a double-tagged ARP, a double tag inside VXLAN") { s in
                s.ping(from: Lab.web1, to: Lab.vcenter, wire: tags(Frames.dot1q(100), Frames.dot1q(10)), answered: false)
                s.tcp(client: Lab.web1, clientPort: 45001, server: Lab.web2, serverPort: 443, wire: tags(Frames.dot1ad(300), Frames.dot1q(101)), messages: [(true, tlsHello)])
                let prober = Host("192.168.102.30")
                s.append(s.frame(from: prober, to: Host(mac: .broadcast, ip: Lab.san.ip), etherType: 0x0806,
                                 payload: Frames.arp(operation: 1, senderMAC: prober.mac, senderIP: prober.ip, targetMAC: .zero, targetIP: Lab.san.ip),
                                 wire: tags(Frames.dot1q(102), Frames.dot1q(20))))
                s.ping(from: Host("192.168.100.31"), to: Lab.vcenter, wire: Wire(tags: [Frames.dot1q(100), Frames.dot1q(10)], tunnel: vxlan.tunnel), answered: false)
            },
            ExampleCapture(name: "vlan-double-tagging-ok",
                           summary: "5001 negative: QinQ on the declared S-VLAN 200, a priority tag before a VLAN tag, single tags") { s in
                s.tcp(client: Lab.web1, clientPort: 45011, server: Lab.web2, serverPort: 443, wire: tags(Frames.dot1ad(200), Frames.dot1q(100)), messages: [(true, tlsHello)])
                s.ping(from: Lab.web1, to: Lab.web2, wire: tags(Frames.dot1q(0, priority: 5), Frames.dot1q(100)))
                s.ping(from: Lab.esxi1, to: Lab.esxi2, wire: Lab.mgmtVLAN)
            },
            ExampleCapture(name: "management-vlan-shared-link",
                           summary: "5003 positive: management VLAN 10 and guest VLANs 100 and 101 on one link") { s in
                s.tcp(client: Lab.adminWorkstation, clientPort: 46001, server: Lab.esxi1, serverPort: 22, wire: Lab.mgmtVLAN.routed(via: Lab.managementFirewall, for: Lab.esxi1), messages: [(false, sshBanner)])
                s.tcp(client: Lab.web1, clientPort: 46002, server: Lab.web2, serverPort: 80, wire: Lab.guestVLAN, messages: [(true, http), (false, httpOK)])
                s.ping(from: Host("192.168.101.5"), to: Host("192.168.101.6"), wire: .vlan(101))
                s.tcp(client: Lab.esxi1Storage, clientPort: 46003, server: Lab.san, serverPort: 3260, wire: Lab.storageVLAN)
            },
            ExampleCapture(name: "management-vlan-shared-link-ok",
                           summary: "5003 negative: management, storage and the underlay VLAN on one link; the guests only inside VXLAN") { s in
                s.tcp(client: Lab.adminWorkstation, clientPort: 46011, server: Lab.esxi1, serverPort: 22, wire: Lab.mgmtVLAN.routed(via: Lab.managementFirewall, for: Lab.esxi1), messages: [(false, sshBanner)])
                s.tcp(client: Lab.esxi1Storage, clientPort: 46012, server: Lab.san, serverPort: 3260, wire: Lab.storageVLAN)
                s.tcp(client: Lab.web1, clientPort: 46013, server: Lab.web2, serverPort: 80, wire: vxlan, messages: [(true, http), (false, httpOK)])
            },
            ExampleCapture(name: "overlay-misplaced",
                           summary: "5004 positive: a VXLAN endpoint on a guest address, management traffic inside the guests' VNI, NVGRE between management hosts") { s in
                s.tcp(client: Lab.web1, clientPort: 47001, server: Lab.web2, serverPort: 80,
                      wire: Wire(tunnel: .vxlan(vni: 5000, from: Host("192.168.100.70"), to: Lab.vtep2, tags: [Frames.dot1q(100)])), messages: [(true, http)])
                s.tcp(client: Lab.vcenter, clientPort: 47002, server: Lab.esxi1, serverPort: 902, wire: vxlan)
                s.tcp(client: Lab.web1, clientPort: 47003, server: Lab.web2, serverPort: 443,
                      wire: Wire(tunnel: .greEthernet(key: 5000 << 8, from: Lab.esxi1, to: Lab.esxi2, tags: [Frames.dot1q(10)])), messages: [(true, tlsHello)])
            },
            ExampleCapture(name: "overlay-misplaced-ok",
                           summary: "5004 negative: guest traffic in the guests' VNI between underlay VTEPs, a guest reaching the Internet through it, an ERSPAN mirror from the management network") { s in
                s.tcp(client: Lab.web1, clientPort: 47011, server: Lab.web2, serverPort: 80, wire: vxlan, messages: [(true, http), (false, httpOK)])
                s.tcp(client: Lab.web1, clientPort: 47012, server: Lab.internetHost, serverPort: 443, wire: vxlan.routed(via: Lab.firewall, for: Lab.web1), messages: [(true, tlsHello)])
                s.tcp(client: Lab.web1, clientPort: 47013, server: Lab.web2, serverPort: 22,
                      wire: Wire(tags: [Frames.dot1q(100)], tunnel: .erspan2(session: 7, vlan: 100, from: Lab.esxi1, to: Lab.vcenter)), messages: [(false, sshBanner)])
            },
            ExampleCapture(name: "multi-homed-host",
                           summary: "6001 positive: one MAC with guest and management VLAN interfaces, a VM routing a storage address onto a guest VLAN, an ARP claim and an IPv6 neighbour solicitation across zones, a KVM host whose management MAC is on the storage VLAN") { s in
                let trunked = "02:aa:00:00:00:01"
                s.ping(from: Host("192.168.100.70", mac: trunked), to: Lab.web2, wire: Lab.guestVLAN)
                s.tcp(client: Host("10.10.0.70", mac: trunked), clientPort: 48001, server: Lab.esxi1, serverPort: 443, wire: Lab.mgmtVLAN, messages: [(true, tlsHello)])
                s.tcp(client: Host("10.20.0.99", mac: "02:aa:00:00:00:02"), clientPort: 48002, server: Lab.web2, serverPort: 80, wire: Lab.guestVLAN, messages: [(true, http)])
                s.append(s.frame(from: Host("10.30.0.77", mac: "02:aa:00:00:00:03"), to: Host(mac: .broadcast, ip: Lab.web1.ip), etherType: 0x0806,
                                 payload: Frames.arp(operation: 1, senderMAC: MACAddress("02:aa:00:00:00:03")!, senderIP: Host("10.30.0.77").ip, targetMAC: .zero, targetIP: Lab.web1.ip),
                                 wire: Lab.guestVLAN))
                let v6 = Host("fd00:100::70", mac: "02:aa:00:00:00:04")
                let solicited = Host("ff02::1:ff00:70", mac: "33:33:ff:00:00:70")
                s.append(s.ipPacket(from: v6, to: solicited, proto: 58,
                                    transport: Frames.icmp(type: 135, code: 0, payload: Frames.ip6(Host("fd00:100::1").ip) + [1, 1] + Frames.mac(v6.mac), v6: true, source: v6.ip, destination: solicited.ip),
                                    wire: Lab.mgmtVLAN))
                s.tcp(client: Lab.kvm1, clientPort: 48003, server: Lab.esxi2, serverPort: 22, wire: Lab.mgmtVLAN, messages: [(false, sshBanner)])
                s.tcp(client: Host("10.20.0.21", mac: Lab.kvm1.mac.description), clientPort: 48004, server: Lab.san, serverPort: 3260, wire: Lab.storageVLAN)
            },
            ExampleCapture(name: "multi-homed-host-ok",
                           summary: "6001 negative: esxi1 (allowed) on the management and storage VLANs, a hypervisor on management and vMotion, the firewall's MAC in every zone, a broadcast") { s in
                s.tcp(client: Lab.esxi1, clientPort: 48011, server: Lab.esxi2, serverPort: 443, wire: Lab.mgmtVLAN, messages: [(true, tlsHello)])
                s.tcp(client: Host("10.20.0.11", mac: Lab.esxi1.mac.description), clientPort: 48012, server: Lab.san, serverPort: 3260, wire: Lab.storageVLAN)
                s.tcp(client: Lab.esxi2, clientPort: 48013, server: Lab.vcenter, serverPort: 443, wire: Lab.mgmtVLAN, messages: [(true, tlsHello)])
                s.tcp(client: Host("10.30.0.12", mac: Lab.esxi2.mac.description), clientPort: 48014, server: Lab.esxi1VMotion, serverPort: 8000, wire: Lab.vmotionVLAN)
                s.tcp(client: Lab.web1, clientPort: 48015, server: Lab.internetHost, serverPort: 443, wire: Lab.guestVLAN.routed(via: Lab.firewall, for: Lab.web1), messages: [(true, tlsHello)])
                s.udp(client: Lab.esxi1, clientPort: 48016, server: Lab.dns, serverPort: 53, wire: Lab.mgmtVLAN.routed(via: Lab.firewall, for: Lab.esxi1), request: dnsQuery, response: dnsQuery)
                s.arp(from: Lab.web1, for: Lab.web2, wire: Lab.guestVLAN)
            },
            ExampleCapture(name: "gateway-bypass",
                           summary: "6002 positive: a storage host straight to a management host, the admin network to management through fw-core instead of fw-mgmt, a guest to the Internet through an undeclared router") { s in
                s.tcp(client: Lab.san, clientPort: 49001, server: Lab.esxi1, serverPort: 443, wire: Lab.mgmtVLAN, messages: [(true, tlsHello)])
                s.tcp(client: Lab.adminWorkstation, clientPort: 49002, server: Lab.vcenter, serverPort: 443, wire: Lab.mgmtVLAN.routed(via: Lab.firewall, for: Lab.vcenter), messages: [(true, tlsHello)])
                s.tcp(client: Lab.web1, clientPort: 49003, server: Lab.internetHost, serverPort: 443,
                      wire: Lab.guestVLAN.routed(via: Host("192.168.100.254", mac: "02:bb:00:00:00:01"), for: Lab.web1), messages: [(true, tlsHello)])
            },
            ExampleCapture(name: "gateway-bypass-ok",
                           summary: "6002 negative: the admin network to management through fw-mgmt, a guest to the Internet and the services network to management through fw-core, traffic inside a zone") { s in
                s.tcp(client: Lab.adminWorkstation, clientPort: 49011, server: Lab.vcenter, serverPort: 443, wire: Lab.mgmtVLAN.routed(via: Lab.managementFirewall, for: Lab.vcenter), messages: [(true, tlsHello)])
                s.tcp(client: Lab.web1, clientPort: 49012, server: Lab.internetHost, serverPort: 443, wire: Lab.guestVLAN.routed(via: Lab.firewall, for: Lab.web1), messages: [(true, tlsHello)])
                s.tcp(client: Lab.backup, clientPort: 49013, server: Lab.vcenter, serverPort: 443, wire: Lab.mgmtVLAN.routed(via: Lab.firewall, for: Lab.vcenter), messages: [(true, tlsHello)])
                s.tcp(client: Lab.vcenter, clientPort: 49014, server: Lab.esxi1, serverPort: 902, wire: Lab.mgmtVLAN)
            },
        ]
    }()

    /// Two request/reply rounds of an Ethernet storage protocol (FCoE, AoE), which has no IP layer.
    static func ethernetStorageExchange(_ s: CaptureScript, _ from: Host, _ to: Host, _ type: UInt16, _ wire: Wire) {
        for _ in 0..<2 {
            s.append(s.frame(from: from, to: to, etherType: type, payload: ProtocolMessages.ethernetStorage(type), wire: wire))
            s.append(s.frame(from: to, to: from, etherType: type, payload: ProtocolMessages.ethernetStorage(type), wire: wire))
        }
    }

    /// Captures of migration and storage traffic (rules 3001-3002, 4001-4003).
    public static let infrastructure: [ExampleCapture] = {
        typealias M = ProtocolMessages
        let migrationOverlay = Wire(tunnel: .vxlan(vni: 6000, from: Lab.vtep1, to: Lab.vtep2, tags: [Frames.dot1q(40)]))
        let storageOverlay = Wire(tunnel: .geneve(vni: 6001, from: Lab.vtep1, to: Lab.vtep2, tags: [Frames.dot1q(40)]))
        return [
            ExampleCapture(name: "migration-outside-migration-network",
                           summary: "3001 positive: vMotion, FT logging and Hyper-V live migration on the management network, QEMU, Proxmox, Xen, xend, VirtualBox, NBD, XenMotion and storage motion streams off the migration network") { s in
                s.tcp(client: Lab.esxi1, clientPort: 51001, server: Lab.esxi2, serverPort: 8000, wire: Lab.mgmtVLAN, messages: [(true, [UInt8](repeating: 0x33, count: 900))])
                s.tcp(client: Lab.hyperv, clientPort: 51002, server: Lab.hyperv2, serverPort: 6600, wire: Lab.mgmtVLAN, messages: [(true, [UInt8](repeating: 0x44, count: 900))])
                s.tcp(client: Lab.kvm1, clientPort: 51003, server: Lab.kvm2, serverPort: 49152, wire: Lab.mgmtVLAN, messages: M.qemuMigration())
                s.tcp(client: Lab.kvm1Storage, clientPort: 51004, server: Lab.nas, serverPort: 60001, wire: Lab.storageVLAN, messages: M.qemuMigration())
                s.tcp(client: Lab.xenServer1, clientPort: 51005, server: Lab.xenServer2, serverPort: 9876, wire: Lab.mgmtVLAN, messages: M.xenStream())
                s.tcp(client: Lab.xenServer1, clientPort: 51006, server: Lab.xenServer2, serverPort: 8002, wire: Lab.mgmtVLAN, messages: M.xendRelocation())
                s.tcp(client: Lab.kvm1, clientPort: 51007, server: Lab.kvm2, serverPort: 6000, wire: Lab.mgmtVLAN, messages: M.virtualBoxTeleporter())
                s.tcp(client: Lab.kvm1, clientPort: 51008, server: Lab.kvm2, serverPort: 10809, wire: Lab.mgmtVLAN, messages: M.nbd(startTLS: false))
                s.tcp(client: Lab.xenServer1, clientPort: 51009, server: Lab.xenServer2, serverPort: 80, wire: Lab.mgmtVLAN, messages: M.xenMotionHTTP())
                s.tcp(client: Lab.xenServer2, clientPort: 51010, server: Lab.xenServer1, serverPort: 80, wire: Lab.mgmtVLAN, messages: M.xenMotionHTTP(storageMotion: true))
                s.tcp(client: Lab.esxi1, clientPort: 51011, server: Lab.esxi2, serverPort: 8100, wire: Lab.mgmtVLAN, messages: [(true, [UInt8](repeating: 0x46, count: 600))])
            },
            ExampleCapture(name: "migration-outside-migration-network-ok",
                           summary: "3001 negative: vMotion on its VLAN, TLS-wrapped QEMU migration and QEMU over a migration overlay, port 8000 between guests") { s in
                s.tcp(client: Lab.esxi1VMotion, clientPort: 52001, server: Lab.esxi2VMotion, serverPort: 8000, wire: Lab.vmotionVLAN, messages: [(true, [UInt8](repeating: 0x33, count: 900))])
                s.tcp(client: Lab.kvm1Migration, clientPort: 52002, server: Lab.kvm2Migration, serverPort: 49153, wire: Lab.vmotionVLAN, messages: M.qemuMigration(tls: true))
                s.tcp(client: Lab.kvm1Migration, clientPort: 52003, server: Lab.kvm2Migration, serverPort: 49154, wire: migrationOverlay, messages: M.qemuMigration(tls: true))
                s.tcp(client: Lab.web1, clientPort: 52004, server: Lab.web2, serverPort: 8000, wire: Lab.guestVLAN, messages: M.httpPage())
            },
            ExampleCapture(name: "inventory-roles",
                           summary: "with config/examples/inventory.yaml: vMotion between two VMkernel interfaces on a guest VLAN (3001 by port and each interface misplaced), a storage VMkernel interface on the vMotion VLAN (4001), a management one on a guest VLAN (1006), a BMC in the services subnet reached from a guest (1004); port 8000 between two guests is nothing") { s in
                let vmotionA = Host("192.168.100.70", mac: "00:50:56:6a:00:01"), vmotionB = Host("192.168.100.71", mac: "00:50:56:6a:00:02")
                s.tcp(client: vmotionA, clientPort: 54001, server: vmotionB, serverPort: 8000, wire: Lab.guestVLAN, messages: [(true, [UInt8](repeating: 0x33, count: 900))])
                s.tcp(client: Lab.web1, clientPort: 54002, server: Lab.web2, serverPort: 8000, wire: Lab.guestVLAN, messages: M.httpPage())
                s.tcp(client: Host("10.30.0.45"), clientPort: 54003, server: Lab.nas, serverPort: 2049, wire: Lab.vmotionVLAN)
                s.tcp(client: Lab.adminWorkstation, clientPort: 54004, server: Host("192.168.101.80"), serverPort: 443, wire: Wire.vlan(101), messages: [(true, tlsHello)])
                s.tcp(client: Lab.web1, clientPort: 54005, server: Host("10.50.0.31"), serverPort: 443, wire: Lab.servicesVLAN, messages: [(true, tlsHello)])
            },
            ExampleCapture(name: "unencrypted-migration-stream",
                           summary: "3002 positive: QEMU and Xen streams in clear on the migration network, over VLAN and overlay") { s in
                s.tcp(client: Lab.kvm1Migration, clientPort: 53001, server: Lab.kvm2Migration, serverPort: 49152, wire: Lab.vmotionVLAN, messages: M.qemuMigration())
                s.tcp(client: Lab.kvm1Migration, clientPort: 53002, server: Lab.kvm2Migration, serverPort: 49155, wire: migrationOverlay, messages: M.xenStream())
            },
            ExampleCapture(name: "unencrypted-migration-stream-ok",
                           summary: "3002 negative: QEMU migration in TLS, NBD with STARTTLS") { s in
                s.tcp(client: Lab.kvm1Migration, clientPort: 54001, server: Lab.kvm2Migration, serverPort: 49152, wire: Lab.vmotionVLAN, messages: M.qemuMigration(tls: true))
                s.tcp(client: Lab.kvm1Migration, clientPort: 54002, server: Lab.kvm2Migration, serverPort: 10809, wire: Lab.vmotionVLAN, messages: M.nbd(startTLS: true))
            },
            ExampleCapture(name: "storage-outside-storage-network",
                           summary: "4001 positive: iSCSI, NFS, NVMe/TCP, Ceph and SMB from management addresses, FCoE and FIP on the management VLAN, AoE on a guest VLAN") { s in
                s.tcp(client: Lab.esxi1, clientPort: 55001, server: Lab.san, serverPort: 3260, wire: Lab.mgmtVLAN,
                      messages: M.iscsiLogin(initiator: "iqn.1998-01.com.vmware:esxi1", target: "iqn.2010-06.com.example:san.lun0", auth: "CHAP", accepted: true))
                s.tcp(client: Lab.kvm1, clientPort: 801, server: Lab.nas, serverPort: 2049, wire: Lab.mgmtVLAN,
                      messages: [(true, M.rpcCall(program: 100_003, procedure: 1, flavor: 6))])
                s.tcp(client: Lab.esxi2, clientPort: 55003, server: Lab.san, serverPort: 4420, wire: Lab.mgmtVLAN, messages: [(true, M.nvmeICReq())])
                s.tcp(client: Lab.kvm1, clientPort: 55004, server: Lab.cephMonitor, serverPort: 6789, wire: Lab.mgmtVLAN, messages: M.cephBanner())
                s.tcp(client: Lab.hyperv, clientPort: 55005, server: Lab.fileServer, serverPort: 445, wire: Lab.mgmtVLAN, messages: M.smbSession(signed: true))
                ethernetStorageExchange(s, Host("10.10.0.61", mac: "0e:fc:00:01:00:01"), Host("10.10.0.62", mac: "0e:fc:00:02:00:02"), 0x8906, Lab.mgmtVLAN)
                ethernetStorageExchange(s, Host("10.10.0.61", mac: "0e:fc:00:01:00:01"), Host("10.10.0.62", mac: "0e:fc:00:02:00:02"), 0x8914, Lab.mgmtVLAN)
                ethernetStorageExchange(s, Host("192.168.100.70", mac: "02:ae:00:00:00:01"), Host("192.168.100.71", mac: "02:ae:00:00:00:02"), 0x88A2, Lab.guestVLAN)
            },
            ExampleCapture(name: "storage-outside-storage-network-ok",
                           summary: "4001 negative: iSCSI, NFS with Kerberos, NVMe/TCP, signed SMB and FCoE on the storage VLAN, iSCSI over a storage overlay, a tenant's own NFS") { s in
                s.tcp(client: Lab.esxi1Storage, clientPort: 56001, server: Lab.san, serverPort: 3260, wire: Lab.storageVLAN,
                      messages: M.iscsiLogin(initiator: "iqn.1998-01.com.vmware:esxi1", target: "iqn.2010-06.com.example:san.lun0", auth: "CHAP", accepted: true))
                s.tcp(client: Lab.kvm1Storage, clientPort: 802, server: Lab.nas, serverPort: 2049, wire: Lab.storageVLAN,
                      messages: [(true, M.rpcCall(program: 100_003, procedure: 1, flavor: 6))])
                s.tcp(client: Lab.esxi1Storage, clientPort: 56003, server: Lab.san, serverPort: 4420, wire: Lab.storageVLAN, messages: [(true, M.nvmeICReq())])
                s.tcp(client: Lab.kvm1Storage, clientPort: 56004, server: Lab.fileServer, serverPort: 445, wire: Lab.storageVLAN, messages: M.smbSession(signed: true))
                ethernetStorageExchange(s, Host("10.20.0.61", mac: "0e:fc:00:01:00:01"), Host("10.20.0.62", mac: "0e:fc:00:02:00:02"), 0x8906, Lab.storageVLAN)
                s.tcp(client: Lab.kvm1Storage, clientPort: 56005, server: Lab.san, serverPort: 3260, wire: storageOverlay,
                      messages: M.iscsiLogin(initiator: "iqn.2004-10.org.example:kvm1", target: "iqn.2010-06.com.example:san.lun1", auth: "CHAP", accepted: true))
                s.tcp(client: Lab.web1, clientPort: 803, server: Lab.tenantNAS, serverPort: 2049, wire: Lab.guestVLAN,
                      messages: [(true, M.rpcCall(program: 100_003, procedure: 1, flavor: 1))])
            },
            ExampleCapture(name: "storage-without-authentication",
                           summary: "4002 positive: iSCSI logins with AuthMethod=None and without a security stage") { s in
                s.tcp(client: Lab.esxi1Storage, clientPort: 57001, server: Lab.san, serverPort: 3260, wire: Lab.storageVLAN,
                      messages: M.iscsiLogin(initiator: "iqn.1998-01.com.vmware:esxi1", target: "iqn.2010-06.com.example:san.lun2", auth: "None", accepted: true))
                s.tcp(client: Lab.kvm1Storage, clientPort: 57002, server: Lab.san, serverPort: 3260, wire: Lab.storageVLAN,
                      messages: M.iscsiLogin(initiator: "iqn.2004-10.org.example:kvm1", target: "iqn.2010-06.com.example:san.lun3", auth: nil, accepted: true))
            },
            ExampleCapture(name: "storage-without-authentication-ok",
                           summary: "4002 negative: iSCSI with CHAP, AuthMethod=None refused, a discovery session") { s in
                s.tcp(client: Lab.esxi1Storage, clientPort: 58001, server: Lab.san, serverPort: 3260, wire: Lab.storageVLAN,
                      messages: M.iscsiLogin(initiator: "iqn.1998-01.com.vmware:esxi1", target: "iqn.2010-06.com.example:san.lun0", auth: "CHAP", accepted: true))
                s.tcp(client: Lab.kvm1Storage, clientPort: 58002, server: Lab.san, serverPort: 3260, wire: Lab.storageVLAN,
                      messages: M.iscsiLogin(initiator: "iqn.2004-10.org.example:kvm1", target: "iqn.2010-06.com.example:san.lun3", auth: "None", accepted: false))
                s.tcp(client: Lab.kvm1Storage, clientPort: 58003, server: Lab.san, serverPort: 3260, wire: Lab.storageVLAN,
                      messages: M.iscsiLogin(initiator: "iqn.2004-10.org.example:kvm1", target: "", auth: "None", accepted: true, sessionType: "Discovery"))
            },
            ExampleCapture(name: "storage-weak-authentication",
                           summary: "4003 positive: NFS with AUTH_SYS, AoE, unsigned SMB, all on the storage VLAN") { s in
                s.tcp(client: Lab.kvm1Storage, clientPort: 804, server: Lab.nas, serverPort: 2049, wire: Lab.storageVLAN,
                      messages: [(true, M.rpcCall(program: 100_003, procedure: 0, flavor: 0)), (true, M.rpcCall(program: 100_003, procedure: 1, flavor: 1, xid: 2))])
                ethernetStorageExchange(s, Host("10.20.0.71", mac: "02:ae:00:00:00:11"), Host("10.20.0.72", mac: "02:ae:00:00:00:12"), 0x88A2, Lab.storageVLAN)
                s.tcp(client: Lab.kvm1Storage, clientPort: 59003, server: Lab.fileServer, serverPort: 445, wire: Lab.storageVLAN, messages: M.smbSession(signed: false))
            },
            ExampleCapture(name: "storage-weak-authentication-ok",
                           summary: "4003 negative: NFS with RPCSEC_GSS, signed SMB, encrypted SMB") { s in
                s.tcp(client: Lab.kvm1Storage, clientPort: 805, server: Lab.nas, serverPort: 2049, wire: Lab.storageVLAN,
                      messages: [(true, M.rpcCall(program: 100_003, procedure: 0, flavor: 0)), (true, M.rpcCall(program: 100_003, procedure: 1, flavor: 6, xid: 2))])
                s.tcp(client: Lab.kvm1Storage, clientPort: 60002, server: Lab.fileServer, serverPort: 445, wire: Lab.storageVLAN, messages: M.smbSession(signed: true))
                s.tcp(client: Lab.kvm1Storage, clientPort: 60003, server: Lab.fileServer, serverPort: 445, wire: Lab.storageVLAN, messages: M.smbSession(signed: false, encrypted: true))
            },
        ]
    }()

    /// Captures of the zone rules (1001-1006, 5002, 7001) and the site example.
    public static let zoneRules: [ExampleCapture] = [
        ExampleCapture(name: "guest-to-management",
                       summary: "1001 positive: a guest reaches vCenter by address and a host on the management VLAN") { s in
            s.tcp(client: Lab.web1, clientPort: 40001, server: Lab.vcenter, serverPort: 443, wire: Lab.guestVLAN,
                  messages: [(true, tlsHello)])
            s.tcp(client: Lab.web2, clientPort: 40002, server: Host("10.60.0.9"), serverPort: 22, wire: Lab.mgmtVLAN,
                  messages: [(false, sshBanner)])
        },
        ExampleCapture(name: "guest-to-management-ok",
                       summary: "1001 negative: admin to ESXi, guest to guest, allowed NTP, management to guest") { s in
            s.tcp(client: Lab.adminWorkstation, clientPort: 40010, server: Lab.esxi1, serverPort: 22, wire: Lab.adminVLAN, messages: [(false, sshBanner)])
            s.tcp(client: Lab.web1, clientPort: 40011, server: Lab.web2, serverPort: 80, wire: Lab.guestVLAN, messages: [(true, http), (false, httpOK)])
            s.udp(client: Lab.web1, clientPort: 40012, server: Lab.vcenter, serverPort: 123, wire: Lab.guestVLAN, request: ntp, response: ntp)
            s.tcp(client: Lab.vcenter, clientPort: 40013, server: Lab.web1, serverPort: 443, wire: Lab.guestVLAN, messages: [(true, tlsHello)])
        },
        ExampleCapture(name: "guest-to-storage",
                       summary: "1002 positive: a guest opens an iSCSI session to the SAN") { s in
            s.tcp(client: Lab.web1, clientPort: 40020, server: Lab.san, serverPort: 3260, wire: Lab.guestVLAN)
        },
        ExampleCapture(name: "guest-to-storage-ok",
                       summary: "1002 negative: the hypervisor's storage interface talks to the SAN") { s in
            s.tcp(client: Lab.esxi1Storage, clientPort: 40021, server: Lab.san, serverPort: 3260, wire: Lab.storageVLAN)
        },
        ExampleCapture(name: "guest-to-migration",
                       summary: "1003 positive: a guest connects to a vMotion interface") { s in
            s.tcp(client: Lab.web1, clientPort: 40030, server: Lab.esxi1VMotion, serverPort: 8000, wire: Lab.guestVLAN)
        },
        ExampleCapture(name: "guest-to-migration-ok",
                       summary: "1003 negative: vMotion between two hosts on the vMotion VLAN") { s in
            s.tcp(client: Lab.esxi1VMotion, clientPort: 40031, server: Lab.esxi2VMotion, serverPort: 8000, wire: Lab.vmotionVLAN,
                  messages: [(true, [UInt8](repeating: 0xAB, count: 1200))])
        },
        ExampleCapture(name: "management-exposed",
                       summary: "1004 positive: the backup server reaches ESXi authd and SSH; an Internet host reaches vCenter") { s in
            s.tcp(client: Lab.backup, clientPort: 40040, server: Lab.esxi1, serverPort: 902, wire: Lab.mgmtVLAN,
                  messages: [(false, Array("220 VMware Authentication Daemon Version 1.10: SSL Required\r\n".utf8))])
            s.tcp(client: Lab.backup, clientPort: 40041, server: Lab.esxi1, serverPort: 22, wire: Lab.mgmtVLAN, messages: [(false, sshBanner)])
            s.tcp(client: Lab.internetHost, clientPort: 40042, server: Lab.vcenter, serverPort: 443, wire: Lab.mgmtVLAN, messages: [(true, tlsHello)])
        },
        ExampleCapture(name: "management-exposed-ok",
                       summary: "1004 negative: admin to vCenter, backup to a non-management port, a guest (rule 1001's case)") { s in
            s.tcp(client: Lab.adminWorkstation, clientPort: 40043, server: Lab.vcenter, serverPort: 443, wire: Lab.mgmtVLAN, messages: [(true, tlsHello)])
            s.tcp(client: Lab.backup, clientPort: 40044, server: Lab.esxi1, serverPort: 9999, wire: Lab.mgmtVLAN)
            s.tcp(client: Lab.web1, clientPort: 40045, server: Lab.vcenter, serverPort: 443, wire: Lab.guestVLAN, messages: [(true, tlsHello)])
        },
        ExampleCapture(name: "zone-policy-violation",
                       summary: "1005 positive: with default-deny, the backup server connects to a guest's port 8080") { s in
            s.tcp(client: Lab.backup, clientPort: 40050, server: Lab.web1, serverPort: 8080, wire: Lab.guestVLAN, messages: [(true, http), (false, httpOK)])
        },
        ExampleCapture(name: "zone-policy-violation-ok",
                       summary: "1005 negative: allowed admin SSH, allowed DNS, same-zone traffic") { s in
            s.tcp(client: Lab.adminWorkstation, clientPort: 40051, server: Lab.esxi1, serverPort: 22, wire: Lab.mgmtVLAN, messages: [(false, sshBanner)])
            s.udp(client: Lab.web1, clientPort: 40052, server: Lab.dns, serverPort: 53, wire: Lab.servicesVLAN, request: dnsQuery, response: dnsQuery)
            s.tcp(client: Lab.web1, clientPort: 40053, server: Lab.web2, serverPort: 80, wire: Lab.guestVLAN, messages: [(true, http), (false, httpOK)])
        },
        ExampleCapture(name: "management-service-misplaced",
                       summary: "1006 positive: libvirt answers on a guest address; ESXi authd answers on the storage VLAN") { s in
            s.tcp(client: Lab.adminWorkstation, clientPort: 40060, server: Lab.rogueHypervisorGuest, serverPort: 16509, wire: Lab.guestVLAN)
            s.tcp(client: Lab.esxi2, clientPort: 40061, server: Lab.esxi1Storage, serverPort: 902, wire: Lab.storageVLAN)
        },
        ExampleCapture(name: "management-service-misplaced-ok",
                       summary: "1006 negative: a refused libvirt port, SSH on a guest, authd on the management VLAN") { s in
            s.tcp(client: Lab.adminWorkstation, clientPort: 40062, server: Lab.closedGuest, serverPort: 16509, wire: Lab.guestVLAN, opening: .refused)
            s.tcp(client: Lab.adminWorkstation, clientPort: 40063, server: Lab.web1, serverPort: 22, wire: Lab.guestVLAN, messages: [(false, sshBanner)])
            s.tcp(client: Lab.vcenter, clientPort: 40064, server: Lab.esxi1, serverPort: 902, wire: Lab.mgmtVLAN)
        },
        ExampleCapture(name: "undeclared-vlan",
                       summary: "5002 positive: traffic on VLAN 999 and on VXLAN VNI 7777, neither declared") { s in
            s.ping(from: Lab.web1, to: Lab.web2, wire: .vlan(999))
            let overlay = Wire(tunnel: .vxlan(vni: 7777, from: Lab.vtep1, to: Lab.vtep2, tags: [Frames.dot1q(40)]))
            s.ping(from: Lab.web1, to: Lab.web2, wire: overlay)
        },
        ExampleCapture(name: "undeclared-vlan-ok",
                       summary: "5002 negative: declared VLAN 100, declared VNI 5000, a priority-only tag") { s in
            s.ping(from: Lab.web1, to: Lab.web2, wire: Lab.guestVLAN)
            let overlay = Wire(tunnel: .vxlan(vni: 5000, from: Lab.vtep1, to: Lab.vtep2, tags: [Frames.dot1q(40)]))
            s.ping(from: Lab.web1, to: Lab.web2, wire: overlay)
            s.ping(from: Lab.web1, to: Lab.web2, wire: Wire(tags: [Frames.dot1q(0, priority: 5)]))
        },
        ExampleCapture(name: "unknown-address",
                       summary: "7001 positive: a guest reaches 10.77.0.5, an address in no zone") { s in
            s.tcp(client: Lab.web1, clientPort: 40070, server: Lab.strangerInternal, serverPort: 80, wire: Lab.guestVLAN, messages: [(true, http), (false, httpOK)])
        },
        ExampleCapture(name: "unknown-address-ok",
                       summary: "7001 negative: broadcast, multicast, link-local and declared addresses") { s in
            s.udp(client: Lab.web1, clientPort: 68, server: Host("255.255.255.255", mac: "ff:ff:ff:ff:ff:ff"), serverPort: 67, wire: Lab.guestVLAN, request: ntp)
            s.udp(client: Lab.web1, clientPort: 5353, server: Host("224.0.0.251", mac: "01:00:5e:00:00:fb"), serverPort: 5353, wire: Lab.guestVLAN, request: dnsQuery)
            s.ping(from: Host("fe80::1"), to: Host("fe80::2"), wire: Lab.guestVLAN)
            s.ping(from: Lab.guestV6, to: Lab.guestV6Peer, wire: Lab.guestVLAN)
        },
        ExampleCapture(name: "example-site",
                       summary: "A day in the example VMware/KVM site: normal operations through the firewall and six findings") { s in
            // Normal operations. Traffic between zones passes the firewall: each
            // conversation is seen on one side of it, with its MAC for the other party.
            func routed(_ wire: Wire, _ local: Host) -> Wire { wire.routed(via: Lab.firewall, for: local) }
            s.tcp(client: Lab.adminWorkstation, clientPort: 50001, server: Lab.vcenter, serverPort: 443, wire: routed(Lab.mgmtVLAN, Lab.vcenter), messages: [(true, tlsHello)])
            s.tcp(client: Lab.vcenter, clientPort: 50002, server: Lab.esxi1, serverPort: 902, wire: Lab.mgmtVLAN)
            s.tcp(client: Lab.esxi1Storage, clientPort: 50003, server: Lab.san, serverPort: 3260, wire: Lab.storageVLAN)
            s.tcp(client: Lab.esxi1VMotion, clientPort: 50004, server: Lab.esxi2VMotion, serverPort: 8000, wire: Lab.vmotionVLAN,
                  messages: [(true, [UInt8](repeating: 0xCD, count: 1400))])
            let overlay = Wire(tunnel: .vxlan(vni: 5000, from: Lab.vtep1, to: Lab.vtep2, tags: [Frames.dot1q(40)]))
            s.tcp(client: Lab.web1, clientPort: 50005, server: Lab.db1, serverPort: 5432, wire: routed(overlay, Lab.web1))
            s.udp(client: Lab.web1, clientPort: 50006, server: Lab.dns, serverPort: 53, wire: routed(Lab.servicesVLAN, Lab.dns), request: dnsQuery, response: dnsQuery)
            s.tcp(client: Lab.web1, clientPort: 50007, server: Lab.internetHost, serverPort: 443, wire: routed(Lab.guestVLAN, Lab.web1), messages: [(true, tlsHello)])
            // Findings.
            s.tcp(client: Lab.web2, clientPort: 50010, server: Lab.vcenter, serverPort: 443, wire: routed(Lab.guestVLAN, Lab.web2), messages: [(true, tlsHello)])
            s.tcp(client: Lab.backup, clientPort: 50011, server: Lab.esxi1, serverPort: 22, wire: routed(Lab.mgmtVLAN, Lab.esxi1), messages: [(false, sshBanner)])
            s.tcp(client: Lab.adminWorkstation, clientPort: 50012, server: Lab.rogueHypervisorGuest, serverPort: 16509, wire: routed(Lab.guestVLAN, Lab.rogueHypervisorGuest))
            s.ping(from: Lab.web1, to: Lab.web2, wire: .vlan(77))
            s.tcp(client: Lab.web1, clientPort: 50013, server: Lab.strangerInternal, serverPort: 80, wire: routed(Lab.guestVLAN, Lab.web1), messages: [(true, http)])
        },
    ]

    /// Captures of logins and consoles (rules 2001-2005).
    public static let adminAccess: [ExampleCapture] = {
        typealias M = ProtocolMessages
        return [
            ExampleCapture(name: "cleartext-admin-login",
                           summary: "2001 positive: telnet, FTP, HTTP Basic, rsh, rlogin, LDAP, SNMP, VeNCrypt Plain, IPMI, authd and WinRM logins in clear, some split, retransmitted or out of order") { s in
                s.tcp(client: Lab.adminWorkstation, clientPort: 41001, server: Lab.esxi1, serverPort: 23, wire: Lab.mgmtVLAN,
                      messages: M.telnetLogin(user: "root", password: "Esx!2026", accepted: true))
                s.tcp(client: Lab.backup, clientPort: 41002, server: Lab.ftpServer, serverPort: 21, wire: Lab.servicesVLAN,
                      messages: M.ftpLogin(user: "backup", password: "Backup#77", accepted: false), segmentation: .retransmitted(5))
                s.tcp(client: Lab.web1, clientPort: 41003, server: Lab.vcenter, serverPort: 80, wire: Lab.guestVLAN,
                      messages: M.httpBasic(user: "administrator@vsphere.local", password: "VMware1!VMware1!"), segmentation: .outOfOrder(9))
                s.tcp(client: Lab.adminWorkstation, clientPort: 1021, server: Lab.kvm1, serverPort: 514, wire: Lab.mgmtVLAN,
                      messages: M.rsh(clientUser: "ops", serverUser: "root", command: "virsh list --all", accepted: true))
                s.tcp(client: Lab.adminWorkstation, clientPort: 1022, server: Lab.esxi2, serverPort: 513, wire: Lab.mgmtVLAN,
                      messages: M.rlogin(clientUser: "ops", serverUser: "root"))
                s.tcp(client: Lab.adminWorkstation, clientPort: 41006, server: Lab.ldap, serverPort: 389, wire: Lab.servicesVLAN,
                      messages: [(true, M.ldapBind(id: 1, dn: "cn=admin,dc=lab,dc=example", password: "Ld4p-Adm1n")), (false, M.ldapBindResponse(id: 1, code: 0))],
                      segmentation: .overlapping(11))
                s.udp(client: Lab.backup, clientPort: 41007, server: Lab.esxi2, serverPort: 161, wire: Lab.mgmtVLAN,
                      request: M.snmp(version: 1, community: "s3cr3t-c0mm", requestID: 77, response: false),
                      response: M.snmp(version: 1, community: "s3cr3t-c0mm", requestID: 77, response: true))
                s.tcp(client: Lab.adminWorkstation, clientPort: 41008, server: Lab.kvm1, serverPort: 5901, wire: Lab.mgmtVLAN,
                      messages: M.vencrypt(subtype: 256, user: "vnc-admin", password: "Vnc-Pass-1"), segmentation: .split(7))
                s.udp(client: Lab.adminWorkstation, clientPort: 41009, server: Lab.bmc, serverPort: 623, wire: Lab.mgmtVLAN,
                      request: M.ipmi15(authType: 4, sessionID: 0x0102_0304, password: "calvin"))
                s.tcp(client: Lab.backup, clientPort: 41010, server: Lab.esxi1, serverPort: 902, wire: Lab.mgmtVLAN,
                      messages: M.ftpLogin(user: "vpxuser", password: "Vpx-Secret-9", accepted: true, banner: M.authdBanner))
                s.tcp(client: Lab.adminWorkstation, clientPort: 41011, server: Lab.hyperv, serverPort: 5985, wire: Lab.mgmtVLAN,
                      messages: M.winrmBasic(user: "LAB\\hvadmin", password: "Hyper-V-2026"))
                // Typed ahead of the prompts (a script), no answer before the connection ends.
                s.tcp(client: Lab.adminWorkstation, clientPort: 41012, server: Lab.kvm2, serverPort: 23, wire: Lab.mgmtVLAN,
                      messages: M.telnetTypeAhead(user: "root", password: "Typed-Ahead-7", accepted: nil))
                // Secrets where a user name belongs: an API token as the HTTP Basic user, FTP's USER name:secret.
                s.tcp(client: Lab.adminWorkstation, clientPort: 41013, server: Lab.vcenter, serverPort: 80, wire: Lab.mgmtVLAN,
                      messages: M.httpBasic(user: "ghp_Zw7TokenInUserField0123456789abcd", password: ""))
                s.tcp(client: Lab.backup, clientPort: 41014, server: Lab.ftpServer, serverPort: 21, wire: Lab.servicesVLAN,
                      messages: M.ftpLogin(user: "root:Ftp-Colon-3", password: "x", accepted: false))
            },
            ExampleCapture(name: "cleartext-admin-login-ok",
                           summary: "2001 negative: SSH, FTP with AUTH TLS, LDAP StartTLS, a telnet session seen mid-stream, an HTTPS redirect, refused anonymous FTP") { s in
                s.tcp(client: Lab.adminWorkstation, clientPort: 42001, server: Lab.esxi1, serverPort: 22, wire: Lab.mgmtVLAN,
                      messages: [(false, Array("SSH-2.0-OpenSSH_9.2\r\n".utf8)), (true, Array("SSH-2.0-OpenSSH_9.6\r\n".utf8)), (true, [UInt8](repeating: 0x14, count: 64))])
                s.tcp(client: Lab.backup, clientPort: 42002, server: Lab.ftpServer, serverPort: 21, wire: Lab.servicesVLAN, messages: M.ftpAuthTLS())
                s.tcp(client: Lab.adminWorkstation, clientPort: 42003, server: Lab.ldap, serverPort: 389, wire: Lab.servicesVLAN,
                      messages: [(true, M.ldapStartTLS(id: 1)), (false, M.ldapExtendedResponse(id: 1, code: 0)),
                                 (true, [0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x03]),
                                 (true, M.ldapBind(id: 2, dn: "cn=admin,dc=lab,dc=example", password: "inside-tls"))])
                s.tcp(client: Lab.adminWorkstation, clientPort: 42004, server: Lab.esxi1, serverPort: 23, wire: Lab.mgmtVLAN, opening: .midstream,
                      messages: [(false, Array("Password: ".utf8)), (true, Array("hunter2\r\n".utf8)), (false, Array("\r\n# ".utf8))])
                s.tcp(client: Lab.adminWorkstation, clientPort: 42005, server: Lab.vcenter, serverPort: 80, wire: Lab.mgmtVLAN,
                      messages: M.httpPage(status: 301, location: "https://vcenter.lab.example/ui/"))
                s.tcp(client: Lab.web1, clientPort: 42006, server: Lab.ftpServer, serverPort: 21, wire: Lab.servicesVLAN,
                      messages: M.ftpLogin(user: "anonymous", password: "guest@example.com", accepted: false))
            },
            ExampleCapture(name: "anonymous-admin-access",
                           summary: "2002 positive: anonymous FTP, RFB None, SNMP public answered, libvirt auth none, IPMI cipher suite 0 and auth none, LDAP anonymous bind") { s in
                s.tcp(client: Lab.web1, clientPort: 43001, server: Lab.ftpServer, serverPort: 21, wire: Lab.servicesVLAN,
                      messages: M.ftpLogin(user: "anonymous", password: "guest@example.com", accepted: true))
                s.tcp(client: Lab.adminWorkstation, clientPort: 43002, server: Lab.kvm1, serverPort: 5900, wire: Lab.mgmtVLAN,
                      messages: M.rfb(offered: [1], chosen: 1, accepted: true))
                s.udp(client: Lab.backup, clientPort: 43003, server: Lab.esxi2, serverPort: 161, wire: Lab.mgmtVLAN,
                      request: M.snmp(version: 1, community: "public", requestID: 5, response: false),
                      response: M.snmp(version: 1, community: "public", requestID: 5, response: true))
                s.tcp(client: Lab.adminWorkstation, clientPort: 43004, server: Lab.kvm1, serverPort: 16509, wire: Lab.mgmtVLAN,
                      messages: M.libvirtAuthList(authTypes: [0]))
                s.udp(client: Lab.adminWorkstation, clientPort: 43005, server: Lab.bmc, serverPort: 623, wire: Lab.mgmtVLAN,
                      request: M.rakp1(user: "ADMIN"), response: M.rmcpPlusOpenSessionResponse(algorithms: (0, 0, 0)))
                s.udp(client: Lab.adminWorkstation, clientPort: 43006, server: Lab.bmc, serverPort: 623, wire: Lab.mgmtVLAN,
                      request: M.ipmi15(authType: 0, sessionID: 0x0A0B_0C0D))
                s.tcp(client: Lab.web1, clientPort: 43007, server: Lab.ldap, serverPort: 389, wire: Lab.servicesVLAN,
                      messages: [(true, M.ldapBind(id: 1, dn: "", password: "")), (false, M.ldapBindResponse(id: 1, code: 0))])
            },
            ExampleCapture(name: "anonymous-admin-access-ok",
                           summary: "2002 negative: anonymous FTP and RFB None refused, libvirt with SASL, IPMI cipher suite 3, an anonymous LDAP bind refused") { s in
                s.tcp(client: Lab.web1, clientPort: 44001, server: Lab.ftpServer, serverPort: 21, wire: Lab.servicesVLAN,
                      messages: M.ftpLogin(user: "ftp", password: "x@y", accepted: false))
                s.tcp(client: Lab.adminWorkstation, clientPort: 44002, server: Lab.kvm1, serverPort: 5900, wire: Lab.mgmtVLAN,
                      messages: M.rfb(offered: [1, 2], chosen: 1, accepted: false))
                s.tcp(client: Lab.adminWorkstation, clientPort: 44003, server: Lab.kvm1, serverPort: 16509, wire: Lab.mgmtVLAN,
                      messages: M.libvirtAuthList(authTypes: [1]))
                s.udp(client: Lab.adminWorkstation, clientPort: 44004, server: Lab.bmc, serverPort: 623, wire: Lab.mgmtVLAN,
                      request: M.rakp1(user: "ADMIN"), response: M.rmcpPlusOpenSessionResponse(algorithms: (1, 1, 1)))
                s.tcp(client: Lab.web1, clientPort: 44005, server: Lab.ldap, serverPort: 389, wire: Lab.servicesVLAN,
                      messages: [(true, M.ldapBind(id: 1, dn: "", password: "")), (false, M.ldapBindResponse(id: 1, code: 48))])
            },
            ExampleCapture(name: "unencrypted-management-protocol",
                           summary: "2003 positive: vCenter serving HTTP, ESXi CIM on 5988, libvirt on 16509") { s in
                s.tcp(client: Lab.adminWorkstation, clientPort: 45001, server: Lab.vcenter, serverPort: 80, wire: Lab.mgmtVLAN, messages: M.httpPage())
                s.tcp(client: Lab.adminWorkstation, clientPort: 45002, server: Lab.esxi1, serverPort: 5988, wire: Lab.mgmtVLAN, messages: M.httpPage())
                s.tcp(client: Lab.adminWorkstation, clientPort: 45003, server: Lab.kvm1, serverPort: 16509, wire: Lab.mgmtVLAN, messages: M.libvirtAuthList(authTypes: [1]))
            },
            ExampleCapture(name: "unencrypted-management-protocol-ok",
                           summary: "2003 negative: vCenter redirecting to HTTPS, a guest's web server, TLS 1.3 to vCenter") { s in
                s.tcp(client: Lab.adminWorkstation, clientPort: 46001, server: Lab.vcenter, serverPort: 80, wire: Lab.mgmtVLAN,
                      messages: M.httpPage(status: 302, location: "https://vcenter.lab.example/"))
                s.tcp(client: Lab.web2, clientPort: 46002, server: Lab.web1, serverPort: 80, wire: Lab.guestVLAN, messages: M.httpPage())
                s.tcp(client: Lab.adminWorkstation, clientPort: 46003, server: Lab.vcenter, serverPort: 443, wire: Lab.mgmtVLAN,
                      messages: M.tlsHandshake(offered: 0x0304, selected: 0x0304))
            },
            ExampleCapture(name: "weak-admin-authentication",
                           summary: "2004 positive: VNC password auth, SPICE without TLS, RDP standard security, IPMI MD5, SNMPv3 noAuthNoPriv, TLS 1.0 on vCenter") { s in
                s.tcp(client: Lab.adminWorkstation, clientPort: 47001, server: Lab.kvm1, serverPort: 5900, wire: Lab.mgmtVLAN, messages: M.rfb(offered: [2], chosen: 2, accepted: true))
                s.tcp(client: Lab.adminWorkstation, clientPort: 47002, server: Lab.kvm1, serverPort: 5930, wire: Lab.mgmtVLAN, messages: M.spiceLink())
                s.tcp(client: Lab.adminWorkstation, clientPort: 47003, server: Lab.hyperv, serverPort: 2179, wire: Lab.mgmtVLAN, messages: M.rdp(user: "hvadmin", requested: 0, selected: 0))
                s.udp(client: Lab.adminWorkstation, clientPort: 47004, server: Lab.bmc, serverPort: 623, wire: Lab.mgmtVLAN, request: M.ipmi15(authType: 2, sessionID: 0x1111_2222))
                s.udp(client: Lab.backup, clientPort: 47005, server: Lab.esxi2, serverPort: 161, wire: Lab.mgmtVLAN,
                      request: M.snmpV3(user: "monitor", flags: 0, messageID: 9), response: M.snmpV3(user: "monitor", flags: 0, messageID: 9))
                s.tcp(client: Lab.adminWorkstation, clientPort: 47006, server: Lab.vcenter, serverPort: 443, wire: Lab.mgmtVLAN,
                      messages: M.tlsHandshake(offered: 0x0301, selected: 0x0301))
            },
            ExampleCapture(name: "weak-admin-authentication-ok",
                           summary: "2004 negative: VeNCrypt with TLS, RDP with CredSSP, TLS 1.2 on vCenter, SNMPv3 authPriv, TLS 1.0 on a guest's web server") { s in
                s.tcp(client: Lab.adminWorkstation, clientPort: 48001, server: Lab.kvm1, serverPort: 5900, wire: Lab.mgmtVLAN, messages: M.vencrypt(subtype: 259))
                s.tcp(client: Lab.adminWorkstation, clientPort: 48002, server: Lab.hyperv, serverPort: 2179, wire: Lab.mgmtVLAN, messages: M.rdp(user: "hvadmin", requested: 3, selected: 2))
                s.tcp(client: Lab.adminWorkstation, clientPort: 48003, server: Lab.vcenter, serverPort: 443, wire: Lab.mgmtVLAN,
                      messages: M.tlsHandshake(offered: 0x0303, selected: 0x0303))
                s.udp(client: Lab.backup, clientPort: 48004, server: Lab.esxi2, serverPort: 161, wire: Lab.mgmtVLAN,
                      request: M.snmpV3(user: "monitor", flags: 3, messageID: 9), response: M.snmpV3(user: "monitor", flags: 3, messageID: 9))
                s.tcp(client: Lab.web2, clientPort: 48005, server: Lab.web1, serverPort: 443, wire: Lab.guestVLAN,
                      messages: M.tlsHandshake(offered: 0x0301, selected: 0x0301))
            },
            ExampleCapture(name: "console-exposed",
                           summary: "2005 positive: a guest opens VNC and VMConnect consoles on hypervisors; the backup server opens SPICE") { s in
                s.tcp(client: Lab.web1, clientPort: 49001, server: Lab.kvm1, serverPort: 5900, wire: Lab.guestVLAN, messages: M.rfb(offered: [2], chosen: 2, accepted: false))
                s.tcp(client: Lab.web1, clientPort: 49002, server: Lab.hyperv, serverPort: 2179, wire: Lab.guestVLAN, messages: M.rdp(user: "guest", requested: 3, selected: 2))
                s.tcp(client: Lab.backup, clientPort: 49003, server: Lab.kvm1, serverPort: 5931, wire: Lab.mgmtVLAN, messages: M.spiceLink())
            },
            ExampleCapture(name: "console-exposed-ok",
                           summary: "2005 negative: an administrator's VNC console with TLS, a guest's own remote desktop") { s in
                s.tcp(client: Lab.adminWorkstation, clientPort: 50001, server: Lab.kvm1, serverPort: 5900, wire: Lab.mgmtVLAN, messages: M.vencrypt(subtype: 259))
                s.tcp(client: Lab.web2, clientPort: 50002, server: Lab.web1, serverPort: 3389, wire: Lab.guestVLAN, messages: M.rdp(user: "user", requested: 3, selected: 2))
            },
        ]
    }()

    /// Builds one example capture in memory.
    public static func script(_ example: ExampleCapture) -> CaptureScript {
        let s = CaptureScript()
        example.build(s)
        return s
    }
}
