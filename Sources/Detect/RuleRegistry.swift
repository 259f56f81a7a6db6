import Zones
/// Every rule the sensor runs, in sid order. A new rule is one file plus one line here.
public enum RuleRegistry {
    public static var all: [any Rule.Type] {
        [
        GuestToManagementRule.self,
        GuestToStorageRule.self,
        GuestToMigrationRule.self,
        ManagementExposedRule.self,
        ZonePolicyViolationRule.self,
        ManagementServiceMisplacedRule.self,
        CleartextAdminLoginRule.self,
        AnonymousAdminAccessRule.self,
        UnencryptedManagementProtocolRule.self,
        WeakAdminAuthenticationRule.self,
        ConsoleExposedRule.self,
        MigrationOutsideMigrationNetworkRule.self,
        UnencryptedMigrationStreamRule.self,
        StorageOutsideStorageNetworkRule.self,
        StorageWithoutAuthenticationRule.self,
        StorageWeakAuthenticationRule.self,
        VLANDoubleTaggingRule.self,
        UndeclaredVLANRule.self,
        ManagementVLANSharedLinkRule.self,
        OverlayMisplacedRule.self,
        MultiHomedHostRule.self,
        GatewayBypassRule.self,
        UnknownAddressRule.self,
        NewInfrastructureEndpointRule.self,
        ]
    }

    /// The rules' names and sids, for the configuration loader.
    public static var catalogue: RuleCatalogue { RuleCatalogue(names: all.map { $0.metadata.name }, sids: all.map { $0.metadata.sid }) }

    /// The rule with this name or sid (as written in a config's `rules:` section).
    public static func find(_ key: String) -> (any Rule.Type)? {
        all.first { $0.metadata.name == key || String($0.metadata.sid) == key }
    }
}
