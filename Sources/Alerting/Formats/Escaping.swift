import Vocabulary

/// Escaping of untrusted text (user names, banners, anything read off the wire)
/// for each output format, so that no packet can inject a line, a field or a
/// terminal control sequence into a log. Formats write escaped text straight
/// into their ``OutputBuffer``; the `String` functions are for the rest
/// (reports, messages on standard error).
public enum Escaping {
    /// How a format escapes text.
    public enum Mode: Sendable {
        /// Inside a JSON string: `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`, other controls `\uXXXX`.
        case json
        /// The human-readable format and RFC 3164: backslash escapes for quotes,
        /// backslashes and every control character (`\n`, `\x1b`, ...).
        case text
        /// An RFC 5424 PARAM-VALUE: `"`, `\` and `]` are backslash-escaped
        /// (§6.3.3); control characters are written as `\xNN` so that one alert stays one line.
        case structuredDataValue
    }

    /// A JSON string literal, quotes included.
    public static func json(_ s: String) -> String {
        var b = OutputBuffer(capacity: s.utf8.count + 2)
        b.appendJSONString(s)
        return b.text
    }

    /// Text escaped for the human-readable format and RFC 3164.
    public static func text(_ s: String) -> String { escaped(s, .text) }

    /// An RFC 5424 PARAM-VALUE.
    public static func structuredDataValue(_ s: String) -> String { escaped(s, .structuredDataValue) }

    /// `s` with only its controls (``isControl(_:)``) escaped as the text
    /// format escapes them (`\n`, `\x1b`, `\u202e`); quotes and backslashes
    /// stay: for a comment line or a terminal, where text from outside must
    /// neither break the line nor drive the terminal.
    public static func controls(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: isControl) else { return s }
        var b = OutputBuffer(capacity: s.utf8.count + 8)
        for scalar in s.unicodeScalars {
            if isControl(scalar) { b.append(escaping: String(scalar), .text) } else { for unit in UTF8.encode(scalar)! { b.append(byte: unit) } }
        }
        return b.text
    }

    static func escaped(_ s: String, _ mode: Mode) -> String {
        if isPlain(s, mode) { return s }
        var b = OutputBuffer(capacity: s.utf8.count + 8)
        b.append(escaping: s, mode)
        return b.text
    }

    /// An RFC 5424 SD-NAME: printable US-ASCII except `=`, space, `]` and `"`, at most 32 characters.
    public static func structuredDataName(_ s: String) -> String {
        var b = OutputBuffer(capacity: 32)
        b.append(structuredDataName: s)
        return b.text
    }

    /// Whether `s` is printable ASCII with nothing the mode escapes: then it
    /// is copied as it is (most alert text: names, addresses, zones).
    @inline(__always)
    static func isPlain(_ s: String, _ mode: Mode) -> Bool {
        var s = s
        return s.withUTF8 { isPlain(UnsafeRawBufferPointer($0), mode) }
    }

    /// Whether these UTF-8 bytes are printable ASCII with nothing the mode
    /// escapes. Eight bytes at a time (SWAR): alert text is mostly long runs
    /// of plain ASCII, and this scan runs over every byte of every alert.
    static func isPlain(_ bytes: UnsafeRawBufferPointer, _ mode: Mode) -> Bool {
        let extra: UInt8 = mode == .structuredDataValue ? 0x5D : 0x22
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let quote = 0x22 &* ones, backslash = 0x5C &* ones, delete = 0x7F &* ones, other = UInt64(extra) &* ones
        @inline(__always) func hasZero(_ v: UInt64) -> UInt64 { (v &- ones) & ~v & highs }
        var i = 0
        let n = bytes.count
        while i + 8 <= n {
            let w = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            // Non-ASCII (high bit), a control (below 0x20, valid once no high bit is set), DEL, `"`, `\`, the mode's extra.
            if (w & highs) | ((w &- 0x2020_2020_2020_2020) & ~w & highs)
                | hasZero(w ^ delete) | hasZero(w ^ quote) | hasZero(w ^ backslash) | hasZero(w ^ other) != 0 { return false }
            i += 8
        }
        while i < n {
            let b = bytes[i]
            if (b &- 0x20) >= 0x5F || b == 0x22 || b == 0x5C || b == extra { return false }
            i += 1
        }
        return true
    }

    /// C0 and C1 controls, DEL, the Unicode line and paragraph separators, and
    /// the format controls (general category Cf: bidi overrides and isolates
    /// such as U+202E, zero-width characters, the byte order mark): everything
    /// that can break a line, drive a terminal, or make text read otherwise
    /// than it is stored.
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if v < 0x20 || v == 0x7F || (0x80...0x9F).contains(v) || v == 0x2028 || v == 0x2029 { return true }
        return v >= 0xAD && scalar.properties.generalCategory == .format
    }
}

