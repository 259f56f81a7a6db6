import Foundation
import Vocabulary

/// A place in a JSON document, for the JSON inventory formats: the value and
/// its path (`virtualMachines[3].guest.net[0]`), so that every mistake says
/// where it is. Keys are matched without regard to case: govc wrote
/// `VirtualMachines`/`Name` before version 0.30 and `virtualMachines`/`name` since.
struct JSONCursor {
    let value: Any?
    let path: String

    /// Parses a whole document.
    static func parse(_ data: Data) throws(InventoryError) -> JSONCursor {
        do {
            return JSONCursor(value: try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]), path: "$")
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            throw InventoryError("not JSON: \(detail ?? "cannot be parsed")")
        }
    }

    /// The list under `key` of a document's top-level object, or the document
    /// itself when it is that list (results gathered from several pages);
    /// anything else is not the format's output (`what` says whose).
    func topLevelList(_ key: String, what: String) throws(InventoryError) -> [JSONCursor] {
        if value is [Any] { return try items() }
        guard value is [String: Any], !self[key].isMissing else { throw InventoryError("not \(what): expected an object with \"\(key)\"") }
        return try self[key].items()
    }

    subscript(_ key: String) -> JSONCursor {
        let object = value as? [String: Any]
        let found = object?[key] ?? object?.first { $0.key.caseInsensitiveCompare(key) == .orderedSame }?.value
        return JSONCursor(value: found is NSNull ? nil : found, path: path == "$" ? key : "\(path).\(key)")
    }

    var isMissing: Bool { value == nil }

    /// The items of an array (none when missing); anything else is a mistake.
    func items() throws(InventoryError) -> [JSONCursor] {
        guard let value else { return [] }
        guard let array = value as? [Any] else { throw InventoryError(path: path, "expected a list") }
        return array.enumerated().map { JSONCursor(value: $0.element is NSNull ? nil : $0.element, path: "\(path)[\($0.offset)]") }
    }

    /// A string, or nil when missing or empty; a number or object is a mistake.
    func string() throws(InventoryError) -> String? {
        guard let value else { return nil }
        guard let s = value as? String else { throw InventoryError(path: path, "expected a string") }
        return s.isEmpty ? nil : s
    }

    func requiredString(_ what: String) throws(InventoryError) -> String {
        guard let s = try string() else { throw InventoryError(path: path, "\(what) is missing") }
        return s
    }

    func mac() throws(InventoryError) -> MACAddress? {
        guard let text = try string() else { return nil }
        guard let mac = MACAddress(text) else { throw InventoryError(path: path, "\"\(text)\" is not a MAC address") }
        return mac
    }

    /// An IP address; with `prefixAllowed`, `ADDRESS/LENGTH` too (NetBox writes addresses with their mask).
    func ip(prefixAllowed: Bool = false) throws(InventoryError) -> IPAddress? {
        guard var text = try string() else { return nil }
        if prefixAllowed, let slash = text.firstIndex(of: "/") { text = String(text[..<slash]) }
        // A link-local IPv6 address may carry its zone (`fe80::1%vmk0`).
        if let percent = text.firstIndex(of: "%") { text = String(text[..<percent]) }
        guard let ip = IPAddress(text) else { throw InventoryError(path: path, "\"\(text)\" is not an IP address") }
        return ip
    }
}
