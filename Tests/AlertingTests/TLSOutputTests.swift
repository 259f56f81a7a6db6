import Foundation
import Platform
import Testing
import TestSupport
@testable import Alerting

/// A real rsyslogd with TLS inputs (its OpenSSL stream driver and librelp),
/// certificates made by the real openssl, and the sensor's TLS transports.
final class TLSCollector: @unchecked Sendable {
    let certificates: TestCertificates
    let rsyslog: Rsyslog
    /// RFC 5425 without client certificates (the collector proves who it is).
    var tlsPort: UInt16 { rsyslog.tcpPort }
    /// RFC 5425 that also wants the sensor's certificate, naming sensor.test.
    var mutualTLSPort: UInt16 { rsyslog.udpPort }
    /// RELP over TLS, name mode both ways.
    var relpTLSPort: UInt16 { rsyslog.relpPort }
    /// Plain TCP syslog: what arrives here arrived in clear.
    let plainPort = freePort()

    init() throws {
        let c = try TestCertificates()
        certificates = c
        let plain = plainPort
        rsyslog = try Rsyslog(config: { d, mutual, tls, relp in
            let driver = """
                streamDriver.name="ossl" streamDriver.mode="1" streamDriver.CAFile="\(c.caFile)" \
                streamDriver.CertFile="\(c.serverCertificate)" streamDriver.KeyFile="\(c.serverKey)"
                """
            return """
                global(workDirectory="\(d)")
                module(load="imtcp")
                module(load="imrelp")
                template(name="raw" type="string" string="%rawmsg%\\n")
                ruleset(name="tls") { action(type="omfile" file="\(d)/tls.log" template="raw" flushOnTXEnd="on" asyncWriting="off") }
                ruleset(name="mutual") { action(type="omfile" file="\(d)/mutual.log" template="raw" flushOnTXEnd="on" asyncWriting="off") }
                ruleset(name="plain") { action(type="omfile" file="\(d)/plain.log" template="raw" flushOnTXEnd="on" asyncWriting="off") }
                ruleset(name="relp" queue.type="Direct") { action(type="omfile" file="\(d)/relp.log" template="raw" flushOnTXEnd="on" asyncWriting="off") }
                input(type="imtcp" address="127.0.0.1" port="\(tls)" ruleset="tls" \(driver) streamDriver.authMode="anon")
                input(type="imtcp" address="127.0.0.1" port="\(mutual)" ruleset="mutual" \(driver) streamDriver.authMode="x509/name" permittedPeer=["\(TestCertificates.sensorName)"])
                input(type="imtcp" address="127.0.0.1" port="\(plain)" ruleset="plain")
                input(type="imrelp" address="127.0.0.1" port="\(relp)" ruleset="relp" tls="on" tls.caCert="\(c.caFile)" tls.myCert="\(c.serverCertificate)" \
                      tls.myPrivKey="\(c.serverKey)" tls.authMode="name" tls.permittedPeer=["\(TestCertificates.sensorName)"])
                """
        })
    }

    /// Messages as the sensor formats them: RFC 5424, one with UTF-8 text (and its BOM).
    static func messages(_ count: Int, tag: String) -> [[UInt8]] {
        (0..<count).map { i in
            Array("<132>1 2026-11-26T14:00:00Z sensor zonewarden 1 2002 - \u{FEFF}login by m\u{FC}ller \(tag) \(i)".utf8)
        }
    }

    /// Sends `messages` through `transport` and stops the output.
    /// `seconds` to deliver them, then up to `stopSeconds` to confirm.
    static func deliver(_ messages: [[UInt8]], through transport: MessageTransport, seconds: Double = 15, stopSeconds: Double = 5) -> OutputStatistics {
        let output = QueuedOutput(transport: transport, format: .rfc5424, context: FormatContext(hostname: "sensor", processID: 1))
        for m in messages { output.enqueue(m) }
        _ = waitFor(seconds) { output.statistics.queued == 0 && output.statistics.delivered == messages.count }
        output.stop(deadline: monotonicSeconds() + stopSeconds)
        return output.statistics
    }

    func settings(ca: String? = nil, client: Bool = false, peer: String? = nil) -> TLSSettings {
        TLSSettings(caFile: ca ?? certificates.caFile, certificateFile: client ? certificates.clientCertificate : nil,
                    keyFile: client ? certificates.clientKey : nil, peerName: peer)
    }
}

@Suite("TLS to a real rsyslog", .serialized,
       .enabled(if: Rsyslog.isInstalled && TestCertificates.isAvailable && FileManager.default.fileExists(atPath: "/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_ossl.so"),
                "needs rsyslogd with rsyslog-openssl and openssl (scripts/setup installs them)"))
struct TLSOutputTests {
    let collector: TLSCollector
    init() throws { collector = try TLSCollector() }

    /// RFC 5425: every message arrives whole (octet counting inside TLS, the
    /// UTF-8 text intact), checked by the IP address in the certificate and by its DNS name.
    @Test(arguments: [nil, TestCertificates.collectorName])
    func tlsDeliversEveryMessage(peer: String?) throws {
        let messages = TLSCollector.messages(500, tag: "tls")
        let transport = try TCPTransport.tls(host: "127.0.0.1", port: collector.tlsPort, settings: collector.settings(peer: peer)).get()
        let s = TLSCollector.deliver(messages, through: transport)
        #expect(s.delivered == 500 && s.undelivered == 0 && s.refusedSessions == 0, "\(s)")
        #expect(waitFor(5) { collector.rsyslog.lines("tls").count == 500 })
        #expect(collector.rsyslog.lines("tls") == messages.map { String(decoding: $0, as: UTF8.self) })
    }

