import Foundation

/// A certificate authority, a collector's certificate and a sensor's client
/// certificate made by the real openssl for one test, plus an unrelated CA
/// (the "wrong CA"). Files in a folder of their own, removed at the end.
public final class TestCertificates: @unchecked Sendable {
    public let directory: String
    /// The name the collector's certificate carries (and 127.0.0.1 as an IP address).
    public static let collectorName = "collector.test"
    /// The name the sensor's client certificate carries.
    public static let sensorName = "sensor.test"

    public var caFile: String { directory + "/ca.pem" }
    public var otherCAFile: String { directory + "/other-ca.pem" }
    public var serverCertificate: String { directory + "/server.pem" }
    public var serverKey: String { directory + "/server.key" }
    public var clientCertificate: String { directory + "/client.pem" }
    public var clientKey: String { directory + "/client.key" }

    public static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") }

    public init() throws {
        directory = NSTemporaryDirectory() + "zw-certs-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let d = directory
        try Self.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                          "-keyout", "\(d)/ca.key", "-out", "\(d)/ca.pem", "-subj", "/CN=ZoneWarden test CA"])
        try Self.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                          "-keyout", "\(d)/other-ca.key", "-out", "\(d)/other-ca.pem", "-subj", "/CN=Some other CA"])
        try issue("server", subject: Self.collectorName, extensions: "subjectAltName=DNS:\(Self.collectorName),IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
        try issue("client", subject: Self.sensorName, extensions: "subjectAltName=DNS:\(Self.sensorName)\nextendedKeyUsage=clientAuth\n")
    }

    /// A key and a certificate signed by the test CA.
    private func issue(_ name: String, subject: String, extensions: String) throws {
        let d = directory
        try extensions.write(toFile: "\(d)/\(name).ext", atomically: true, encoding: .utf8)
        try Self.openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                          "-keyout", "\(d)/\(name).key", "-out", "\(d)/\(name).csr", "-subj", "/CN=\(subject)"])
        try Self.openssl(["x509", "-req", "-in", "\(d)/\(name).csr", "-CA", "\(d)/ca.pem", "-CAkey", "\(d)/ca.key", "-CAcreateserial",
                          "-days", "2", "-out", "\(d)/\(name).pem", "-extfile", "\(d)/\(name).ext"])
    }

    private static func openssl(_ arguments: [String]) throws {
        let p = try ChildProcess("/usr/bin/openssl", arguments, outputPath: "/dev/null")
        guard p.wait(seconds: 30) == 0 else { throw ChildProcessError("openssl \(arguments.prefix(2).joined(separator: " ")) failed") }
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }
}
