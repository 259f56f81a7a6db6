import Alerting
import Capture
import CaptureBuilder
import Decode
import Detect
import Flows
import Foundation
import Sensor
import Testing
import Vocabulary
import Zones

typealias M = ProtocolMessages

/// One row of a rule's table: traffic (made with the capture builder's
/// script), the configuration, and exactly the detections the rule must make
/// of it (`sid source -> destination`, `-` for none); an empty list is a
/// must-not-fire row.
struct RuleCase: CustomTestStringConvertible, Sendable {
    var sid: Int
    var name: String
    /// A file under `config/` or YAML text.
    var config: String = "examples/site-roles.yaml"
    var traffic: @Sendable (CaptureScript) -> Void
    var expected: [String]
    /// Rule 7002 needs the live sensor's endpoint memory.
    var remembersEndpoints = false

    var testDescription: String { "\(sid) \(expected.isEmpty ? "must not fire" : "fires"): \(name)" }
}

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Runs a row's traffic through the whole pipeline (classify, inspect, detect)
/// with nothing throttled, and returns the rule's detections.
func detections(_ row: RuleCase) throws -> [String] {
    let config: ZoneConfig = row.config.contains("\n")
        ? try ZoneConfig.parse(yaml: row.config, file: "row.yaml")
        : try ZoneConfig.load(path: repositoryRoot.appendingPathComponent("config/\(row.config)").path)
    final class Collecting: AlertSink {
        let name = "<memory>"
        var alerts: [Alert] = []
        func write(_ alert: Alert) throws(SinkError) { alerts.append(alert) }
        func flush() throws(SinkError) {}
    }
    let sink = Collecting()
    var memory: EndpointMemory?
    let statePath = NSTemporaryDirectory() + "zw-rule-table-\(UUID().uuidString)"
    defer { unlink(statePath) }
    if row.remembersEndpoints { memory = try EndpointMemory(path: statePath, baselineSeconds: 0) }
    let pipeline = try Pipeline(zones: ZoneMap(config), alerts: AlertStage(sinks: [sink], throttle: AlertThrottle(windowSeconds: 0)),
                                endpointMemory: memory)
    let script = CaptureScript()
    row.traffic(script)
    pipeline.beginLink("rule-table")
    for p in script.packets {
        p.bytes.withUnsafeBytes { bytes in
            pipeline.process(CapturedPacket(timestamp: p.timestamp, capturedLength: bytes.count, wireLength: bytes.count, bytes: bytes), link: .ethernet)
        }
    }
    pipeline.finish()
    func text(_ ip: IPAddress?, _ mac: MACAddress?) -> String { ip?.description ?? mac?.description ?? "-" }
    return sink.alerts.filter { $0.sid == row.sid }.map { "\($0.sid) \(text($0.sourceIP, $0.sourceMAC)) -> \(text($0.destinationIP, $0.destinationMAC))" }
}

/// Every rule's table: the traffic that must raise it, and the traffic close
/// to it that must not (a rule that never stays silent is no rule).
enum RuleTable {
    typealias L = Lab

