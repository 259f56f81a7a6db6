import Foundation
import Vocabulary

/// `csv`: one address per line, `address,name,kind[,host]`, the way a
/// spreadsheet or a CMDB export writes it (RFC 4180: fields with commas or
/// quotes are quoted, `""` is a quote). The address is an IP address, a prefix
/// or a MAC; `kind` one of ``AssetKind``; `host` the hypervisor a VM runs on.
/// A first line starting with `address` is a header; empty lines and lines
/// starting with `#` are skipped.
public enum CSVInventory: InventoryFormat {
    public static let name = "csv"
    public static let fileExtensions = ["csv"]
    public static let summary = "address,name,kind[,host] lines (address: IP, prefix or MAC)"

    /// The most mistakes said of one file.
    static let mistakesSaid = 20

    public static func read(_ file: InventoryFile) throws(InventoryError) -> [InventoryItem] {
        // Bytes, not Characters: a CMDB export of 100,000 lines loads in a fraction of a second.
        var bytes = [UInt8](file.data)
        // A spreadsheet's UTF-8 export starts with a byte order mark.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        guard String(validating: bytes, as: UTF8.self) != nil else { throw InventoryError("not UTF-8 text") }
        var items: [InventoryItem] = []
        items.reserveCapacity(bytes.count / 40)
        var kinds: [String: AssetKind] = [:]
        for kind in AssetKind.allCases { kinds[kind.rawValue] = kind }
        var lineNumber = 0
        var start = 0
        var mistakes: [InventoryError] = []
        while start < bytes.count {
            // A record ends at a line feed outside quotes (RFC 4180: a quoted field may hold line breaks).
            let end = recordEnd(bytes, from: start)
            lineNumber += 1
            let linesInside = bytes[start..<end].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            defer {
                start = end + 1
                lineNumber += linesInside
            }
            var last = end
            if last > start && bytes[last - 1] == 0x0D { last -= 1 }
            let line = bytes[start..<last]
            guard let first = line.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }), line[first] != 0x23 else { continue }  // blank, or # comment
            // A mistake is kept and the next line read: every line's mistake is said at once (the first of each line).
            do throws(InventoryError) {
                let fields = try split(line, line: lineNumber)
                if items.isEmpty && mistakes.isEmpty && lineNumber <= 2 && fields.first?.lowercased() == "address" { continue }
                guard (3...4).contains(fields.count) else {
                    throw InventoryError(line: lineNumber, "expected address,name,kind[,host], found \(fields.count) field\(fields.count == 1 ? "" : "s")")
                }
                let address = try parseAddress(fields[0], line: lineNumber)
                guard !fields[1].isEmpty else { throw InventoryError(line: lineNumber, "the name is empty") }
                guard let kind = kinds[fields[2]] ?? AssetKind(rawValue: fields[2].lowercased()) else {
                    throw InventoryError(line: lineNumber, "unknown kind \"\(fields[2])\"\(Spelling.suggestion(fields[2], AssetKind.allCases.map(\.rawValue)))")
                }
                // A row without a host takes the source's `host:` (one hypervisor's export).
                let host = fields.count == 4 && !fields[3].isEmpty ? fields[3] : file.host
                items.append(InventoryItem(address, Asset(name: fields[1], kind: kind, host: host)))
            } catch {
                mistakes.append(error)
                // A file that is not an inventory at all: its first lines say so, not its every line.
                if mistakes.count == Self.mistakesSaid {
                    mistakes[mistakes.count - 1].message += " (the lines after it are not checked)"
                    break
                }
            }
        }
        if var first = mistakes.first {
            first.more = Array(mistakes.dropFirst())
            throw first
        }
        return items
    }

    /// An IP address, a prefix (`10.20.0.0/24`) or a MAC.
    static func parseAddress(_ text: String, line: Int) throws(InventoryError) -> InventoryAddress {
        if let mac = MACAddress(text) { return .mac(mac) }
        if text.utf8.contains(0x2F) {
            switch IPPrefix.parse(text) {
            case .success(let p): return .prefix(p)
            case .failure(.hostBitsSet(let network)): throw InventoryError(line: line, "\(text): host bits set (did you mean \(network)?)")
            case .failure: throw InventoryError(line: line, "\"\(text)\" is not an IP address, prefix or MAC")
            }
        }
        guard let ip = IPAddress(text) else { throw InventoryError(line: line, "\"\(text)\" is not an IP address, prefix or MAC") }
        return .ip(ip)
    }

    /// Where the record that begins at `start` ends: the first line feed
    /// outside a quoted field (a quote opens one only at a field's start, as
    /// ``split(_:line:)`` reads it), or the end of the file. A `#` comment ends at its line's end.
    static func recordEnd(_ bytes: [UInt8], from start: Int) -> Int {
        var i = start, quoted = false, atFieldStart = true
        // A comment is one line, whatever quotes it holds.
        var first = start
        while first < bytes.count && (bytes[first] == 0x20 || bytes[first] == 0x09) { first += 1 }
        if first < bytes.count && bytes[first] == 0x23 { return bytes[first...].firstIndex(of: 0x0A) ?? bytes.count }
        while i < bytes.count {
            let c = bytes[i]
            if quoted {
                if c == 0x22 {
                    if i + 1 < bytes.count && bytes[i + 1] == 0x22 { i += 1 } else { quoted = false }
                }
            } else if c == 0x0A {
                return i
            } else if c == 0x2C {
                atFieldStart = true
            } else if c == 0x22 && atFieldStart {
                quoted = true
                atFieldStart = false
            } else if c != 0x20 && c != 0x09 {
                atFieldStart = false
            }
            i += 1
        }
        return bytes.count
    }

    /// The fields of one RFC 4180 record, each trimmed of spaces and tabs outside quotes.
    static func split(_ line: ArraySlice<UInt8>, line number: Int) throws(InventoryError) -> [String] {
        var fields: [String] = []
        var field: [UInt8] = []
        var quoted = false, wasQuoted = false
        var i = line.startIndex
        func finish() {
            if !wasQuoted {
                while let last = field.last, last == 0x20 || last == 0x09 { field.removeLast() }
            }
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
        }
        while i < line.endIndex {
            let c = line[i]
            if quoted {
                if c == 0x22 {
                    if i + 1 < line.endIndex && line[i + 1] == 0x22 {
                        field.append(0x22)
                        i += 1
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(c)
                }
            } else if c == 0x2C {
                finish()
                wasQuoted = false
            } else if c == 0x22 && field.isEmpty && !wasQuoted {
                quoted = true
                wasQuoted = true
            } else if (c == 0x20 || c == 0x09) && field.isEmpty && !wasQuoted {
                // leading blanks
            } else if !wasQuoted || (c != 0x20 && c != 0x09) {
                field.append(c)
            }
            i += 1
        }
        if quoted { throw InventoryError(line: number, "a quoted field is not closed") }
        finish()
        return fields
    }
}
