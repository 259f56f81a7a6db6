/// Reading EVE alerts parsed with JSONSerialization.
extension Dictionary where Key == String, Value == Any {
    /// `alert.signature_id`.
    public var sid: Int { (self["alert"] as! [String: Any])["signature_id"] as! Int }
    /// `zonewarden.evidence`.
    public var evidence: [String: Any] { (self["zonewarden"] as! [String: Any])["evidence"] as! [String: Any] }
}