    static let zoneRules: [RuleCase] = [
        RuleCase(sid: 1001, name: "a guest reaches vCenter's address", traffic: { $0.tcp(client: L.web1, clientPort: 40001, server: L.vcenter, serverPort: 443, wire: L.guestVLAN) },
                 expected: ["1001 192.168.100.10 -> 10.10.0.5"]),
        RuleCase(sid: 1001, name: "a guest reaches an unplanned host on the management VLAN", traffic: { $0.tcp(client: L.web1, clientPort: 40002, server: Host("10.60.0.9"), serverPort: 22, wire: L.mgmtVLAN) },
                 expected: ["1001 192.168.100.10 -> 10.60.0.9"]),
        RuleCase(sid: 1001, name: "guest to guest", traffic: { $0.tcp(client: L.web1, clientPort: 40003, server: L.web2, serverPort: 443, wire: L.guestVLAN) }, expected: []),
        RuleCase(sid: 1001, name: "admin to vCenter", traffic: { $0.tcp(client: L.adminWorkstation, clientPort: 40004, server: L.vcenter, serverPort: 443, wire: L.mgmtVLAN) }, expected: []),
        RuleCase(sid: 1001, name: "a guest to vCenter on a service the allow list covers", config: allowGuestToVCenter,
                 traffic: { $0.tcp(client: L.web1, clientPort: 40005, server: L.vcenter, serverPort: 443, wire: L.guestVLAN) }, expected: []),

        RuleCase(sid: 1002, name: "a guest reaches the SAN", traffic: { $0.tcp(client: L.web1, clientPort: 40011, server: L.san, serverPort: 3260, wire: L.guestVLAN) },
                 expected: ["1002 192.168.100.10 -> 10.20.0.10"]),
        RuleCase(sid: 1002, name: "a host's storage interface reaches the SAN", traffic: { $0.tcp(client: L.esxi1Storage, clientPort: 40012, server: L.san, serverPort: 3260, wire: L.storageVLAN) },
                 expected: []),

        RuleCase(sid: 1003, name: "a guest reaches a vMotion interface", traffic: { $0.tcp(client: L.web1, clientPort: 40021, server: L.esxi1VMotion, serverPort: 8000, wire: L.guestVLAN) },
                 expected: ["1003 192.168.100.10 -> 10.30.0.11"]),
        RuleCase(sid: 1003, name: "vMotion between vMotion interfaces", traffic: { $0.tcp(client: L.esxi1VMotion, clientPort: 40022, server: L.esxi2VMotion, serverPort: 8000, wire: L.vmotionVLAN) },
                 expected: []),

        RuleCase(sid: 1004, name: "the backup server reaches a host's SSH", traffic: { $0.tcp(client: L.backup, clientPort: 40031, server: L.esxi1, serverPort: 22, wire: L.mgmtVLAN) },
                 expected: ["1004 10.50.0.5 -> 10.10.0.11"]),
        RuleCase(sid: 1004, name: "the admin workstation reaches a host's SSH", traffic: { $0.tcp(client: L.adminWorkstation, clientPort: 40032, server: L.esxi1, serverPort: 22, wire: L.mgmtVLAN) },
                 expected: []),
        RuleCase(sid: 1004, name: "a guest reaches a host's SSH (rule 1001's finding)", traffic: { $0.tcp(client: L.web1, clientPort: 40033, server: L.esxi1, serverPort: 22, wire: L.mgmtVLAN) },
                 expected: []),
        RuleCase(sid: 1004, name: "the backup server on a port that is no management service", traffic: { $0.tcp(client: L.backup, clientPort: 40034, server: L.esxi1, serverPort: 9999, wire: L.mgmtVLAN) },
                 expected: []),

        RuleCase(sid: 1005, name: "a flow between zones no allow entry covers", config: "examples/zone-policy-violation.yaml",
                 traffic: { $0.tcp(client: L.backup, clientPort: 40041, server: L.web1, serverPort: 80, wire: L.guestVLAN) }, expected: ["1005 10.50.0.5 -> 192.168.100.10"]),
        RuleCase(sid: 1005, name: "a flow the allow list covers", config: "examples/zone-policy-violation.yaml",
                 traffic: { $0.tcp(client: L.adminWorkstation, clientPort: 40042, server: L.esxi1, serverPort: 22, wire: L.mgmtVLAN) }, expected: []),
        RuleCase(sid: 1005, name: "a guest reaching management is rule 1001's, not also 1005's", config: "examples/zone-policy-violation.yaml",
                 traffic: { $0.tcp(client: L.web1, clientPort: 40043, server: L.vcenter, serverPort: 443, wire: L.guestVLAN) }, expected: []),
        RuleCase(sid: 1005, name: "the same flow under the role policy", traffic: { $0.tcp(client: L.backup, clientPort: 40044, server: L.web1, serverPort: 80, wire: L.guestVLAN) },
                 expected: []),

        RuleCase(sid: 1006, name: "libvirt answers on a guest's address", traffic: { $0.tcp(client: L.adminWorkstation, clientPort: 40051, server: L.rogueHypervisorGuest, serverPort: 16509, wire: L.guestVLAN) },
                 expected: ["1006 10.99.0.20 -> 192.168.100.50"]),
        RuleCase(sid: 1006, name: "a guest refuses the libvirt port", traffic: { $0.tcp(client: L.adminWorkstation, clientPort: 40052, server: L.closedGuest, serverPort: 16509, wire: L.guestVLAN, opening: .refused) },
                 expected: []),
        RuleCase(sid: 1006, name: "a guest's own web server", traffic: { $0.tcp(client: L.adminWorkstation, clientPort: 40053, server: L.web1, serverPort: 443, wire: L.guestVLAN) },
                 expected: []),
    ]

