/// Escaping of untrusted text (user names, banners, anything read off the wire)
/// for each output format, so that no packet can inject a line, a field or a
/// terminal control sequence into a log.
public enum Escaping {
    /// A JSON string literal, quotes included. Control characters become `\uXXXX`.
    public static func json(_ s: String) -> String {
        if isPlain(s) { return "\"" + s + "\"" }
        return "\"" + escape(s) { scalar in
            switch scalar {
            case "\"": return "\\\""
            case "\\": return "\\\\"
            case "\n": return "\\n"
            case "\r": return "\\r"
            case "\t": return "\\t"
            case "\u{08}": return "\\b"
            case "\u{0C}": return "\\f"
            default: return isControl(scalar) ? "\\u" + hex4(scalar.value) : nil
            }
        } + "\""
    }

    /// Text for the human-readable format and RFC 3164: backslash escapes for
    /// quotes, backslashes and every control character (`\n`, `\x1b`, ...).
    public static func text(_ s: String) -> String {
        if isPlain(s) { return s }
        return escape(s) { scalar in
            switch scalar {
            case "\"": return "\\\""
            case "\\": return "\\\\"
            case "\n": return "\\n"
            case "\r": return "\\r"
            case "\t": return "\\t"
            default: return isControl(scalar) ? controlEscape(scalar) : nil
            }
        }
    }

    /// An RFC 5424 PARAM-VALUE: `"`, `\` and `]` are backslash-escaped (§6.3.3);
    /// control characters are written as `\xNN` so that one alert stays one line.
    public static func structuredDataValue(_ s: String) -> String {
        if isPlain(s, alsoEscaped: 0x5D) { return s }
        return escape(s) { scalar in
            switch scalar {
            case "\"": return "\\\""
            case "\\": return "\\\\"
            case "]": return "\\]"
            default: return isControl(scalar) ? controlEscape(scalar) : nil
            }
        }
    }

    /// An RFC 5424 SD-NAME: printable US-ASCII except `=`, space, `]` and `"`, at most 32 characters.
    public static func structuredDataName(_ s: String) -> String {
        let allowed = s.unicodeScalars.filter { $0.value > 32 && $0.value < 127 && $0 != "=" && $0 != "]" && $0 != "\"" }
        var name = String(String.UnicodeScalarView(allowed))
        if name.isEmpty { name = "_" }
        return String(name.prefix(32))
    }

    /// Whether `s` is printable ASCII without a quote, a backslash or
    /// `alsoEscaped`: then the format leaves it as it is, and the
    /// scalar-by-scalar copy is skipped (most alert text: names, addresses, zones).
    @inline(__always)
    static func isPlain(_ s: String, alsoEscaped: UInt8 = 0x22) -> Bool {
        for b in s.utf8 where b < 0x20 || b >= 0x7F || b == 0x22 || b == 0x5C || b == alsoEscaped { return false }
        return true
    }

    /// Copies `s`, replacing each scalar for which `replacement` returns text.
    static func escape(_ s: String, _ replacement: (Unicode.Scalar) -> String?) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for scalar in s.unicodeScalars {
            if let r = replacement(scalar) { out += r } else { out.unicodeScalars.append(scalar) }
        }
        return out
    }

    /// C0 and C1 controls, DEL, and the Unicode line and paragraph separators:
    /// everything that can break a line or drive a terminal.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value)
            || scalar.value == 0x2028 || scalar.value == 0x2029
    }

    static func controlEscape(_ scalar: Unicode.Scalar) -> String {
        scalar.value <= 0xFF ? "\\x" + hex2(scalar.value) : "\\u" + hex4(scalar.value)
    }

    static func hex2(_ v: UInt32) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(v >> 4 & 0xF)], digits[Int(v & 0xF)]])
    }

    static func hex4(_ v: UInt32) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(v >> 12 & 0xF)], digits[Int(v >> 8 & 0xF)], digits[Int(v >> 4 & 0xF)], digits[Int(v & 0xF)]])
    }
}
