import Foundation
import Testing
import Vocabulary
@testable import Zones

/// A scratch folder with files, removed at the end.
private final class Scratch {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "zw-inventory-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        let file = "\(path)/\(name)"
        try! FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try! text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }
}

private func read<F: InventoryFormat>(_ format: F.Type, _ text: String, host: String? = nil) throws(InventoryError) -> [InventoryItem] {
    try format.read(InventoryFile(path: "inv", data: Data(text.utf8), host: host))
}

private func errorText<F: InventoryFormat>(_ format: F.Type, _ text: String) -> String? {
    do {
        _ = try read(format, text)
        return nil
    } catch {
        return error.configError(file: "inv").description
    }
}

private let siteZones = """
zones:
  mgmt:   { role: management, vlans: [10], subnets: [10.10.0.0/24] }
  guests: { role: guest, vlans: [100], subnets: [192.168.100.0/24] }

"""

@Suite("Inventory")
struct InventoryTests {
    // MARK: csv

    /// RFC 4180: a quoted field may hold a line break; the lines after it keep their numbers.
    @Test func csvQuotedFieldsSpanLines() throws {
        let text = "address,name,kind\n10.0.0.5,\"web\nfront, \"\"A\"\"\",vm\n10.0.0.6,db,vm\n10.0.0.7,x,nosuch\n"
        #expect(errorText(CSVInventory.self, text)?.hasPrefix("inv:5:1: unknown kind \"nosuch\"") == true, "\(errorText(CSVInventory.self, text) ?? "")")
        let items = try read(CSVInventory.self, text.replacingOccurrences(of: "10.0.0.7,x,nosuch\n", with: ""))
        #expect(items.count == 2 && items[0].asset.name == "web\nfront, \"A\"" && items[1].asset.name == "db")
        // A comment is one line, whatever quote it holds: the rows after it are read.
        let commented = try read(CSVInventory.self, "# owner: ops, \"primary site\n10.0.0.8,app,vm\n")
        #expect(commented.count == 1 && commented[0].asset.name == "app")
    }