    static let adminAccessRules: [RuleCase] = [
        RuleCase(sid: 2001, name: "a telnet login to a host", traffic: { $0.tcp(client: L.adminWorkstation, clientPort: 41001, server: L.esxi1, serverPort: 23, wire: L.mgmtVLAN,
                                                                                 messages: M.telnetLogin(user: "root", password: "secret", accepted: true)) },
                 expected: ["2001 10.99.0.20 -> 10.10.0.11"]),
        RuleCase(sid: 2001, name: "an SSH session", traffic: { $0.tcp(client: L.adminWorkstation, clientPort: 41002, server: L.esxi1, serverPort: 22, wire: L.mgmtVLAN,
                                                                       messages: [(false, Array("SSH-2.0-OpenSSH_9.2\r\n".utf8)), (true, Array("SSH-2.0-OpenSSH_9.6\r\n".utf8))]) },
                 expected: []),

        RuleCase(sid: 2002, name: "anonymous FTP accepted", traffic: { $0.tcp(client: L.web1, clientPort: 41011, server: L.ftpServer, serverPort: 21, wire: L.servicesVLAN,
                                                                               messages: M.ftpLogin(user: "anonymous", password: "guest@", accepted: true)) },
                 expected: ["2002 192.168.100.10 -> 10.50.0.21"]),
        RuleCase(sid: 2002, name: "an FTP login with a password (rule 2001's)", traffic: { $0.tcp(client: L.web1, clientPort: 41012, server: L.ftpServer, serverPort: 21, wire: L.servicesVLAN,
                                                                                                   messages: M.ftpLogin(user: "backup", password: "pw", accepted: true)) },
                 expected: []),
        RuleCase(sid: 2002, name: "anonymous FTP refused", traffic: { $0.tcp(client: L.web1, clientPort: 41013, server: L.ftpServer, serverPort: 21, wire: L.servicesVLAN,
                                                                              messages: M.ftpLogin(user: "anonymous", password: "guest@", accepted: false)) },
                 expected: []),

        RuleCase(sid: 2003, name: "vCenter serves HTTP in clear", traffic: { $0.tcp(client: L.adminWorkstation, clientPort: 41021, server: L.vcenter, serverPort: 80, wire: L.mgmtVLAN,
                                                                                     messages: M.httpPage()) },
                 expected: ["2003 10.99.0.20 -> 10.10.0.5"]),
        RuleCase(sid: 2003, name: "vCenter redirects HTTP to HTTPS", traffic: { $0.tcp(client: L.adminWorkstation, clientPort: 41022, server: L.vcenter, serverPort: 80, wire: L.mgmtVLAN,
                                                                                        messages: M.httpPage(status: 301, location: "https://vcenter/")) },
                 expected: []),
        RuleCase(sid: 2003, name: "a guest serves HTTP", traffic: { $0.tcp(client: L.adminWorkstation, clientPort: 41023, server: L.web1, serverPort: 80, wire: L.guestVLAN,
                                                                            messages: M.httpPage()) },
                 expected: []),

        RuleCase(sid: 2004, name: "TLS 1.0 on vCenter's HTTPS", traffic: { $0.tcp(client: L.adminWorkstation, clientPort: 41031, server: L.vcenter, serverPort: 443, wire: L.mgmtVLAN,
                                                                                   messages: M.tlsHandshake(offered: 0x0303, selected: 0x0301)) },
                 expected: ["2004 10.99.0.20 -> 10.10.0.5"]),
        RuleCase(sid: 2004, name: "TLS 1.2 on vCenter's HTTPS", traffic: { $0.tcp(client: L.adminWorkstation, clientPort: 41032, server: L.vcenter, serverPort: 443, wire: L.mgmtVLAN,
                                                                                   messages: M.tlsHandshake(offered: 0x0303, selected: 0x0303)) },
                 expected: []),
        RuleCase(sid: 2004, name: "TLS 1.0 on a guest's web server", traffic: { $0.tcp(client: L.adminWorkstation, clientPort: 41033, server: L.web1, serverPort: 443, wire: L.guestVLAN,
                                                                                        messages: M.tlsHandshake(offered: 0x0303, selected: 0x0301)) },
                 expected: []),

        RuleCase(sid: 2005, name: "a guest reaches a VM console", traffic: { $0.tcp(client: L.web1, clientPort: 41041, server: L.kvm1, serverPort: 5900, wire: L.mgmtVLAN,
                                                                                     messages: M.rfb(offered: [19], chosen: 19, accepted: true)) },
                 expected: ["2005 192.168.100.10 -> 10.10.0.21"]),
        RuleCase(sid: 2005, name: "an administrator opens the console", traffic: { $0.tcp(client: L.adminWorkstation, clientPort: 41042, server: L.kvm1, serverPort: 5900, wire: L.mgmtVLAN,
                                                                                           messages: M.rfb(offered: [19], chosen: 19, accepted: true)) },
                 expected: []),
    ]

