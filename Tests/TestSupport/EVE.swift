/// Reading EVE alerts parsed with JSONSerialization.
extension Dictionary where Key == String, Value == Any {
    /// `alert.signature_id`.
    public var sid: Int { (self["alert"] as! [String: Any])["signature_id"] as! Int }
    /// `alert.metadata`: ZoneWarden's data, string → list of strings, as Suricata writes rule metadata.
    public var metadata: [String: [String]] { ((self["alert"] as? [String: Any])?["metadata"] as? [String: [String]]) ?? [:] }
    /// ZoneWarden's data from `alert.metadata` without the `zw_` prefix: one value as a
    /// string (or a number, where it is one), several as a list.
    public var zw: [String: Any] {
        var out: [String: Any] = [:]
        for (key, values) in metadata where key.hasPrefix("zw_") {
            let name = String(key.dropFirst(3))
            if values.count == 1 { out[name] = Int(values[0]).map { $0 as Any } ?? values[0] } else { out[name] = values }
        }
        return out
    }
    /// A finding's evidence (`zw_user`, ...), with the rest of ZoneWarden's data.
    public var evidence: [String: Any] { zw }
}
