import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Vocabulary

/// `libvirt`: domain XML as `virsh dumpxml DOMAIN` writes it, one domain per
/// file (a folder of them is one source). Each `<interface>` under
/// `<devices>` gives the VM's MAC (`<mac address=.../>`), its network or
/// bridge (`<source network=.../>` or `bridge=`), and any `<ip address=.../>`
/// the interface declares. Domain XML does not say which host runs it: the
/// source's `host:` does.
public enum LibvirtInventory: InventoryFormat {
    public static let name = "libvirt"
    public static let fileExtensions = ["xml"]
    public static let summary = "domain XML as virsh dumpxml writes it (a file, or a folder of them)"

    public static func read(_ file: InventoryFile) throws(InventoryError) -> [InventoryItem] {
        if file.data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { throw InventoryError(line: 1, "not domain XML: the file is empty") }
        let reader = DomainReader()
        let parser = XMLParser(data: file.data)
        parser.delegate = reader
        parser.shouldResolveExternalEntities = false
        if !parser.parse() {
            if let failure = reader.failure { throw failure }
            throw InventoryError(line: max(parser.lineNumber, 1), "not domain XML: \(parser.parserError.map(describe) ?? "not well-formed")")
        }
        if let failure = reader.failure { throw failure }
        guard reader.sawDomain else { throw InventoryError(line: 1, "not domain XML: the root element is not <domain>") }
        guard let name = reader.name, !name.isEmpty else { throw InventoryError(line: reader.domainLine, "the domain has no <name>") }
        var items: [InventoryItem] = []
        for nic in reader.interfaces {
            let asset = Asset(name: name, kind: .vm, host: file.host, network: nic.network)
            if let mac = nic.mac { items.append(InventoryItem(.mac(mac), asset)) }
            for ip in nic.addresses { items.append(InventoryItem(.ip(ip), asset)) }
        }
        return items
    }

    /// XMLParser's error, in words (its description is empty on Linux, where the code is libxml2's).
    static func describe(_ error: any Error) -> String {
        switch (error as NSError).code {
        case 76: "an end tag does not match its start tag"
        case 5, 77: "the document ends early"
        case 4: "no XML element where the document starts (virsh's own messages before the XML? keep dumpxml's output alone)"
        case 38...42, 65: "an attribute is malformed"
        case 26, 27: "an entity is not defined"
        default: "not well-formed (libxml2 error \((error as NSError).code))"
        }
    }

    /// Collects the domain's name and interfaces (SAX: the file is never held as a tree).
    private final class DomainReader: NSObject, XMLParserDelegate {
        struct Interface {
            var mac: MACAddress?
            var network: String?
            var addresses: [IPAddress] = []
        }
        var path: [String] = []
        var sawDomain = false
        var domainLine = 1
        var name: String?
        var nameText = ""
        var interfaces: [Interface] = []
        var failure: InventoryError?

        func parser(_ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            defer { path.append(element) }
            if path.isEmpty {
                guard element == "domain" else {
                    fail(parser, "not domain XML: the root element is <\(element)>, not <domain>")
                    return
                }
                sawDomain = true
                domainLine = parser.lineNumber
                return
            }
            if path == ["domain"] && element == "name" { nameText = "" }
            if path == ["domain", "devices"] && element == "interface" { interfaces.append(Interface()) }
            guard path.count == 3, path[1] == "devices", path[2] == "interface" else { return }
            switch element {
            case "mac":
                guard let text = attributes["address"], let mac = MACAddress(text) else {
                    fail(parser, "<mac address=\"\(attributes["address"] ?? "")\"> is not a MAC address")
                    return
                }
                interfaces[interfaces.count - 1].mac = mac
            case "source":
                interfaces[interfaces.count - 1].network = attributes["network"] ?? attributes["bridge"] ?? attributes["dev"] ?? attributes["portgroup"]
            case "ip":
                guard let text = attributes["address"], let ip = IPAddress(text) else {
                    fail(parser, "<ip address=\"\(attributes["address"] ?? "")\"> is not an IP address")
                    return
                }
                interfaces[interfaces.count - 1].addresses.append(ip)
            default: break
            }
        }

        func parser(_ parser: XMLParser, didEndElement element: String, namespaceURI: String?, qualifiedName: String?) {
            path.removeLast()
            if path == ["domain"] && element == "name" { name = nameText.trimmingCharacters(in: .whitespacesAndNewlines) }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if path == ["domain", "name"] { nameText += string }
        }

        func parser(_ parser: XMLParser, parseErrorOccurred error: any Error) {
            // Foundation on Linux reports the error here and may still return true from parse().
            if failure == nil { failure = InventoryError(line: max(parser.lineNumber, 1), "not domain XML: \(LibvirtInventory.describe(error))") }
        }

        private func fail(_ parser: XMLParser, _ message: String) {
            if failure == nil { failure = InventoryError(line: parser.lineNumber, message) }
            parser.abortParsing()
        }
    }
}