    static let infrastructureRules: [RuleCase] = [
        RuleCase(sid: 3001, name: "vMotion on the management network", traffic: { $0.tcp(client: L.esxi1, clientPort: 42001, server: L.esxi2, serverPort: 8000, wire: L.mgmtVLAN,
                                                                                          messages: [(true, [UInt8](repeating: 0x33, count: 600))]) },
                 expected: ["3001 10.10.0.11 -> 10.10.0.12"]),
        RuleCase(sid: 3001, name: "vMotion on the vMotion network", traffic: { $0.tcp(client: L.esxi1VMotion, clientPort: 42002, server: L.esxi2VMotion, serverPort: 8000, wire: L.vmotionVLAN,
                                                                                      messages: [(true, [UInt8](repeating: 0x33, count: 600))]) },
                 expected: []),
        RuleCase(sid: 3001, name: "port 8000 between two guests", traffic: { $0.tcp(client: L.web1, clientPort: 42003, server: L.web2, serverPort: 8000, wire: L.guestVLAN,
                                                                                    messages: [(true, [UInt8](repeating: 0x33, count: 600))]) },
                 expected: []),

        RuleCase(sid: 3002, name: "a QEMU migration stream in clear", traffic: { $0.tcp(client: L.kvm1Migration, clientPort: 42011, server: L.kvm2Migration, serverPort: 49152, wire: L.vmotionVLAN,
                                                                                        messages: M.qemuMigration()) },
                 expected: ["3002 10.30.0.21 -> 10.30.0.22"]),
        RuleCase(sid: 3002, name: "a QEMU migration over TLS", traffic: { $0.tcp(client: L.kvm1Migration, clientPort: 42012, server: L.kvm2Migration, serverPort: 49152, wire: L.vmotionVLAN,
                                                                                 messages: M.qemuMigration(tls: true)) },
                 expected: []),

        RuleCase(sid: 4001, name: "an iSCSI login over the management network", traffic: { $0.tcp(client: L.esxi1, clientPort: 42021, server: L.san, serverPort: 3260, wire: L.mgmtVLAN,
                                                                                                   messages: M.iscsiLogin(initiator: "iqn.a", target: "iqn.b", auth: "CHAP", accepted: true)) },
                 expected: ["4001 10.10.0.11 -> 10.20.0.10"]),
        RuleCase(sid: 4001, name: "an iSCSI login on the storage network", traffic: { $0.tcp(client: L.esxi1Storage, clientPort: 42022, server: L.san, serverPort: 3260, wire: L.storageVLAN,
                                                                                             messages: M.iscsiLogin(initiator: "iqn.a", target: "iqn.b", auth: "CHAP", accepted: true)) },
                 expected: []),

        RuleCase(sid: 4002, name: "an iSCSI login without authentication", traffic: { $0.tcp(client: L.esxi1Storage, clientPort: 42031, server: L.san, serverPort: 3260, wire: L.storageVLAN,
                                                                                             messages: M.iscsiLogin(initiator: "iqn.a", target: "iqn.b", auth: "None", accepted: true)) },
                 expected: ["4002 10.20.0.11 -> 10.20.0.10"]),
        RuleCase(sid: 4002, name: "an iSCSI login with CHAP", traffic: { $0.tcp(client: L.esxi1Storage, clientPort: 42032, server: L.san, serverPort: 3260, wire: L.storageVLAN,
                                                                               messages: M.iscsiLogin(initiator: "iqn.a", target: "iqn.b", auth: "CHAP", accepted: true)) },
                 expected: []),
        RuleCase(sid: 4002, name: "an iSCSI discovery session without authentication", traffic: { $0.tcp(client: L.esxi1Storage, clientPort: 42033, server: L.san, serverPort: 3260, wire: L.storageVLAN,
                                                                                                         messages: M.iscsiLogin(initiator: "iqn.a", target: "iqn.b", auth: "None", accepted: true, sessionType: "Discovery")) },
                 expected: []),

        RuleCase(sid: 4003, name: "NFS calls with AUTH_SYS", traffic: { $0.tcp(client: L.kvm1Storage, clientPort: 42041, server: L.nas, serverPort: 2049, wire: L.storageVLAN,
                                                                              messages: [(true, M.rpcCall(program: 100_003, procedure: 1, flavor: 1))]) },
                 expected: ["4003 10.20.0.21 -> 10.20.0.20"]),
        RuleCase(sid: 4003, name: "NFS calls with RPCSEC_GSS", traffic: { $0.tcp(client: L.kvm1Storage, clientPort: 42042, server: L.nas, serverPort: 2049, wire: L.storageVLAN,
                                                                                messages: [(true, M.rpcCall(program: 100_003, procedure: 1, flavor: 6))]) },
                 expected: []),
        RuleCase(sid: 4003, name: "NFS between two guests", traffic: { $0.tcp(client: L.web1, clientPort: 42043, server: L.tenantNAS, serverPort: 2049, wire: L.guestVLAN,
                                                                             messages: [(true, M.rpcCall(program: 100_003, procedure: 1, flavor: 1))]) },
                 expected: []),
    ]

