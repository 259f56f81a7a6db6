import Foundation
import Vocabulary

/// `govc-vnic`: the JSON of `govc host.vnic.info -host HOST -json`
/// (`{"info": [{"device", "network", "switch", "address", "stack",
/// "services"}]}`; `Info`/`Device`/... before govc 0.32): one host's VMkernel
/// NICs with their IPv4 address, port group and enabled services. The output
/// does not name the host: the source's `host:` does, else the file's name
/// (`esx-03.json` is esx-03's), so a folder of one file per host is one
/// source. An interface's kind is its service (`vmkernel-management` when
/// management is among them, else vMotion, storage, fault tolerance, in that
/// order; none: `host`, since vSphere tags no service on iSCSI or NFS ports);
/// it is named `HOST DEVICE` (`esx-03 vmk1`).
public enum GovcVNICInventory: InventoryFormat {
    public static let name = "govc-vnic"
    public static let fileExtensions = ["json"]
    public static let summary = "the JSON of govc host.vnic.info -host HOST -json (a host's VMkernel NICs with their services; the host from host: or the file's name)"

    /// vSphere's service names (HostVirtualNicManagerNicType) by the kind they make, strongest first.
    static let services: [(AssetKind, Set<String>)] = [
        (.vmkernelManagement, ["management"]),
        (.vmkernelVMotion, ["vmotion", "vsphereprovisioning", "vspherereplication", "vspherereplicationnfc", "vspherebackupnfc"]),
        (.vmkernelStorage, ["vsan", "vsanwitness", "vsanexternal", "nvmetcp", "nvmerdma"]),
        (.vmkernelFT, ["faulttolerancelogging"]),
    ]

    public static func read(_ file: InventoryFile) throws(InventoryError) -> [InventoryItem] {
        let root = try JSONCursor.parse(file.data)
        let list = try root.topLevelList("info", what: "govc host.vnic.info -json output")
        // The host is the file's name less its extension (a folder holds one file per host).
        let stem = ((file.path as NSString).lastPathComponent as NSString).deletingPathExtension
        let fileHost: String? = stem.isEmpty ? nil : stem
        var items: [InventoryItem] = []
        for nic in list {
            let device = try nic["device"].requiredString("the interface's device (vmk0)")
            var host = try nic["host"].string()
            if host == nil { host = file.host ?? fileHost }
            var enabled = Set<String>()
            for service in try nic["services"].items() {
                if let s = try service.string() { enabled.insert(s.lowercased()) }
            }
            // No service tagged: vSphere tags none on an iSCSI or NFS port, nor on a plain TCP/IP
            // stack; it is named, and no role is taken for it.
            let kind = services.first { !$0.1.isDisjoint(with: enabled) }?.0 ?? .host
            let name = host.map { "\($0) \(device)" } ?? device
            var network = try nic["network"].string()
            if network == nil { network = try nic["portgroup"].string() }
            let asset = Asset(name: name, kind: kind, host: host, network: network)
            if let mac = try nic["mac"].mac() { items.append(InventoryItem(.mac(mac), asset)) }
            if let ip = try nic["address"].ip(prefixAllowed: true) { items.append(InventoryItem(.ip(ip), asset)) }
        }
        return items
    }
}
