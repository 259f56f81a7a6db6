import Foundation
import Vocabulary

/// One `inventory:` entry of the configuration: a file (or a folder of files)
/// in one of the ``InventoryFormats``.
public struct InventorySource: Sendable {
    /// The format's name (`csv`, `govc-vm`, `govc-vnic`, `libvirt`, `netbox`).
    public var format: String
    /// The path as written; relative paths are relative to the configuration file's folder.
    public var path: String
    /// The path opened.
    public var resolvedPath: String
    /// For libvirt: the hypervisor whose `virsh dumpxml` files these are (domain XML does not say).
    public var host: String?
    public var position: SourcePosition

    public init(format: String, path: String, resolvedPath: String? = nil, host: String? = nil, position: SourcePosition = .unknown) {
        self.format = format
        self.path = path
        self.resolvedPath = resolvedPath ?? path
        self.host = host
        self.position = position
    }
}

/// An address an inventory names: one IP address, a whole prefix, or a MAC.
public enum InventoryAddress: Hashable, Sendable {
    case ip(IPAddress)
    case prefix(IPPrefix)
    case mac(MACAddress)
}

/// One address with what it is.
public struct InventoryItem: Sendable {
    public var address: InventoryAddress
    public var asset: Asset
    public init(_ address: InventoryAddress, _ asset: Asset) {
        self.address = address
        self.asset = asset
    }
}

/// A mistake in an inventory file: where (a line, or a JSON path) and why.
public struct InventoryError: Error, Sendable {
    /// The line (1-based), 0 when the place is a JSON path or the whole file.
    public var line: Int
    /// A JSON path (`virtualMachines[3].guest.net[0].macAddress`) or nil.
    public var path: String?
    public var message: String
    /// The file's later mistakes (a line-based file is read to its end, so
    /// that every mistake is said at once, as for the configuration).
    public var more: [InventoryError] = []

    public init(line: Int = 0, path: String? = nil, _ message: String) {
        self.line = line
        self.path = path
        self.message = message
    }

    /// The error as the configuration reports it, naming the inventory file.
    func configError(file: String) -> ConfigError {
        ConfigError(file: file, line: line, column: line > 0 ? 1 : 0, message: (path.map { "\($0): " } ?? "") + message)
    }

    /// This error and the file's later ones, as the configuration reports them.
    func configErrors(file: String) -> [ConfigError] {
        [configError(file: file)] + more.map { $0.configError(file: file) }
    }
}

/// A file's bytes, for a format to read.
public struct InventoryFile: Sendable {
    public var path: String
    public var data: Data
    /// The source's `host:` (libvirt).
    public var host: String?
}

/// A format of inventory file: one type per format, registered in ``InventoryFormats/all``.
public protocol InventoryFormat: SendableMetatype {
    /// The `format:` value that selects it.
    static var name: String { get }
    /// One line for `--help` and the README: what writes such files.
    static var summary: String { get }
    /// The file name endings read from a folder source (others there, a `.bak` copy, are skipped).
    static var fileExtensions: [String] { get }
    /// The addresses the file names; every mistake is thrown with its place.
    static func read(_ file: InventoryFile) throws(InventoryError) -> [InventoryItem]
}

/// The inventory formats; a new one is a type and one line here.
public enum InventoryFormats {
    public static let all: [any InventoryFormat.Type] = [
        CSVInventory.self,
        GovcVMInventory.self,
        GovcVNICInventory.self,
        LibvirtInventory.self,
        NetBoxInventory.self,
    ]

    public static var names: [String] { all.map { $0.name } }

    public static func format(named name: String) -> (any InventoryFormat.Type)? { all.first { $0.name == name } }
}

/// Names for addresses: every asset the configured inventories list,
/// looked up by IP address (exact, then the longest listed prefix) or MAC.
/// Built when the configuration is read (at start and at every reload) and
/// read-only afterwards, so the capture threads share it. Nothing on the
/// packet path asks it: alerts are named when they are built, and the rules
/// ask for a flow's endpoints once, when the flow starts.
public final class Inventory: Sendable {
    /// Every asset once, in the order first listed.
    public let assets: [Asset]
    private let byIP: [IPAddress: Int32]
    private let byMAC: [MACAddress: Int32]
    private let prefixes: PrefixMap<Int32>
    /// What each source gave: (source, addresses read).
    public let loaded: [(source: InventorySource, addresses: Int)]

    public static let empty = Inventory(items: [], loaded: [])

    public var isEmpty: Bool { assets.isEmpty }
    /// Addresses named: IPs, prefixes and MACs.
    public var addressCount: Int { byIP.count + byMAC.count + prefixes.intervalCount }

    /// Builds the tables; an address listed twice takes its last listing (a later file corrects an earlier one).
    public init(items: [InventoryItem], loaded: [(source: InventorySource, addresses: Int)]) {
        var assets: [Asset] = []
        var index: [Asset: Int32] = [:]
        var byIP: [IPAddress: Int32] = [:], byMAC: [MACAddress: Int32] = [:]
        var prefixes: [IPPrefix: Int32] = [:]
        for item in items {
            let i: Int32
            if let known = index[item.asset] { i = known } else {
                i = Int32(assets.count)
                index[item.asset] = i
                assets.append(item.asset)
            }
            switch item.address {
            case .ip(let a): byIP[a] = i
            case .mac(let m): byMAC[m] = i
            case .prefix(let p): prefixes[p] = i
            }
        }
        self.assets = assets
        self.byIP = byIP
        self.byMAC = byMAC
        self.prefixes = PrefixMap(prefixes.map { ($0.key, $0.value) })
        self.loaded = loaded
    }