    static let layer2Rules: [RuleCase] = [
        RuleCase(sid: 5001, name: "a guest's frame double-tagged into the management VLAN", config: "examples/layer2.yaml",
                 traffic: { $0.ping(from: L.web1, to: L.vcenter, wire: Wire(tags: [Frames.dot1q(100), Frames.dot1q(10)]), answered: false) },
                 expected: ["5001 192.168.100.10 -> 10.10.0.5"]),
        RuleCase(sid: 5001, name: "QinQ on the declared service VLAN", config: "examples/layer2.yaml",
                 traffic: { $0.ping(from: L.web1, to: L.web2, wire: Wire(tags: [Frames.dot1ad(200), Frames.dot1q(100)])) },
                 expected: []),
        RuleCase(sid: 5001, name: "a single tag", config: "examples/layer2.yaml", traffic: { $0.ping(from: L.web1, to: L.web2, wire: L.guestVLAN) }, expected: []),

        RuleCase(sid: 5002, name: "a VLAN no zone declares", traffic: { $0.ping(from: L.web1, to: L.web2, wire: .vlan(77)) }, expected: ["5002 192.168.100.10 -> 192.168.100.11"]),
        RuleCase(sid: 5002, name: "a declared VLAN", traffic: { $0.ping(from: L.web1, to: L.web2, wire: L.guestVLAN) }, expected: []),
        RuleCase(sid: 5002, name: "an overlay on a VLAN no zone declares", config: "examples/layer2.yaml",
                 traffic: { $0.ping(from: L.web1, to: L.web2, wire: Wire(tunnel: .vxlan(vni: 5000, from: L.vtep1, to: L.vtep2, tags: [Frames.dot1q(41)]))) },
                 expected: ["5002 192.168.100.10 -> 192.168.100.11"]),
        RuleCase(sid: 5002, name: "an overlay on its declared underlay VLAN", config: "examples/layer2.yaml",
                 traffic: { $0.ping(from: L.web1, to: L.web2, wire: Wire(tunnel: .vxlan(vni: 5000, from: L.vtep1, to: L.vtep2, tags: [Frames.dot1q(40)]))) },
                 expected: []),

        RuleCase(sid: 5003, name: "management and guest VLANs on one link", config: "examples/layer2.yaml",
                 traffic: { s in s.ping(from: L.esxi1, to: L.esxi2, wire: L.mgmtVLAN); s.ping(from: L.web1, to: L.web2, wire: L.guestVLAN) }, expected: ["5003 - -> -"]),
        RuleCase(sid: 5003, name: "guest VLANs only", config: "examples/layer2.yaml",
                 traffic: { s in s.ping(from: L.web1, to: L.web2, wire: L.guestVLAN); s.ping(from: L.web1, to: L.web2, wire: .vlan(101)) }, expected: []),

        RuleCase(sid: 5004, name: "a VXLAN endpoint on a guest address", config: "examples/layer2.yaml",
                 traffic: { $0.ping(from: L.web1, to: L.web2, wire: Wire(tunnel: .vxlan(vni: 5000, from: Host("192.168.100.70"), to: L.vtep2, tags: [Frames.dot1q(40)]))) },
                 expected: ["5004 192.168.100.10 -> 192.168.100.11"]),
        RuleCase(sid: 5004, name: "VXLAN between the VTEPs of the underlay", config: "examples/layer2.yaml",
                 traffic: { $0.ping(from: L.web1, to: L.web2, wire: Wire(tunnel: .vxlan(vni: 5000, from: L.vtep1, to: L.vtep2, tags: [Frames.dot1q(40)]))) },
                 expected: []),

        RuleCase(sid: 6001, name: "one MAC sends from a guest and a management address", config: "examples/layer2.yaml",
                 traffic: { s in
                     s.ping(from: Host("192.168.100.70", mac: "02:aa:00:00:00:01"), to: L.web2, wire: L.guestVLAN)
                     s.ping(from: Host("10.10.0.70", mac: "02:aa:00:00:00:01"), to: L.esxi2, wire: L.mgmtVLAN)
                 },
                 expected: ["6001 10.10.0.70 -> 10.10.0.12"]),
        RuleCase(sid: 6001, name: "the firewall's MAC in both zones", config: "examples/layer2.yaml",
                 traffic: { s in
                     s.ping(from: Host("192.168.100.1", mac: "00:1b:21:aa:bb:cc"), to: L.web2, wire: L.guestVLAN)
                     s.ping(from: Host("10.10.0.1", mac: "00:1b:21:aa:bb:cc"), to: L.esxi2, wire: L.mgmtVLAN)
                 },
                 expected: []),

        RuleCase(sid: 6002, name: "admin to management past the dedicated firewall", config: "examples/layer2.yaml",
                 traffic: { $0.tcp(client: L.adminWorkstation, clientPort: 43001, server: L.vcenter, serverPort: 443, wire: L.mgmtVLAN) },
                 expected: ["6002 10.99.0.20 -> 10.10.0.5"]),
        RuleCase(sid: 6002, name: "admin to management through fw-mgmt", config: "examples/layer2.yaml",
                 traffic: { $0.tcp(client: L.adminWorkstation, clientPort: 43002, server: L.vcenter, serverPort: 443,
                                   wire: L.mgmtVLAN.routed(via: L.managementFirewall, for: L.vcenter)) },
                 expected: []),
        RuleCase(sid: 6002, name: "traffic inside one zone", config: "examples/layer2.yaml",
                 traffic: { $0.tcp(client: L.esxi1, clientPort: 43003, server: L.vcenter, serverPort: 443, wire: L.mgmtVLAN) }, expected: []),
    ]

