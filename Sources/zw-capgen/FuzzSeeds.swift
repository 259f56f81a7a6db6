import ArgumentParser
import Capture
import CaptureBuilder
import Detect
import Foundation

/// Seed corpora for the fuzz targets (Fuzz/, FuzzHarness): real packets and
/// captures, the shipped configurations, and a dialogue per inspector.
struct FuzzSeeds: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz-seeds",
        abstract: "Write seed corpora for the fuzz targets (packets, pcap, config, inspectors).")

    @Option(help: "Output folder; one subfolder per target.")
    var out: String = "fuzz-out/seeds"

    @Option(help: "Captures to take packets from (files or folders; repeatable).")
    var captures: [String] = ["Captures", "../shared/captures"]

    func run() throws {
        for target in ["packets", "pcap", "config", "inspectors"] {
            try FileManager.default.createDirectory(atPath: "\(out)/\(target)", withIntermediateDirectories: true)
        }
        var counts: [String: Int] = [:]
        func write(_ target: String, _ name: String, _ bytes: [UInt8]) {
            FileManager.default.createFile(atPath: "\(out)/\(target)/\(name)", contents: Data(bytes))
            counts[target, default: 0] += 1
        }
        // Packets: runs of up to 8 consecutive packets, with the link type byte of FuzzHarness.packets.
        let linkIndex: [LinkType: UInt8] = [.ethernet: 0, .linuxSLL: 1, .linuxSLL2: 2, .raw: 3, .ipv4: 3, .ipv6: 3, .null: 4, .loop: 5]
        for path in files(captures) {
            let name = URL(fileURLWithPath: path).lastPathComponent
            if let data = FileManager.default.contents(atPath: path) {
                write("pcap", name, Array(data.prefix(65_536)))
            }
            guard let handle = try? PcapHandle.openOffline(path), let link = linkIndex[handle.linkType] else { continue }
            var run: [UInt8] = [link]
            var inRun = 0, runs = 0
            while runs < 40, let next = try? handle.next(), case .packet(let p) = next {
                let bytes = Array(p.bytes.prefix(4096))
                run += [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)] + bytes
                inRun += 1
                if inRun == 8 {
                    write("packets", "\(name)-\(runs)", run)
                    run = [link]
                    inRun = 0
                    runs += 1
                }
            }
            if inRun > 0 { write("packets", "\(name)-\(runs)", run) }
        }
        // Configurations.
        for path in files(["config"]) where path.hasSuffix(".yaml") {
            if let data = FileManager.default.contents(atPath: path) { write("config", URL(fileURLWithPath: path).lastPathComponent, Array(data)) }
        }
        // A dialogue per inspector, in FuzzHarness.inspector's framing.
        typealias M = ProtocolMessages
        let dialogues: [String: [M.Dialogue]] = [
            "telnet": [M.telnetLogin(user: "root", password: "pw", accepted: true)],
            "rlogin": [M.rlogin(clientUser: "ops", serverUser: "root")],
            "rsh": [M.rsh(clientUser: "ops", serverUser: "root", command: "id", accepted: true)],
            "ftp": [M.ftpLogin(user: "u", password: "p", accepted: true), M.ftpAuthTLS()],
            "http": [M.httpBasic(user: "u", password: "p"), M.winrmBasic(user: "d\\u", password: "p"), M.xenMotionHTTP()],
            "ldap": [[(true, M.ldapBind(id: 1, dn: "cn=a", password: "p")), (false, M.ldapBindResponse(id: 1, code: 0))]],
            "snmp": [[(true, M.snmp(version: 1, community: "public", requestID: 1, response: false)), (false, M.snmp(version: 1, community: "public", requestID: 1, response: true))]],
            "rfb": [M.rfb(offered: [1, 2], chosen: 2, accepted: true), M.vencrypt(subtype: 256, user: "u", password: "p")],
            "spice": [M.spiceLink()],
            "rdp": [M.rdp(user: "u", requested: 3, selected: 0)],
            "tls": [M.tlsHandshake(offered: 0x0303, selected: 0x0301)],
            "ssh": [[(false, Array("SSH-2.0-OpenSSH_9.2\r\n".utf8))]],
            "ipmi": [[(true, M.ipmi15(authType: 4, sessionID: 7, password: "calvin"))], [(true, M.rakp1(user: "ADMIN")), (false, M.rmcpPlusOpenSessionResponse(algorithms: (0, 0, 0)))]],
            "libvirt": [M.libvirtAuthList(authTypes: [0])],
            "iscsi": [M.iscsiLogin(initiator: "iqn.a", target: "iqn.b", auth: "None", accepted: true)],
            "oncrpc-tcp": [[(true, M.rpcCall(program: 100_003, procedure: 1, flavor: 1))]],
            "oncrpc-udp": [[(true, Array(M.rpcCall(program: 100_005, procedure: 1, flavor: 1).dropFirst(4)))]],
            "nvme-tcp": [[(true, M.nvmeICReq())]],
            "ceph": [M.cephBanner(), M.cephBanner(v2: true)],
            "smb": [M.smbSession(signed: false)],
            "qemu-migration": [M.qemuMigration()],
            "xen-migration": [M.xenStream(), M.xendRelocation()],
            "vbox-teleporter": [M.virtualBoxTeleporter()],
            "nbd": [M.nbd(startTLS: false)],
        ]
        for (index, name) in InspectorHarness.names.enumerated() {
            for (n, dialogue) in (dialogues[name] ?? []).enumerated() {
                var bytes: [UInt8] = [UInt8(index)]
                for (fromClient, piece) in dialogue {
                    // Pieces longer than 255 bytes go last-and-whole (length 0) or are cut.
                    for start in stride(from: 0, to: max(piece.count, 1), by: 255) {
                        let chunk = Array(piece[start..<min(start + 255, piece.count)])
                        bytes += [fromClient ? 0 : 1, UInt8(chunk.count)] + chunk
                    }
                }
                write("inspectors", "\(name)-\(n)", bytes)
            }
        }
        print(counts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value) seeds" }.joined(separator: ", ") + " in \(out)")
    }

    private func files(_ paths: [String]) -> [String] {
        var result: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                let entries = (FileManager.default.enumerator(atPath: path)?.allObjects as? [String]) ?? []
                result += entries.filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") || $0.hasSuffix(".yaml") }.sorted().map { "\(path)/\($0)" }
            } else {
                result.append(path)
            }
        }
        return result
    }
}