    @Test func csvReadsAddressesPrefixesAndMACs() throws {
        let items = try read(CSVInventory.self, #"""
            address,name,kind,host
            # the web tier
            192.168.100.11,web-01,vm,esx-03
            10.30.0.0/24, vmotion-net ,vmkernel-vmotion
            00:50:56:aa:bb:cc,"db, primary ""A""",VM,esx-04\#r
            fd00:100::10,web-v6,vm,

            """#)
        #expect(items.count == 4)
        #expect(items[0].address == .ip(IPAddress("192.168.100.11")!) && items[0].asset == Asset(name: "web-01", kind: .vm, host: "esx-03"))
        #expect(items[1].address == .prefix(try IPPrefix.parse("10.30.0.0/24").get()) && items[1].asset.name == "vmotion-net")
        #expect(items[2].address == .mac(MACAddress("00:50:56:aa:bb:cc")!) && items[2].asset.name == "db, primary \"A\"" && items[2].asset.kind == .vm)
        #expect(items[3].asset.host == nil)
    }

    @Test(arguments: [
        ("10.0.0.1,a,vmm\n", "inv:1:1: unknown kind \"vmm\" (did you mean \"vm\"?)"),
        ("address,name,kind\n\n10.0.0.300,a,vm\n", "inv:3:1: \"10.0.0.300\" is not an IP address, prefix or MAC"),
        ("10.0.0.1/16,a,vm\n", "inv:1:1: 10.0.0.1/16: host bits set (did you mean 10.0.0.0/16?)"),
        ("10.0.0.1,a\n", "inv:1:1: expected address,name,kind[,host], found 2 fields"),
        ("10.0.0.1,,vm\n", "inv:1:1: the name is empty"),
        ("10.0.0.1,\"open,vm\n", "inv:1:1: a quoted field is not closed"),
    ])
    func csvMistakesSayLineAndReason(text: String, expected: String) {
        #expect(errorText(CSVInventory.self, text) == expected)
    }

    /// Every line's mistake at once, not one per run (at most 20 of a file).
    @Test func csvMistakesAllAtOnce() {
        do {
            _ = try read(CSVInventory.self, "10.10.0.300,a,vm\n10.0.0.2,b,vm\n10.0.0.3,c,storagearray\n")
            Issue.record("no error")
        } catch {
            #expect(error.configErrors(file: "inv").map(\.description)
                    == ["inv:1:1: \"10.10.0.300\" is not an IP address, prefix or MAC", "inv:3:1: unknown kind \"storagearray\"\(Spelling.suggestion("storagearray", AssetKind.allCases.map(\.rawValue)))"])
        }
        do {
            _ = try read(CSVInventory.self, String(repeating: "not an inventory line\n", count: 500))
            Issue.record("no error")
        } catch {
            #expect(error.configErrors(file: "inv").count == 20)
        }
    }

    // MARK: libvirt

    /// Domain XML as the real virsh writes it (its test driver defines the domain and dumps it).
    @Test func libvirtReadsWhatVirshDumpxmlWrites() throws {
        let scratch = Scratch()
        let definition = scratch.write("def.xml", """
            <domain type='test'><name>web-01</name><memory unit='MiB'>256</memory><os><type>hvm</type></os>
            <devices><interface type='bridge'><mac address='52:54:00:12:34:56'/><source bridge='br-web'/></interface>
            <interface type='network'><mac address='52:54:00:ab:cd:ef'/><source network='backup'/></interface></devices></domain>
            """)
        let virsh = Process()
        virsh.executableURL = URL(fileURLWithPath: "/usr/bin/virsh")
        virsh.arguments = ["-q", "-c", "test:///default", "define \(definition); dumpxml web-01"]
        let out = Pipe()
        virsh.standardOutput = out
        try virsh.run()
        let xml = out.fileHandleForReading.readDataToEndOfFile()
        virsh.waitUntilExit()
        #expect(virsh.terminationStatus == 0)
        #expect(String(decoding: xml, as: UTF8.self).contains("<target dev="))  // virsh's own output, not our input
        let items = try LibvirtInventory.read(InventoryFile(path: "web-01.xml", data: xml, host: "kvm-07"))
        #expect(items.map(\.address) == [.mac(MACAddress("52:54:00:12:34:56")!), .mac(MACAddress("52:54:00:ab:cd:ef")!)])
        #expect(items.map(\.asset) == [Asset(name: "web-01", kind: .vm, host: "kvm-07", network: "br-web"),
                                      Asset(name: "web-01", kind: .vm, host: "kvm-07", network: "backup")])
    }

    @Test(arguments: [
        ("<network><name>default</name></network>", "inv:1:1: not domain XML: the root element is <network>, not <domain>"),
        ("<domain>\n<devices><interface>\n<mac address='zz'/></interface></devices></domain>", "inv:3:1: <mac address=\"zz\"> is not a MAC address"),
        ("<domain><devices/></domain>", "inv:1:1: the domain has no <name>"),
    ])
    func libvirtMistakes(text: String, expected: String) {
        #expect(errorText(LibvirtInventory.self, text) == expected)
    }

    @Test func libvirtBrokenXMLNamesTheLine() {
        let text = errorText(LibvirtInventory.self, "<domain>\n<name>a</name>\n<devices>\n</domain>")
        #expect(text == "inv:4:1: not domain XML: an end tag does not match its start tag")
        #expect(errorText(LibvirtInventory.self, "") == "inv:1:1: not domain XML: the file is empty")
    }

    // MARK: govc

    /// `govc vm.info -json` since govc 0.32: camelCase, devices without type names, a
    /// distributed port group's NIC named only in guest.net.
    static let vmInfo = """
        {"virtualMachines": [{
          "self": {"type": "VirtualMachine", "value": "vm-42"}, "value": null, "name": "web-01",
          "config": {"name": "web-01", "hardware": {"numCPU": 2, "device": [
            {"key": 1000, "deviceInfo": {"label": "SCSI controller 0", "summary": "VMware paravirtual SCSI"}, "busNumber": 0},
            {"key": 4000, "deviceInfo": {"label": "Network adapter 1", "summary": "VM Network"},
             "backing": {"deviceName": "VM Network", "useAutoDetect": false, "network": {"type": "Network", "value": "network-13"}},
             "controllerKey": 100, "unitNumber": 7, "addressType": "assigned", "macAddress": "00:50:56:a1:2b:3c", "wakeOnLanEnabled": true},
            {"key": 4001, "deviceInfo": {"label": "Network adapter 2", "summary": "DVSwitch: 50 0c 5b 22 b6 68 ab 89-fc 0b 59 a4 08 6e 80 fa"},
             "backing": {"port": {"switchUuid": "50 0c 5b 22 b6 68 ab 89-fc 0b 59 a4 08 6e 80 fa", "portgroupKey": "dvportgroup-17", "portKey": "12"}},
             "addressType": "assigned", "macAddress": "00:50:56:a1:2b:3d"}]}},
          "runtime": {"host": {"type": "HostSystem", "value": "host-21"}, "powerState": "poweredOn"},
          "guest": {"toolsStatus": "toolsOk", "hostName": "web01", "ipAddress": "192.168.100.10", "net": [
            {"network": "VM Network", "ipAddress": ["192.168.100.10", "fe80::250:56ff:fea1:2b3c"], "macAddress": "00:50:56:a1:2b:3c", "connected": true, "deviceConfigId": 4000},
            {"network": "dvpg-backend", "ipAddress": ["10.0.130.11"], "macAddress": "00:50:56:a1:2b:3d", "connected": true, "deviceConfigId": 4001}]}
        }, {
          "name": "template-01", "config": {"name": "template-01", "hardware": {"device": []}}, "guest": {"net": null}
        }]}
        """

    @Test func govcVMReadsNICsPortGroupsAndGuestAddresses() throws {
        let items = try read(GovcVMInventory.self, Self.vmInfo, host: "esx-03")
        let byAddress = Dictionary(uniqueKeysWithValues: items.map { ($0.address, $0.asset) })
        #expect(items.count == 5)
        #expect(byAddress[.mac(MACAddress("00:50:56:a1:2b:3c")!)] == Asset(name: "web-01", kind: .vm, host: "esx-03", network: "VM Network"))
        #expect(byAddress[.mac(MACAddress("00:50:56:a1:2b:3d")!)]?.network == "dvpg-backend")  // not "DVSwitch: ..."
        #expect(byAddress[.ip(IPAddress("10.0.130.11")!)]?.network == "dvpg-backend")
        #expect(byAddress[.ip(IPAddress("fe80::250:56ff:fea1:2b3c")!)]?.name == "web-01")
    }

    /// govc up to 0.30 wrote Go's field names: `VirtualMachines`, `Config.Hardware.Device[].MacAddress`, empty strings for unset fields.
    @Test func govcVMReadsTheOldCapitalisedOutput() throws {
        let items = try read(GovcVMInventory.self, """
            {"VirtualMachines": [{"Name": "db-01", "Config": {"Name": "db-01", "Hardware": {"Device": [
              {"Key": 4000, "DeviceInfo": {"Label": "Network adapter 1", "Summary": "db"}, "Backing": {"DeviceName": "db", "Network": {"Type": "Network", "Value": "network-20"}},
               "AddressType": "assigned", "MacAddress": "00:50:56:a1:00:01"},
              {"Key": 2000, "DeviceInfo": {"Label": "Hard disk 1", "Summary": "16,777,216 KB"}, "MacAddress": ""}]}},
              "Guest": {"IpAddress": "", "Net": null}}]}
            """)
        #expect(items.map(\.address) == [.mac(MACAddress("00:50:56:a1:00:01")!)])
        #expect(items.first?.asset == Asset(name: "db-01", kind: .vm, network: "db"))
    }

    @Test func govcMistakesNameTheJSONPath() {
        #expect(errorText(GovcVMInventory.self, #"{"virtualMachines": [{"name": "a", "guest": {"net": [{"ipAddress": ["10.0.0.300"]}]}}]}"#)
                == "inv: virtualMachines[0].guest.net[0].ipAddress[0]: \"10.0.0.300\" is not an IP address")
        #expect(errorText(GovcVMInventory.self, #"{"virtualMachines": [{"config": {"hardware": {}}}]}"#)
                == "inv: virtualMachines[0].config.name: the VM's name is missing")
        #expect(errorText(GovcVMInventory.self, #"{"info": []}"#) == "inv: not govc vm.info -json output: expected an object with \"virtualMachines\"")
        #expect(errorText(GovcVNICInventory.self, #"{"info": [{"device": "vmk0", "services": "management"}]}"#)
                == "inv: info[0].services: expected a list")
    }

    @Test func govcVNICKindsFollowTheServicesAndTheHostTheFile() throws {
        let json = """
            {"info": [
              {"device": "vmk0", "network": "Management Network", "switch": "vSwitch0", "address": "10.10.0.13", "stack": "defaultTcpipStack", "services": ["management", "vmotion"]},
              {"device": "vmk1", "network": "dvpg-vmotion", "switch": "dvs-01", "address": "10.30.0.13", "stack": "vmotion", "services": ["vmotion"]},
              {"device": "vmk2", "network": "vsan", "switch": "dvs-01", "address": "10.20.0.13", "stack": "defaultTcpipStack", "services": ["vsan"]},
              {"device": "vmk3", "network": "ft", "switch": "dvs-01", "address": "10.31.0.13", "stack": "defaultTcpipStack", "services": ["faultToleranceLogging"]},
              {"device": "vmk4", "network": "nfs", "switch": "dvs-01", "address": "", "stack": "defaultTcpipStack", "services": null}
            ]}
            """
        let items = try GovcVNICInventory.read(InventoryFile(path: "/srv/vmknics/esx-03.lab.json", data: Data(json.utf8), host: nil))
        #expect(items.map(\.asset.kind) == [.vmkernelManagement, .vmkernelVMotion, .vmkernelStorage, .vmkernelFT])  // vmk4 has no address
        #expect(items[1].asset == Asset(name: "esx-03.lab vmk1", kind: .vmkernelVMotion, host: "esx-03.lab", network: "dvpg-vmotion"))
        let named = try read(GovcVNICInventory.self, json, host: "esx-09")
        #expect(named[0].asset.name == "esx-09 vmk0")
    }

    // MARK: NetBox

    @Test func netboxNamesAddressesByWhatTheyAreAssignedTo() throws {
        let items = try read(NetBoxInventory.self, """
            {"count": 4, "next": null, "previous": null, "results": [
              {"id": 1, "url": "https://netbox.example/api/ipam/ip-addresses/1/", "display": "192.168.100.11/24",
               "family": {"value": 4, "label": "IPv4"}, "address": "192.168.100.11/24", "vrf": null, "tenant": null,
               "status": {"value": "active", "label": "Active"}, "role": null,
               "assigned_object_type": "virtualization.vminterface", "assigned_object_id": 7,
               "assigned_object": {"id": 7, "url": "https://netbox.example/api/virtualization/interfaces/7/", "display": "eth0",
                                   "virtual_machine": {"id": 3, "url": "https://netbox.example/api/virtualization/virtual-machines/3/", "display": "web-01", "name": "web-01"},
                                   "name": "eth0", "description": "", "_occupied": false},
               "nat_inside": null, "nat_outside": [], "dns_name": "web-01.example.net", "description": "", "tags": [], "custom_fields": {}},
              {"id": 2, "address": "10.10.0.31/24", "status": {"value": "active", "label": "Active"}, "role": null,
               "assigned_object_type": "dcim.interface", "assigned_object_id": 9,
               "assigned_object": {"id": 9, "display": "iDRAC", "device": {"id": 4, "display": "esx-03", "name": "esx-03"}, "name": "iDRAC", "cable": null, "_occupied": true},
               "dns_name": ""},
              {"id": 3, "address": "10.10.0.1/24", "role": {"value": "vrrp", "label": "VRRP"}, "assigned_object_type": null, "assigned_object": null, "dns_name": "gw.example.net"},
              {"id": 4, "address": "fd00:100::5/64", "assigned_object": null, "dns_name": ""}
            ]}
            """)
        #expect(items.count == 3)  // the last has no name
        #expect(items[0].address == .ip(IPAddress("192.168.100.11")!) && items[0].asset == Asset(name: "web-01", kind: .vm))
        #expect(items[1].asset == Asset(name: "esx-03", kind: .host))
        #expect(items[2].asset == Asset(name: "gw.example.net", kind: .gateway))
    }

    @Test func netboxMistakesNameTheJSONPath() {
        #expect(errorText(NetBoxInventory.self, #"{"results": [{"address": "10.0.0.1/24"}, {"address": "bogus/24", "dns_name": "x"}]}"#)
                == "inv: results[1].address: \"bogus\" is not an IP address")
        #expect(errorText(NetBoxInventory.self, #"{"virtualMachines": []}"#)
                == "inv: not a NetBox API answer: expected an object with \"results\"")
        #expect(errorText(NetBoxInventory.self, "{\"results\": [")?.hasPrefix("inv: not JSON") == true)
    }

    // MARK: configuration

    @Test func configReadsInventoriesRelativeToItsFolder() throws {
        let scratch = Scratch()
        scratch.write("inventory/assets.csv", "192.168.100.11,web-01,vm,esx-03\n10.10.0.0/24,mgmt-net,host\n")
        scratch.write("kvm-09.csv", "192.168.100.12,web-03,vm\n")
        scratch.write("domains/web-02.xml.bak", "<domain><name>stale</name></domain>")  // not read: not *.xml
        scratch.write("domains/web-02.xml", "<domain type='kvm'><name>web-02</name><devices><interface type='bridge'><mac address='52:54:00:00:00:02'/><source bridge='br100'/></interface></devices></domain>")
        let config = scratch.write("site.yaml", siteZones + """
            inventory:
              - { format: csv, path: inventory/assets.csv }
              - { format: libvirt, path: domains, host: kvm-01 }
              - { format: csv, path: kvm-09.csv, host: kvm-09 }
            """)
        let c = try ZoneConfig.load(path: config)
        let inventory = c.inventory
        #expect(inventory.asset(for: IPAddress("192.168.100.11")!)?.label == "web-01 on esx-03")
        #expect(inventory.asset(for: IPAddress("10.10.0.77")!)?.name == "mgmt-net")
        #expect(inventory.asset(forMAC: MACAddress("52:54:00:00:00:02")!)?.label == "web-02 on kvm-01")
        #expect(inventory.asset(for: IPAddress("192.168.100.12")!)?.label == "web-03 on kvm-09", "a row without a host takes the source's")
        #expect(c.summary.hasSuffix("inventory: 4 assets (3 vm, 1 host), 2 IP addresses, 1 prefix interval, 1 MAC from 3 sources"), "\(c.summary)")
    }

    @Test func inventoryMistakesAreConfigErrors() {
        let scratch = Scratch()
        scratch.write("bad.csv", "10.0.0.1,a,vm\n10.0.0.2,b,hypervisr\n")
        func errors(_ inventory: String) -> [String] {
            let config = scratch.write("site.yaml", siteZones + inventory)
            do {
                _ = try ZoneConfig.load(path: config)
                return []
            } catch {
                return error.errors.map(\.description)
            }
        }
        #expect(errors("inventory:\n  - { format: csv, path: bad.csv }\n") == ["\(scratch.path)/bad.csv:2:1: unknown kind \"hypervisr\" (did you mean \"hypervisor\"?)"])
        #expect(errors("inventory:\n  - { format: csv, path: missing.csv }\n") == ["\(scratch.path)/site.yaml:5:5: inventory missing.csv: cannot read it: no such file or folder"])
        #expect(errors("inventory:\n  - { format: govc, path: bad.csv }\n") == ["\(scratch.path)/site.yaml:5:15: unknown inventory format \"govc\" (expected one of: csv, govc-vm, govc-vnic, libvirt, netbox)"])
        #expect(errors("inventory:\n  - { path: bad.csv }\n") == ["\(scratch.path)/site.yaml:5:5: an inventory entry needs a format: (one of: csv, govc-vm, govc-vnic, libvirt, netbox)"])
        #expect(errors("inventory:\n  - { format: csv, file: bad.csv }\n").contains { $0.contains("unknown key \"file\" in an inventory entry") })
    }

    // MARK: lookups

    @Test func lookupsPreferTheAddressAndSkipGatewayMACs() {
        let web = Asset(name: "web-01", kind: .vm), router = Asset(name: "fw-01", kind: .gateway), libvirtVM = Asset(name: "db-01", kind: .vm)
        let net = Asset(name: "vmotion-net", kind: .vmkernelVMotion), host = Asset(name: "esx-01 vmk1", kind: .vmkernelVMotion, host: "esx-01")
        let inventory = Inventory(items: [
            InventoryItem(.ip(IPAddress("192.168.100.11")!), web),
            InventoryItem(.mac(MACAddress("00:1b:21:aa:bb:cc")!), router),
            InventoryItem(.mac(MACAddress("52:54:00:00:00:09")!), libvirtVM),
            InventoryItem(.prefix(try! IPPrefix.parse("10.30.0.0/24").get()), net),
            InventoryItem(.ip(IPAddress("10.30.0.11")!), host),
        ], loaded: [])
        let routerMAC = MACAddress("00:1b:21:aa:bb:cc")!
        #expect(inventory.asset(ip: IPAddress("192.168.100.11")!, mac: routerMAC) == web)
        #expect(inventory.asset(ip: IPAddress("203.0.113.9")!, mac: routerMAC) == nil)  // a routed host is not the router
        #expect(inventory.asset(ip: IPAddress("192.168.100.99")!, mac: MACAddress("52:54:00:00:00:09")!) == libvirtVM)
        #expect(inventory.asset(for: IPAddress("10.30.0.11")!) == host)
        #expect(inventory.asset(for: IPAddress("10.30.0.12")!) == net)
        #expect(Inventory.empty.asset(ip: IPAddress("10.30.0.11")!, mac: nil) == nil)
        #expect(AssetKind.vmkernelVMotion.infrastructureRole == .migration && AssetKind.bmc.infrastructureRole == .management
                && AssetKind.storageArray.infrastructureRole == .storage && AssetKind.vm.infrastructureRole == nil)
    }
}