    /// A collector that wants the sensor's certificate (naming sensor.test) gets it.
    @Test func clientCertificate() throws {
        let messages = TLSCollector.messages(50, tag: "mutual")
        let with = try TCPTransport.tls(host: "127.0.0.1", port: collector.mutualTLSPort, settings: collector.settings(client: true)).get()
        let s = TLSCollector.deliver(messages, through: with)
        #expect(s.delivered == 50 && s.undelivered == 0, "\(s)")
        #expect(waitFor(5) { collector.rsyslog.lines("mutual").count == 50 }, "\(collector.rsyslog.lines("mutual").count) arrived")

        // Without it, the collector refuses the session after the TLS 1.3 handshake:
        // seen before any message is counted delivered.
        let without = try TCPTransport.tls(host: "127.0.0.1", port: collector.mutualTLSPort, settings: collector.settings()).get()
        let r = TLSCollector.deliver(TLSCollector.messages(10, tag: "no-cert"), through: without, seconds: 3, stopSeconds: 0.2)
        #expect(r.delivered == 0 && r.undelivered == 10 && r.possiblyLost == 0 && r.refusedSessions >= 1, "\(r)")
        #expect(r.lastError?.contains("certificate required") == true && r.lastError?.contains("--syslog-cert") == true, "\(r.lastError ?? "")")
        #expect(collector.rsyslog.lines("mutual").count == 50)
    }

    /// The wrong CA, the wrong name, and a TLS destination that is a plain TCP
    /// collector: the session is refused (and counted), nothing reaches the
    /// collector, and nothing is ever sent in clear.
    @Test func refusedSessionsSendNothing() throws {
        let cases: [(TLSSettings, UInt16, String)] = [
            (collector.settings(ca: collector.certificates.otherCAFile), collector.tlsPort, "checked against \(collector.certificates.otherCAFile)"),
            (collector.settings(peer: "syslog.example.org"), collector.tlsPort, "it does not name syslog.example.org"),
        ]
        for (settings, port, reason) in cases {
            let transport = try TCPTransport.tls(host: "127.0.0.1", port: port, settings: settings).get()
            let s = TLSCollector.deliver(TLSCollector.messages(20, tag: "refused"), through: transport, seconds: 2, stopSeconds: 0.2)
            #expect(s.delivered == 0 && s.undelivered == 20 && s.refusedSessions >= 1, "\(s)")
            #expect(s.lastError?.contains("the collector's certificate was refused") == true && s.lastError?.contains(reason) == true, "\(s.lastError ?? "")")
        }
        #expect(collector.rsyslog.lines("tls").isEmpty)

        // A plain TCP collector sees a TLS ClientHello, never a message.
        let plain = try TCPTransport.tls(host: "127.0.0.1", port: collector.plainPort, settings: collector.settings()).get()
        let s = TLSCollector.deliver(TLSCollector.messages(20, tag: "clear"), through: plain, seconds: 2, stopSeconds: 0.2)
        #expect(s.delivered == 0 && s.undelivered == 20, "\(s)")
        let received = (try? Data(contentsOf: URL(fileURLWithPath: collector.rsyslog.directory + "/plain.log"))) ?? Data()
        #expect(!String(decoding: received, as: UTF8.self).contains("login by"), "a message reached a plain TCP collector in clear")
    }

    /// RELP over TLS: acknowledged delivery with the sensor's certificate; the wrong CA or name refused.
    @Test func relpOverTLS() throws {
        let messages = TLSCollector.messages(300, tag: "relp")
        let transport = try RELPTransport.tls(host: "127.0.0.1", port: collector.relpTLSPort,
                                              settings: collector.settings(client: true, peer: TestCertificates.collectorName)).get()
        let s = TLSCollector.deliver(messages, through: transport)
        #expect(s.delivered == 300 && s.undelivered == 0 && s.refusedSessions == 0, "\(s)")
        #expect(collector.rsyslog.lines("relp") == messages.map { String(decoding: $0, as: UTF8.self) })

        for settings in [collector.settings(ca: collector.certificates.otherCAFile, client: true, peer: TestCertificates.collectorName),
                         collector.settings(client: true, peer: "syslog.example.org")] {
            let refused = try RELPTransport.tls(host: "127.0.0.1", port: collector.relpTLSPort, settings: settings).get()
            let r = TLSCollector.deliver(TLSCollector.messages(10, tag: "refused"), through: refused, seconds: 2, stopSeconds: 0.2)
            #expect(r.delivered == 0 && r.undelivered == 10 && r.refusedSessions >= 1, "\(r)")
            #expect(r.lastError?.contains("the collector's certificate was refused") == true, "\(r.lastError ?? "")")
        }
        #expect(collector.rsyslog.lines("relp").count == 300)
    }

    /// Files that cannot serve are refused before any connection, in one line.
    @Test func badFilesAreSetupErrors() throws {
        let c = collector.certificates
        let cases: [(TLSSettings, String)] = [
            (TLSSettings(caFile: c.directory + "/missing.pem"), "CA file \(c.directory)/missing.pem: No such file or directory"),
            (TLSSettings(caFile: c.serverKey), "PEM certificates expected"),
            (TLSSettings(caFile: c.caFile, certificateFile: c.clientCertificate), "a client certificate needs its private key"),
            (TLSSettings(caFile: c.caFile, certificateFile: c.clientCertificate, keyFile: c.serverKey), "client key \(c.serverKey)"),
        ]
        for (settings, message) in cases {
            guard case .failure(let e) = TCPTransport.tls(host: "127.0.0.1", port: collector.tlsPort, settings: settings) else {
                Issue.record("accepted: \(settings)")
                continue
            }
            #expect(e.description.contains(message) && !e.description.contains("\n"), "\(e)")
        }
    }
}
