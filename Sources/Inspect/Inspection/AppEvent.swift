import Vocabulary

/// How a login's secret travelled. Secrets themselves are never reported:
/// only their length is kept (and, for the evidence recorder alone, the bytes
/// as they crossed the wire: ``WireSecret``).
public enum Credential: Sendable, Equatable {
    /// A password, community or similar sent in clear.
    case cleartext(length: Int)
    /// A secret was sent in clear, but which of the lines typed it was is
    /// unknown (typed ahead of the prompts): neither its length nor the user is given.
    case cleartextUnattributed
    /// No secret was sent: the login relies on host trust, or none was asked.
    case none(String)
}

/// A login (or login attempt) an inspector saw.
public struct LoginEvent: Sendable {
    /// The application protocol (EVE `app_proto`).
    public var proto: String
    /// The user name as sent, possibly with bytes from the wire: every format
    /// escapes it. Never a secret: ``UserField`` takes secrets out first.
    public var user: String?
    /// The length of a secret that stood where the user name belongs (an API
    /// token as the user, `name:secret`); the secret itself is gone.
    public var secretInUser: Int?
    public var credential: Credential
    /// How the login was made: `USER/PASS`, `HTTP Basic`, `simple bind`, ...
    public var method: String
    /// Whether the server accepted it, when the protocol shows that.
    public var success: Bool?
    /// More evidence (escaped on output).
    public var evidence: Evidence
    /// The secrets' bytes as they crossed the wire, for the evidence recorder
    /// to mask them in the packets it keeps; never formatted or printed.
    public var wireSecrets: [WireSecret]

    /// - Parameter secrets: the secrets' bytes as they appear in the stream
    ///   (the Base64 token of HTTP Basic, a PASS line's argument); a secret
    ///   found in the user name is added here.
    public init(proto: String, user: String?, credential: Credential, method: String, success: Bool?, evidence: Evidence = [],
                secrets: [WireSecret] = []) {
        self.proto = proto
        (self.user, self.secretInUser) = UserField.separate(user, credential: credential)
        self.credential = credential
        self.method = method
        self.success = success
        self.evidence = evidence
        wireSecrets = secrets.filter { !$0.bytes.isEmpty }
        if secretInUser != nil, let user { wireSecrets.append(WireSecret(user.utf8)) }
    }

    /// Whether a secret crossed the wire in clear (a password, or one in the user name).
    public var sentSecret: Bool {
        if secretInUser != nil { return true }
        switch credential {
        case .cleartext(let length): return length > 0
        case .cleartextUnattributed: return true
        case .none: return false
        }
    }
}

/// A secret's bytes as they crossed the wire. Kept in memory only, for the
/// evidence recorder to overwrite them in the packets it stores; its
/// description, and what `dump` and the debugger show, never hold them.
public struct WireSecret: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let bytes: [UInt8]

    public init<S: Sequence>(_ bytes: S) where S.Element == UInt8 { self.bytes = Array(bytes.prefix(Self.maximumLength)) }

    /// Longer secrets are masked by their first bytes (a token in a header).
    public static let maximumLength = 1024

    public var description: String { "<secret, \(bytes.count) bytes>" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["length": bytes.count]) }
}

/// A storage or migration protocol an inspector recognised, with what it showed.
public struct InfrastructureEvent: Sendable {
    /// `iscsi`, `nfs`, `nvme-tcp`, `ceph`, `smb`, `qemu-migration`, `xen-migration` ...
    public var proto: String
    /// The product it belongs to (`kvm`, `xen`, `vmware`, `virtualbox`, or `generic` for a protocol of every product).
    public var product: String
    /// The signature the stream was recognised by, or what was wrong with it.
    public var detail: String
    public var evidence: Evidence

    public init(proto: String, product: String, detail: String, evidence: Evidence = []) {
        self.proto = proto
        self.product = product
        self.detail = detail
        self.evidence = evidence
    }
}