    static let addressRules: [RuleCase] = [
        RuleCase(sid: 7001, name: "an address in no zone", traffic: { $0.tcp(client: L.web1, clientPort: 44001, server: L.strangerInternal, serverPort: 80, wire: L.guestVLAN) },
                 expected: ["7001 192.168.100.10 -> 10.77.0.5"]),
        RuleCase(sid: 7001, name: "a multicast address", traffic: { $0.udp(client: L.web1, clientPort: 5353, server: Host("224.0.0.251"), serverPort: 5353, wire: L.guestVLAN, request: [0, 0]) },
                 expected: []),

        RuleCase(sid: 7002, name: "a management host seen for the first time, once",
                 traffic: { s in
                     s.tcp(client: L.adminWorkstation, clientPort: 44011, server: L.esxi1, serverPort: 22, wire: L.mgmtVLAN)
                     s.tcp(client: L.adminWorkstation, clientPort: 44012, server: L.esxi1, serverPort: 22, wire: L.mgmtVLAN)
                 },
                 expected: ["7002 10.99.0.20 -> 10.10.0.11"], remembersEndpoints: true),
        RuleCase(sid: 7002, name: "a guest seen for the first time", traffic: { $0.tcp(client: L.web1, clientPort: 44013, server: L.web2, serverPort: 22, wire: L.guestVLAN) },
                 expected: [], remembersEndpoints: true),
        RuleCase(sid: 7002, name: "offline, without the endpoint memory",
                 traffic: { $0.tcp(client: L.adminWorkstation, clientPort: 44014, server: L.esxi1, serverPort: 22, wire: L.mgmtVLAN) }, expected: []),
    ]