    /// The asset an IP address belongs to: listed itself, else the longest listed prefix holding it.
    public func asset(for address: IPAddress) -> Asset? {
        if let i = byIP[address] ?? prefixes.lookup(address) { return assets[Int(i)] }
        return nil
    }

    /// The asset a MAC belongs to.
    public func asset(forMAC mac: MACAddress) -> Asset? {
        byMAC[mac].map { assets[Int($0)] }
    }

    /// The asset behind an endpoint: by its IP address, else by the MAC it
    /// sent from or was sent to (a VM known by its MAC alone, as libvirt lists
    /// them), except a gateway's MAC, which carries every routed host's packets.
    public func asset(ip: IPAddress?, mac: MACAddress?) -> Asset? {
        if assets.isEmpty { return nil }
        if let ip, let found = asset(for: ip) { return found }
        if let mac, let found = asset(forMAC: mac), found.kind != .gateway { return found }
        return nil
    }

    /// The assets with an address in `prefix`, by address (for `learn`, which names zones by them).
    public func assets(in prefix: IPPrefix) -> [(address: IPAddress, asset: Asset)] {
        byIP.filter { prefix.contains($0.key) }.sorted { $0.key < $1.key }.map { ($0.key, assets[Int($0.value)]) }
    }

    /// Reads inventory sources given outside a configuration (`learn --inventory`).
    /// - Throws: every mistake, as the configuration reports them.
    public static func read(_ sources: [InventorySource]) throws(ConfigErrors) -> Inventory {
        let (inventory, errors) = load(sources, configFile: "--inventory")
        if !errors.isEmpty { throw ConfigErrors(errors) }
        return inventory
    }

    /// One line for `check-config` and the start of `analyze`/`run`.
    public var summary: String {
        let kinds = AssetKind.allCases.compactMap { kind -> String? in
            let n = assets.filter { $0.kind == kind }.count
            return n == 0 ? nil : "\(n) \(kind.rawValue)"
        }
        return "inventory: \(assets.count) asset\(assets.count == 1 ? "" : "s") (\(kinds.joined(separator: ", "))), "
            + "\(byIP.count) IP address\(byIP.count == 1 ? "" : "es"), \(prefixes.intervalCount > 0 ? "\(prefixes.intervalCount) prefix interval\(prefixes.intervalCount == 1 ? "" : "s"), " : "")"
            + "\(byMAC.count) MAC\(byMAC.count == 1 ? "" : "s") from \(loaded.count) source\(loaded.count == 1 ? "" : "s")"
    }

    /// Reads every source; a source that cannot be read or holds a mistake is
    /// an error of the configuration (never a partial load), reported with the inventory file's place.
    static func load(_ sources: [InventorySource], configFile: String) -> (Inventory, [ConfigError]) {
        var items: [InventoryItem] = []
        var loaded: [(source: InventorySource, addresses: Int)] = []
        var errors: [ConfigError] = []
        for source in sources {
            guard let format = InventoryFormats.format(named: source.format) else { continue }  // reported by the reader
            var files: [String] = []
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: source.resolvedPath, isDirectory: &isDirectory) else {
                errors.append(ConfigError(file: configFile, at: source.position, "inventory \(source.path): cannot read it: no such file or folder"))
                continue
            }
            if isDirectory.boolValue {
                // A folder: every file in it (virsh dumpxml writes one file per domain).
                let names = (try? FileManager.default.contentsOfDirectory(atPath: source.resolvedPath)) ?? []
                let endings = format.fileExtensions.map { "." + $0 }
                files = names.filter { name in !name.hasPrefix(".") && endings.contains { name.lowercased().hasSuffix($0) } }.sorted().map { "\(source.resolvedPath)/\($0)" }
                    .filter { var d: ObjCBool = false; return FileManager.default.fileExists(atPath: $0, isDirectory: &d) && !d.boolValue }
                if files.isEmpty {
                    errors.append(ConfigError(file: configFile, at: source.position, "inventory \(source.path): the folder holds no \(endings.map { "*\($0)" }.joined(separator: " or ")) files"))
                    continue
                }
            } else {
                files = [source.resolvedPath]
            }
            var count = 0
            for path in files {
                guard let data = FileManager.default.contents(atPath: path) else {
                    errors.append(ConfigError(file: path, line: 0, column: 0, message: "cannot read inventory: permission denied or not a regular file"))
                    continue
                }
                do throws(InventoryError) {
                    let read = try format.read(InventoryFile(path: path, data: data, host: source.host))
                    items += read
                    count += read.count
                } catch {
                    errors += error.configErrors(file: path)
                }
            }
            loaded.append((source, count))
        }
        return (Inventory(items: items, loaded: loaded), errors)
    }
}