/// What an application-protocol inspector found on a flow.
public enum AppEvent: Sendable {
    /// A storage protocol (by its content, not its port).
    case storage(InfrastructureEvent)
    /// Storage access that completed without authentication (iSCSI AuthMethod=None, no security stage).
    case storageWithoutAuthentication(InfrastructureEvent)
    /// Storage access with weak or no per-user authentication (NFS AUTH_SYS, unsigned SMB).
    case storageWeakAuthentication(InfrastructureEvent)
    /// A live-migration stream recognised in clear by its signature.
    case migration(InfrastructureEvent)
    /// Credentials (or a trust-based login) sent in clear.
    case login(LoginEvent)
    /// Access without authentication, or anonymous authentication, accepted.
    case anonymousAccess(LoginEvent)
    /// The server speaks a cleartext management protocol.
    case cleartextService(proto: String, detail: String)
    /// Authentication that protects the secret weakly (VNC DES challenge, IPMI 1.5
    /// MD5, SNMPv3 noAuthNoPriv, RDP standard security, SPICE or TLS ≤ 1.1 ...).
    case weakAuthentication(LoginEvent)
    /// A VM console protocol.
    case console(proto: String, detail: String)
}

/// What an inspector reports back for a chunk of stream bytes.
/// A data connection that a control connection announced (FTP's PASV and
/// EPSV replies, PORT and EPRT commands): it belongs to the session.
public struct DataChannel: Sendable, Equatable {
    /// The address announced; nil: the control connection's end on that side.
    public var address: IPAddress?
    public var port: UInt16
    /// Passive (PASV, EPSV): the client connects to this port of the server.
    /// Active (PORT, EPRT): the server connects to this port of the client.
    public var toServer: Bool

    public init(address: IPAddress?, port: UInt16, toServer: Bool) {
        self.address = address
        self.port = port
        self.toServer = toServer
    }
}

public struct InspectionOutput {
    public var events: [AppEvent] = []
    /// Data connections the flow announced (``DataChannel``).
    public var dataChannels: [DataChannel] = []
    /// The application protocol, once recognised (EVE `app_proto`).
    public var appProtocol: String?
    /// Nothing more of the flow needs inspecting (encrypted from here on, or done).
    public var finished = false
    /// The bytes of secrets seen in this call (a PASS argument, a bind's
    /// password, a community), as they crossed the wire: the evidence recorder
    /// overwrites them in the packets it keeps. Reported when seen, whatever
    /// the login's outcome; never formatted.
    public var secrets: [WireSecret] = []

    public init() {}
}

/// An application-protocol inspector for one flow: created when the flow's
/// first bytes match it, then fed the in-order bytes of both directions.
///
/// Each inspector describes itself (name, transports, the application
/// protocols it reports): one file under `Inspectors/` plus its line in
/// ``InspectorRegistry/all``, from which recognition, the flow records'
/// protocol ids, the fuzz harness and the fuzz seeds all derive.
protocol StreamInspector: AnyObject, SendableMetatype {
    /// The inspector's name in the fuzz harness and tests (`telnet`, `oncrpc`).
    static var name: String { get }
    /// The transports it reads (TCP by default).
    static var transports: [IPProtocol] { get }
    /// The application protocols it reports (EVE `app_proto`); its name by default.
    static var appProtocols: [String] { get }
    /// An inspector for a flow whose first bytes on one side are `bytes`, or nil.
    static func recognize(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ hints: FlowHints) -> Self?
    /// A fresh inspector for `transport`, without recognition: the fuzz
    /// harness feeds it arbitrary bytes.
    static func make(transport: IPProtocol) -> Self
    /// In-order bytes of one direction.
    func consume(_ bytes: UnsafeRawBufferPointer, fromClient: Bool, _ out: inout InspectionOutput)
    /// The flow ended or its window is exhausted: report what is pending
    /// (a login whose outcome was never seen).
    func finish(_ out: inout InspectionOutput)
}

/// The inspectors whose state needs nothing but a fresh instance.
protocol SimpleStreamInspector: StreamInspector {
    init()
}

extension SimpleStreamInspector {
    static func make(transport: IPProtocol) -> Self { Self() }
}

extension StreamInspector {
    static var transports: [IPProtocol] { [.tcp] }
    static var appProtocols: [String] { [name] }
    func finish(_ out: inout InspectionOutput) {}
}

/// What recognisers may know about a flow before any byte is read.
struct FlowHints {
    /// TCP or UDP.
    var transport: IPProtocol
    var serverPort: UInt16
    var clientPort: UInt16
    /// Whether the server is in a management zone and the port is a management service
    /// (TLS versions are judged only there).
    var managementService: Bool
}