    static let all = zoneRules + adminAccessRules + infrastructureRules + layer2Rules + addressRules

    static let allowGuestToVCenter: String = {
        let path = repositoryRoot.appendingPathComponent("config/examples/site-roles.yaml").path
        let base = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return base + "allow:\n  - { from: guests, to: mgmt, services: [tcp/443] }\n"
    }()
}

@Suite("Rule tables")
struct RuleTableTests {
    @Test(arguments: RuleTable.all)
    func row(_ row: RuleCase) throws {
        #expect(try detections(row) == row.expected)
    }

    /// Every rule has a row it must fire on and a row it must not.
    @Test func everyRuleHasBothKindsOfRows() {
        for rule in RuleRegistry.all.map({ $0.metadata }) {
            let rows = RuleTable.all.filter { $0.sid == rule.sid }
            #expect(rows.contains { !$0.expected.isEmpty }, "\(rule.sid) \(rule.name): no row it fires on")
            #expect(rows.contains { $0.expected.isEmpty }, "\(rule.sid) \(rule.name): no row it must not fire on")
        }
    }

    /// Each enabled rule has a bit in FlowRecord.firedRules ("once per flow"):
    /// the registry must fit in them (the detector also refuses to start otherwise).
    @Test func rulesFitTheFiredBits() {
        #expect(RuleRegistry.all.count <= FlowRecord.firedRuleCapacity)
        #expect(Detector.maximumRules == FlowRecord.firedRuleCapacity)
    }
}