extension OutputBuffer {
    /// `s` as a JSON string literal, quotes included.
    public mutating func appendJSONString(_ s: String) {
        append(byte: 0x22)
        append(escaping: s, .json)
        append(byte: 0x22)
    }

    /// `s` escaped for `mode` (no quotes added).
    public mutating func append(escaping s: String, _ mode: Escaping.Mode) {
        // One look at the UTF-8 bytes, then one copy.
        var s = s
        let copied = s.withUTF8 { utf8 -> Bool in
            let raw = UnsafeRawBufferPointer(utf8)
            guard Escaping.isPlain(raw, mode) else { return false }
            append(bytes: raw)
            return true
        }
        if copied { return }
        for scalar in s.unicodeScalars { append(escaping: scalar, mode) }
    }

    private mutating func append(escaping scalar: Unicode.Scalar, _ mode: Escaping.Mode) {
        switch (scalar, mode) {
        case ("\"", _): append("\\\"" as StaticString)
        case ("\\", _): append("\\\\" as StaticString)
        case ("]", .structuredDataValue): append("\\]" as StaticString)
        case ("\n", .json), ("\n", .text): append("\\n" as StaticString)
        case ("\r", .json), ("\r", .text): append("\\r" as StaticString)
        case ("\t", .json), ("\t", .text): append("\\t" as StaticString)
        case ("\u{08}", .json): append("\\b" as StaticString)
        case ("\u{0C}", .json): append("\\f" as StaticString)
        default:
            guard Escaping.isControl(scalar) else {
                for unit in UTF8.encode(scalar)! { append(byte: unit) }
                return
            }
            if mode == .json {
                // Beyond the basic plane, JSON wants a UTF-16 surrogate pair.
                for unit in UTF16.encode(scalar)! { appendHex(UInt32(unit), prefix: "\\u", digits: 4) }
            } else if scalar.value > 0xFFFF {
                appendHex(scalar.value, prefix: "\\U", digits: 8)
            } else if scalar.value > 0xFF {
                appendHex(scalar.value, prefix: "\\u", digits: 4)
            } else {
                append("\\x" as StaticString)
                append(byte: OutputBuffer.hexDigits[Int(scalar.value >> 4 & 0xF)])
                append(byte: OutputBuffer.hexDigits[Int(scalar.value & 0xF)])
            }
        }
    }

    private mutating func appendHex(_ value: UInt32, prefix: StaticString, digits: Int) {
        append(prefix)
        for shift in stride(from: 4 * (digits - 1), through: 0, by: -4) {
            append(byte: OutputBuffer.hexDigits[Int((value >> UInt32(shift)) & 0xF)])
        }
    }

    /// An RFC 5424 SD-NAME (printable US-ASCII except `=`, space, `]` and `"`,
    /// at most 32 characters; `_` when nothing is left).
    public mutating func append(structuredDataName s: String) {
        var written = 0
        for scalar in s.unicodeScalars where written < 32 {
            let v = scalar.value
            guard v > 32 && v < 127 && scalar != "=" && scalar != "]" && scalar != "\"" else { continue }
            append(byte: UInt8(v))
            written += 1
        }
        if written == 0 { append(byte: 0x5F) }
    }

    /// A message, escaped for `mode`.
    @inline(__always)
    public mutating func append(_ message: Message, _ mode: Escaping.Mode) {
        append(escaping: message.text, mode)
    }
}
