import Inspect
import Vocabulary
import Zones

/// 3002: a migration stream recognised in clear by its signature (QEMU `QEVM`
/// or multifd, Xen `XENF`/`LibxlFmt`/`XenSavedDomv2-`/xend, VirtualBox
/// teleporter, NBD without STARTTLS, XenMotion over HTTP): a guest's whole
/// memory or disk readable on the wire, on the migration network too.
public final class UnencryptedMigrationStreamRule: Rule {
    public static let metadata = RuleMetadata(
        sid: 3002, name: "unencrypted-migration-stream", defaultSeverity: .high,
        measurePoint: "migration data protected",
        summary: "a migration stream recognised in clear by its signature, on any segment: QEMU `QEVM` and multifd, Xen `XENF`/`LibxlFmt`/`XenSavedDomv2-`, xend relocation, VirtualBox teleporter, NBD without STARTTLS, XenMotion over HTTP")
    public static let hooks: RuleHooks = [.appEvent, .oncePerFlow]
    public init(_ setup: RuleSetup) {}

    public func appEvent(_ e: FlowEvent, _ app: AppEvent, _ findings: inout [Finding]) {
        guard case .migration(let ev) = app else { return }
        findings.append(Finding(
            message: "unencrypted \(InfrastructureTraffic.productPrefix(ev))migration stream (\(ev.detail)) from \(e.initiatorEndpoint) to \(e.responderEndpoint)",
            evidence: [("protocol", .text(ev.proto)), ("product", .text(ev.product)), ("detected_by", .text(ev.detail))] + ev.evidence,
            key: e.key(sid: Self.metadata.sid)))
    }
}
