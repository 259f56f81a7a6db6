import Decode

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

    public static let mgmtVLAN = Wire.vlan(10)
    public static let adminVLAN = Wire.vlan(15)
    public static let storageVLAN = Wire.vlan(20)
    public static let vmotionVLAN = Wire.vlan(30)
    public static let servicesVLAN = Wire.vlan(50)
    public static let guestVLAN = Wire.vlan(100)
}

/// A capture the project builds for its examples and tests.
public struct ExampleCapture: Sendable {
    /// File name under `Captures/` (without `.pcap`).
    public let name: String
    /// The config under `config/` it goes with.
    public let config: String
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

    public static let all: [ExampleCapture] = [
        ExampleCapture(name: "guest-to-management", config: "examples/guest-to-management.yaml",
                       summary: "1001 positive: a guest reaches vCenter by address and a host on the management VLAN") { s in
            s.tcp(client: Lab.web1, clientPort: 40001, server: Lab.vcenter, serverPort: 443, wire: Lab.guestVLAN,
                  messages: [(true, tlsHello)])
            s.tcp(client: Lab.web2, clientPort: 40002, server: Host("10.60.0.9"), serverPort: 22, wire: Lab.mgmtVLAN,
                  messages: [(false, sshBanner)])
        },
        ExampleCapture(name: "guest-to-management-ok", config: "examples/guest-to-management.yaml",
                       summary: "1001 negative: admin to ESXi, guest to guest, allowed NTP, management to guest") { s in
            s.tcp(client: Lab.adminWorkstation, clientPort: 40010, server: Lab.esxi1, serverPort: 22, wire: Lab.adminVLAN, messages: [(false, sshBanner)])
            s.tcp(client: Lab.web1, clientPort: 40011, server: Lab.web2, serverPort: 80, wire: Lab.guestVLAN, messages: [(true, http), (false, httpOK)])
            s.udp(client: Lab.web1, clientPort: 40012, server: Lab.vcenter, serverPort: 123, wire: Lab.guestVLAN, request: ntp, response: ntp)
            s.tcp(client: Lab.vcenter, clientPort: 40013, server: Lab.web1, serverPort: 443, wire: Lab.guestVLAN, messages: [(true, tlsHello)])
        },
        ExampleCapture(name: "guest-to-storage", config: "examples/site-roles.yaml",
                       summary: "1002 positive: a guest opens an iSCSI session to the SAN") { s in
            s.tcp(client: Lab.web1, clientPort: 40020, server: Lab.san, serverPort: 3260, wire: Lab.guestVLAN)
        },
        ExampleCapture(name: "guest-to-storage-ok", config: "examples/site-roles.yaml",
                       summary: "1002 negative: the hypervisor's storage interface talks to the SAN") { s in
            s.tcp(client: Lab.esxi1Storage, clientPort: 40021, server: Lab.san, serverPort: 3260, wire: Lab.storageVLAN)
        },
        ExampleCapture(name: "guest-to-migration", config: "examples/site-roles.yaml",
                       summary: "1003 positive: a guest connects to a vMotion interface") { s in
            s.tcp(client: Lab.web1, clientPort: 40030, server: Lab.esxi1VMotion, serverPort: 8000, wire: Lab.guestVLAN)
        },
        ExampleCapture(name: "guest-to-migration-ok", config: "examples/site-roles.yaml",
                       summary: "1003 negative: vMotion between two hosts on the vMotion VLAN") { s in
            s.tcp(client: Lab.esxi1VMotion, clientPort: 40031, server: Lab.esxi2VMotion, serverPort: 8000, wire: Lab.vmotionVLAN,
                  messages: [(true, [UInt8](repeating: 0xAB, count: 1200))])
        },
        ExampleCapture(name: "management-exposed", config: "examples/site-roles.yaml",
                       summary: "1004 positive: the backup server reaches ESXi authd and SSH; an Internet host reaches vCenter") { s in
            s.tcp(client: Lab.backup, clientPort: 40040, server: Lab.esxi1, serverPort: 902, wire: Lab.mgmtVLAN,
                  messages: [(false, Array("220 VMware Authentication Daemon Version 1.10: SSL Required\r\n".utf8))])
            s.tcp(client: Lab.backup, clientPort: 40041, server: Lab.esxi1, serverPort: 22, wire: Lab.mgmtVLAN, messages: [(false, sshBanner)])
            s.tcp(client: Lab.internetHost, clientPort: 40042, server: Lab.vcenter, serverPort: 443, wire: Lab.mgmtVLAN, messages: [(true, tlsHello)])
        },
        ExampleCapture(name: "management-exposed-ok", config: "examples/site-roles.yaml",
                       summary: "1004 negative: admin to vCenter, backup to a non-management port, a guest (rule 1001's case)") { s in
            s.tcp(client: Lab.adminWorkstation, clientPort: 40043, server: Lab.vcenter, serverPort: 443, wire: Lab.mgmtVLAN, messages: [(true, tlsHello)])
            s.tcp(client: Lab.backup, clientPort: 40044, server: Lab.esxi1, serverPort: 9999, wire: Lab.mgmtVLAN)
            s.tcp(client: Lab.web1, clientPort: 40045, server: Lab.vcenter, serverPort: 443, wire: Lab.guestVLAN, messages: [(true, tlsHello)])
        },
        ExampleCapture(name: "zone-policy-violation", config: "examples/zone-policy-violation.yaml",
                       summary: "1005 positive: with default-deny, the backup server connects to a guest's port 8080") { s in
            s.tcp(client: Lab.backup, clientPort: 40050, server: Lab.web1, serverPort: 8080, wire: Lab.guestVLAN, messages: [(true, http), (false, httpOK)])
        },
        ExampleCapture(name: "zone-policy-violation-ok", config: "examples/zone-policy-violation.yaml",
                       summary: "1005 negative: allowed admin SSH, allowed DNS, same-zone traffic") { s in
            s.tcp(client: Lab.adminWorkstation, clientPort: 40051, server: Lab.esxi1, serverPort: 22, wire: Lab.mgmtVLAN, messages: [(false, sshBanner)])
            s.udp(client: Lab.web1, clientPort: 40052, server: Lab.dns, serverPort: 53, wire: Lab.servicesVLAN, request: dnsQuery, response: dnsQuery)
            s.tcp(client: Lab.web1, clientPort: 40053, server: Lab.web2, serverPort: 80, wire: Lab.guestVLAN, messages: [(true, http), (false, httpOK)])
        },
        ExampleCapture(name: "management-service-misplaced", config: "examples/site-roles.yaml",
                       summary: "1006 positive: libvirt answers on a guest address; ESXi authd answers on the storage VLAN") { s in
            s.tcp(client: Lab.adminWorkstation, clientPort: 40060, server: Lab.rogueHypervisorGuest, serverPort: 16509, wire: Lab.guestVLAN)
            s.tcp(client: Lab.esxi2, clientPort: 40061, server: Lab.esxi1Storage, serverPort: 902, wire: Lab.storageVLAN)
        },
        ExampleCapture(name: "management-service-misplaced-ok", config: "examples/site-roles.yaml",
                       summary: "1006 negative: a refused libvirt port, SSH on a guest, authd on the management VLAN") { s in
            s.tcp(client: Lab.adminWorkstation, clientPort: 40062, server: Lab.closedGuest, serverPort: 16509, wire: Lab.guestVLAN, opening: .refused)
            s.tcp(client: Lab.adminWorkstation, clientPort: 40063, server: Lab.web1, serverPort: 22, wire: Lab.guestVLAN, messages: [(false, sshBanner)])
            s.tcp(client: Lab.vcenter, clientPort: 40064, server: Lab.esxi1, serverPort: 902, wire: Lab.mgmtVLAN)
        },
        ExampleCapture(name: "undeclared-vlan", config: "examples/site-roles.yaml",
                       summary: "5002 positive: traffic on VLAN 999 and on VXLAN VNI 7777, neither declared") { s in
            s.ping(from: Lab.web1, to: Lab.web2, wire: .vlan(999))
            let overlay = Wire(tunnel: .vxlan(vni: 7777, from: Lab.vtep1, to: Lab.vtep2, tags: [Frames.dot1q(40)]))
            s.ping(from: Lab.web1, to: Lab.web2, wire: overlay)
        },
        ExampleCapture(name: "undeclared-vlan-ok", config: "examples/site-roles.yaml",
                       summary: "5002 negative: declared VLAN 100, declared VNI 5000, a priority-only tag") { s in
            s.ping(from: Lab.web1, to: Lab.web2, wire: Lab.guestVLAN)
            let overlay = Wire(tunnel: .vxlan(vni: 5000, from: Lab.vtep1, to: Lab.vtep2, tags: [Frames.dot1q(40)]))
            s.ping(from: Lab.web1, to: Lab.web2, wire: overlay)
            s.ping(from: Lab.web1, to: Lab.web2, wire: Wire(tags: [Frames.dot1q(0, priority: 5)]))
        },
        ExampleCapture(name: "unknown-address", config: "examples/site-roles.yaml",
                       summary: "7001 positive: a guest reaches 10.77.0.5, an address in no zone") { s in
            s.tcp(client: Lab.web1, clientPort: 40070, server: Lab.strangerInternal, serverPort: 80, wire: Lab.guestVLAN, messages: [(true, http), (false, httpOK)])
        },
        ExampleCapture(name: "unknown-address-ok", config: "examples/site-roles.yaml",
                       summary: "7001 negative: broadcast, multicast, link-local and declared addresses") { s in
            s.udp(client: Lab.web1, clientPort: 68, server: Host("255.255.255.255", mac: "ff:ff:ff:ff:ff:ff"), serverPort: 67, wire: Lab.guestVLAN, request: ntp)
            s.udp(client: Lab.web1, clientPort: 5353, server: Host("224.0.0.251", mac: "01:00:5e:00:00:fb"), serverPort: 5353, wire: Lab.guestVLAN, request: dnsQuery)
            s.ping(from: Host("fe80::1"), to: Host("fe80::2"), wire: Lab.guestVLAN)
            s.ping(from: Lab.guestV6, to: Lab.guestV6Peer, wire: Lab.guestVLAN)
        },
        ExampleCapture(name: "example-site", config: "example.yaml",
                       summary: "A day in the example VMware/KVM site: normal operations and five findings") { s in
            // Normal operations.
            s.tcp(client: Lab.adminWorkstation, clientPort: 50001, server: Lab.vcenter, serverPort: 443, wire: Lab.mgmtVLAN, messages: [(true, tlsHello)])
            s.tcp(client: Lab.vcenter, clientPort: 50002, server: Lab.esxi1, serverPort: 902, wire: Lab.mgmtVLAN)
            s.tcp(client: Lab.esxi1Storage, clientPort: 50003, server: Lab.san, serverPort: 3260, wire: Lab.storageVLAN)
            s.tcp(client: Lab.esxi1VMotion, clientPort: 50004, server: Lab.esxi2VMotion, serverPort: 8000, wire: Lab.vmotionVLAN,
                  messages: [(true, [UInt8](repeating: 0xCD, count: 1400))])
            let overlay = Wire(tunnel: .vxlan(vni: 5000, from: Lab.vtep1, to: Lab.vtep2, tags: [Frames.dot1q(40)]))
            s.tcp(client: Lab.web1, clientPort: 50005, server: Lab.db1, serverPort: 5432, wire: overlay)
            s.udp(client: Lab.web1, clientPort: 50006, server: Lab.dns, serverPort: 53, wire: Lab.servicesVLAN, request: dnsQuery, response: dnsQuery)
            s.tcp(client: Lab.web1, clientPort: 50007, server: Lab.internetHost, serverPort: 443, wire: Lab.guestVLAN, messages: [(true, tlsHello)])
            // Findings.
            s.tcp(client: Lab.web2, clientPort: 50010, server: Lab.vcenter, serverPort: 443, wire: Lab.guestVLAN, messages: [(true, tlsHello)])
            s.tcp(client: Lab.backup, clientPort: 50011, server: Lab.esxi1, serverPort: 22, wire: Lab.mgmtVLAN, messages: [(false, sshBanner)])
            s.tcp(client: Lab.adminWorkstation, clientPort: 50012, server: Lab.rogueHypervisorGuest, serverPort: 16509, wire: Lab.guestVLAN)
            s.ping(from: Lab.web1, to: Lab.web2, wire: .vlan(77))
            s.tcp(client: Lab.web1, clientPort: 50013, server: Lab.strangerInternal, serverPort: 80, wire: Lab.guestVLAN, messages: [(true, http)])
        },
    ]

    /// Builds one example capture in memory.
    public static func script(_ example: ExampleCapture) -> CaptureScript {
        let s = CaptureScript()
        example.build(s)
        return s
    }
}
