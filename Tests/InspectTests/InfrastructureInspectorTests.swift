import CaptureBuilder
import Testing
import Vocabulary
@testable import Inspect

func storage(_ events: [AppEvent]) -> [InfrastructureEvent] {
    events.compactMap { if case .storage(let e) = $0 { e } else { nil } }
}

func unauthenticated(_ events: [AppEvent]) -> [InfrastructureEvent] {
    events.compactMap { if case .storageWithoutAuthentication(let e) = $0 { e } else { nil } }
}

func weakStorage(_ events: [AppEvent]) -> [InfrastructureEvent] {
    events.compactMap { if case .storageWeakAuthentication(let e) = $0 { e } else { nil } }
}

func migration(_ events: [AppEvent]) -> [InfrastructureEvent] {
    events.compactMap { if case .migration(let e) = $0 { e } else { nil } }
}

extension InfrastructureEvent {
    func text(_ key: String) -> String? {
        evidence.first { $0.key == key }.flatMap { if case .text(let t) = $0.value { t } else { nil } }
    }
}

@Suite("Storage and migration inspectors")
struct InfrastructureInspectorTests {
    static let initiator = "iqn.1998-01.com.vmware:esxi1"
    static let target = "iqn.2010-06.com.example:san.lun0"

    /// (AuthMethod offered, accepted, session type) → whether 4002's event is raised.
    @Test(arguments: [("CHAP", true, "Normal", false), ("None", true, "Normal", true), (nil, true, "Normal", true),
                      ("None", false, "Normal", false), ("None", true, "Discovery", false)] as [(String?, Bool, String, Bool)])
    func iscsiLogin(auth: String?, accepted: Bool, sessionType: String, unauthenticatedLogin: Bool) {
        for chunk in [1, 7, Int.max] {
            let (proto, events) = inspect(M.iscsiLogin(initiator: Self.initiator, target: Self.target, auth: auth, accepted: accepted, sessionType: sessionType),
                                          serverPort: 3260, chunk: chunk)
            #expect(proto == "iscsi")
            let session = storage(events)
            #expect(session.count == 1 && session.first?.text("initiator") == Self.initiator && session.first?.text("target") == Self.target)
            let none = unauthenticated(events)
            #expect(none.count == (unauthenticatedLogin ? 1 : 0), "chunk \(chunk)")
            if auth == nil && unauthenticatedLogin { #expect(none.first?.text("auth_method") == "none (no security negotiation)") }
        }
    }

    /// NFS and MOUNT by their RPC program on any port; the credential flavour decides 4003.
    @Test func oncRPC() {
        let sys = inspect([(true, M.rpcCall(program: 100_003, procedure: 1, flavor: 1))], serverPort: 2049).1
        #expect(storage(sys).first?.text("rpc_program") == "NFS")
        #expect(weakStorage(sys).first?.text("credential_flavor") == "AUTH_SYS" && weakStorage(sys).first?.text("machine_name") == "kvm1")
        let gss = inspect([(true, M.rpcCall(program: 100_003, procedure: 1, flavor: 6))], serverPort: 2049).1
        #expect(storage(gss).count == 1 && weakStorage(gss).isEmpty)
        let null = inspect([(true, M.rpcCall(program: 100_003, procedure: 0, flavor: 0))], serverPort: 2049).1
        #expect(storage(null).count == 1 && weakStorage(null).isEmpty, "the NULL procedure is a ping without credentials")
        let anonymous = inspect([(true, M.rpcCall(program: 100_003, procedure: 4, flavor: 0))], serverPort: 40_000).1
        #expect(weakStorage(anonymous).first?.text("credential_flavor") == "AUTH_NONE", "recognised off port 2049 too")
        let mount = inspect([(true, Array(M.rpcCall(program: 100_005, procedure: 1, flavor: 1).dropFirst(4)))], transport: .udp, serverPort: 20048).1
        #expect(storage(mount).first?.text("rpc_program") == "MOUNT", "UDP calls have no record marking")
        #expect(inspect([(true, M.rpcCall(program: 100_000, procedure: 3, flavor: 0))], serverPort: 111).0 == nil, "the portmapper is not storage")
    }

    @Test func nvmeCephSMB() {
        #expect(storage(inspect([(true, M.nvmeICReq())], serverPort: 4420).1).first?.proto == "nvme-tcp")
        #expect(storage(inspect(M.cephBanner()).1).first?.text("messenger") == "msgr1")
        #expect(storage(inspect(M.cephBanner(v2: true)).1).first?.text("messenger") == "msgr2")
        let unsigned = inspect(M.smbSession(signed: false), serverPort: 445).1
        #expect(storage(unsigned).count == 1 && weakStorage(unsigned).count == 1)
        #expect(weakStorage(inspect(M.smbSession(signed: true), serverPort: 445).1).isEmpty)
        #expect(weakStorage(inspect(M.smbSession(signed: false, encrypted: true), serverPort: 445).1).isEmpty)
    }

    @Test(arguments: [1, 5, Int.max])
    func migrationStreams(chunk: Int) {
        let qemu = migration(inspect(M.qemuMigration(), serverPort: 49152, chunk: chunk).1)
        #expect(qemu.first?.product == "kvm" && qemu.first?.text("signature") == "QEVM")
        #expect(migration(inspect(M.qemuMigration(tls: true), serverPort: 49152, chunk: chunk).1).isEmpty)
        #expect(migration(inspect(M.xenStream(), chunk: chunk).1).first?.text("signature") == "XENF")
        #expect(migration(inspect(M.xendRelocation(), serverPort: 8002, chunk: chunk).1).first?.text("signature") == "LinuxGuestRecord")
        #expect(migration(inspect(M.virtualBoxTeleporter(), serverPort: 6000, chunk: chunk).1).first?.product == "virtualbox")
        #expect(migration(inspect(M.nbd(startTLS: false), serverPort: 10809, chunk: chunk).1).first?.text("signature") == "NBDMAGIC")
        #expect(migration(inspect(M.nbd(startTLS: true), serverPort: 10809, chunk: chunk).1).isEmpty)
        let xenMotion = migration(inspect(M.xenMotionHTTP(), serverPort: 80, chunk: chunk).1)
        #expect(xenMotion.first?.product == "xenserver" && xenMotion.first?.detail == "XenMotion over HTTP (xenopsd)")
        let storageMotion = migration(inspect(M.xenMotionHTTP(storageMotion: true), serverPort: 80, chunk: chunk).1)
        #expect(storageMotion.first?.detail == "XenMotion over HTTP (storage motion)" && storageMotion.first?.text("signature")?.hasPrefix("/services/SM/") == true)
    }

    /// Arbitrary bytes after a valid opening never trap an inspector; truncated openings neither.
    @Test func garbageAfterRecognition() {
        var rng = SeededRandom(seed: 29)
        let openings: [M.Dialogue] = [
            M.iscsiLogin(initiator: "a", target: "b", auth: "None", accepted: true), [(true, M.rpcCall(program: 100_003, procedure: 1, flavor: 1))],
            [(true, M.nvmeICReq())], M.cephBanner(), M.smbSession(signed: false), M.qemuMigration(), M.xenStream(),
            M.xendRelocation(), M.virtualBoxTeleporter(), M.nbd(startTLS: false), M.xenMotionHTTP(),
        ]
        for opening in openings {
            let recognized = inspect(Array(opening.prefix(1)), serverPort: 3260).0
            #expect(recognized != nil, "\(opening.first!.1.prefix(16))")
            for _ in 0..<200 {
                var d = Array(opening.prefix(1))
                var cut = false
                if rng.next() % 3 == 0, let first = d.first {
                    d[0].1 = Array(first.1.prefix(Int(rng.next() % UInt64(first.1.count + 1))))
                    cut = d[0].1.count < first.1.count
                }
                for _ in 0..<4 {
                    d.append((rng.next() % 2 == 0, (0..<Int(rng.next() % 300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }))
                }
                let (proto, events) = inspect(d, serverPort: 3260, chunk: Int(rng.next() % 64) + 1)
                // A whole opening is recognised whatever follows; a cut one may be
                // taken for nothing, never for another protocol.
                if cut { #expect(proto == nil || proto == recognized) } else { #expect(proto == recognized) }
                #expect(events.count <= d.count + 2, "\(recognized ?? "?"): \(events.count) events from \(d.count) pieces")
            }
        }
    }
}
