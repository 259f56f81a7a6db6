import Foundation
import Vocabulary

/// `govc-vm`: the JSON of `govc vm.info -json` (`{"virtualMachines": [...]}`;
/// govc before 0.30 wrote `VirtualMachines` and capitalised keys, read
/// alike). Each VM's name, the MAC of each virtual NIC
/// (`config.hardware.device[].macAddress`, with its port group from
/// `deviceInfo.summary` or `backing.deviceName`) and the addresses VMware
/// Tools report (`guest.net[].ipAddress[]`, `guest.ipAddress`). The host a VM
/// runs on is a reference (`runtime.host`: `host-21`) the output does not
/// resolve: a source's `host:` names it when all its VMs share one.
public enum GovcVMInventory: InventoryFormat {
    public static let name = "govc-vm"
    public static let fileExtensions = ["json"]
    public static let summary = "the JSON of govc vm.info -json (VM names, NIC MACs, port groups, guest IPs)"

    public static func read(_ file: InventoryFile) throws(InventoryError) -> [InventoryItem] {
        let root = try JSONCursor.parse(file.data)
        let vms = root["virtualMachines"]
        guard root.value is [String: Any], !vms.isMissing else {
            throw InventoryError("not govc vm.info -json output: expected an object with \"virtualMachines\"")
        }
        var items: [InventoryItem] = []
        for vm in try vms.items() {
            var name = try vm["name"].string()
            if name == nil { name = try vm["config"]["name"].requiredString("the VM's name") }
            guard let name else { continue }
            // VMware Tools' view first: it names the port group of every NIC, distributed ones too.
            var guestNetwork: [MACAddress: String] = [:]
            let guestNICs = try vm["guest"]["net"].items()
            for nic in guestNICs {
                if let mac = try nic["macAddress"].mac(), let network = try nic["network"].string() { guestNetwork[mac] = network }
            }
            var macsSeen = Set<MACAddress>()
            for device in try vm["config"]["hardware"]["device"].items() {
                guard let mac = try device["macAddress"].mac() else { continue }
                var network = guestNetwork[mac]
                if network == nil { network = try device["backing"]["deviceName"].string() }
                macsSeen.insert(mac)
                items.append(InventoryItem(.mac(mac), Asset(name: name, kind: .vm, host: file.host, network: network)))
            }
            for nic in guestNICs {
                let mac = try nic["macAddress"].mac()
                let asset = Asset(name: name, kind: .vm, host: file.host, network: try nic["network"].string())
                if let mac, !macsSeen.contains(mac) {
                    macsSeen.insert(mac)
                    items.append(InventoryItem(.mac(mac), asset))
                }
                for address in try nic["ipAddress"].items() {
                    if let ip = try address.ip() { items.append(InventoryItem(.ip(ip), asset)) }
                }
            }
            if let ip = try vm["guest"]["ipAddress"].ip(), !items.contains(where: { $0.address == .ip(ip) }) {
                items.append(InventoryItem(.ip(ip), Asset(name: name, kind: .vm, host: file.host)))
            }
        }
        return items
    }
}
