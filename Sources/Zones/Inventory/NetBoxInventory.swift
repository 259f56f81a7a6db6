import Foundation
import Vocabulary

/// `netbox`: the JSON of NetBox's `/api/ipam/ip-addresses/` (a page
/// `{"count", "next", "results": [...]}`, or the list of results of every
/// page). Each address (`"10.0.0.5/24"`) is named after what it is assigned
/// to: a VM's interface (`assigned_object.virtual_machine.name`, kind `vm`),
/// a device's interface (`assigned_object.device.name`, kind `host`), else its
/// `dns_name`. Addresses NetBox gives the role of a first-hop redundancy
/// protocol (VRRP, HSRP, GLBP, CARP) are gateways. Addresses with no name at
/// all are skipped.
public enum NetBoxInventory: InventoryFormat {
    public static let name = "netbox"
    public static let fileExtensions = ["json"]
    public static let summary = "the JSON of NetBox's /api/ipam/ip-addresses/ (one page, or a list of results)"

    static let gatewayRoles: Set<String> = ["vrrp", "hsrp", "glbp", "carp"]

    public static func read(_ file: InventoryFile) throws(InventoryError) -> [InventoryItem] {
        let root = try JSONCursor.parse(file.data)
        let results = try root.topLevelList("results", what: "a NetBox API answer")
        var items: [InventoryItem] = []
        for result in results {
            guard let address = try result["address"].ip(prefixAllowed: true) else {
                throw InventoryError(path: result["address"].path, "the address is missing")
            }
            let assigned = result["assigned_object"]
            let type = try result["assigned_object_type"].string()
            var name: String?
            var kind = AssetKind.host
            if let vm = try assigned["virtual_machine"]["name"].string() {
                name = vm
                kind = .vm
            } else if let device = try assigned["device"]["name"].string() {
                name = device
            } else if type == "virtualization.vminterface" {
                kind = .vm
            }
            if name == nil { name = try result["dns_name"].string() }
            guard let name else { continue }
            // `role` is {"value": "vrrp", "label": "VRRP"} (older versions: the plain value).
            let role = try (result["role"].value is String ? result["role"].string() : result["role"]["value"].string())?.lowercased()
            if let role, gatewayRoles.contains(role) { kind = .gateway }
            items.append(InventoryItem(.ip(address), Asset(name: name, kind: kind, host: file.host)))
        }
        return items
    }
}
