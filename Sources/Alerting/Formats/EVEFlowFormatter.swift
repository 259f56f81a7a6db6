import Vocabulary

/// What a flow record says about one flow that has ended: plain values, built
/// by the pipeline from the flow table's record when a flow log is written.
public struct FlowEndRecord: Sendable {
    /// Why a flow record is written (Suricata's words).
    public enum Reason: String, Sendable {
        /// Idle longer than its timeout.
        case timeout
        /// Ended by the sensor: evicted from a full table, or a reload.
        case forced
        /// Still open at the end of the capture or when the sensor stopped.
        case shutdown
    }

    public var flowID: UInt64
    /// The capture interface (nil for files), as alerts name it.
    public var interface: String?
    public var start: UInt64
    public var end: UInt64
    /// The initiator and responder (MAC addresses as IPAddress low words for non-IP flows).
    public var source: Endpoint
    public var destination: Endpoint
    public var sourcePort: UInt16?
    public var destinationPort: UInt16?
    /// "TCP", "UDP", "ICMP", or the EtherType of a non-IP flow.
    public var proto: String
    public var appProto: String?
    /// The outer frame's VLAN ids, outermost first (the first ``vlanCount``).
    public var vlans: InlineArray<5, UInt16>
    public var vlanCount: Int
    public var vni: UInt32?
    public var packetsToServer: UInt64
    public var packetsToClient: UInt64
    public var bytesToServer: UInt64
    public var bytesToClient: UInt64
    /// "new" (no answer), "established", "closed" (a FIN or RST seen).
    public var state: String
    public var reason: Reason
    /// A rule fired on the flow.
    public var alerted: Bool
    public var sourceZone: String?
    public var destinationZone: String?
    public var segmentZone: String?

    public init(flowID: UInt64, interface: String? = nil, start: UInt64, end: UInt64, source: Endpoint, destination: Endpoint, sourcePort: UInt16?, destinationPort: UInt16?,
                proto: String, appProto: String?, vlans: InlineArray<5, UInt16>, vlanCount: Int, vni: UInt32?, packetsToServer: UInt64, packetsToClient: UInt64,
                bytesToServer: UInt64, bytesToClient: UInt64, state: String, reason: Reason, alerted: Bool,
                sourceZone: String?, destinationZone: String?, segmentZone: String?) {
        self.flowID = flowID
        self.interface = interface
        self.start = start
        self.end = end
        self.source = source
        self.destination = destination
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.proto = proto
        self.appProto = appProto
        self.vlans = vlans
        self.vlanCount = vlanCount
        self.vni = vni
        self.packetsToServer = packetsToServer
        self.packetsToClient = packetsToClient
        self.bytesToServer = bytesToServer
        self.bytesToClient = bytesToClient
        self.state = state
        self.reason = reason
        self.alerted = alerted
        self.sourceZone = sourceZone
        self.destinationZone = destinationZone
        self.segmentZone = segmentZone
    }
}

/// A flow record as a Suricata EVE `flow` event: the common header (the
/// flow's start as `timestamp`, `flow_id`, the tuple, `app_proto`), the
/// `flow` object with Suricata's field names, then ZoneWarden's zones of
/// both ends and of the segment, and the VNI.
public enum EVEFlowFormatter {
    public static func format(_ f: FlowEndRecord, into out: inout OutputBuffer) {
        var o = JSONObjectWriter(&out)
        o.key("timestamp", &out); out.append(byte: 0x22)
        let startAt = out.count
        out.append(eveTimestamp: f.start)
        let startLength = out.count - startAt
        out.append(byte: 0x22)
        o.key("flow_id", &out); out.append(decimal: f.flowID)
        o.key("event_type", &out); out.append("\"flow\"" as StaticString)
        if let iface = f.interface { o.key("in_iface", &out); out.appendJSONString(iface) }
        if f.vlanCount > 0 {
            o.key("vlan", &out)
            out.append(byte: 0x5B)
            for i in 0..<f.vlanCount {
                if i > 0 { out.append(byte: 0x2C) }
                out.append(decimal: f.vlans[i])
            }
            out.append(byte: 0x5D)
        }
        switch (f.source, f.destination) {
        case (.ip(let s), .ip(let d)):
            o.key("src_ip", &out); out.append(byte: 0x22); out.append(s); out.append(byte: 0x22)
            if let p = f.sourcePort { o.key("src_port", &out); out.append(decimal: p) }
            o.key("dest_ip", &out); out.append(byte: 0x22); out.append(d); out.append(byte: 0x22)
            if let p = f.destinationPort { o.key("dest_port", &out); out.append(decimal: p) }
        case (.mac(let s), .mac(let d)):
            o.key("ether", &out)
            var ether = JSONObjectWriter(&out)
            ether.key("src_mac", &out); out.append(byte: 0x22); out.append(s); out.append(byte: 0x22)
            ether.key("dest_mac", &out); out.append(byte: 0x22); out.append(d); out.append(byte: 0x22)
            ether.close(&out)
        default:
            break
        }
        o.key("proto", &out); out.appendJSONString(f.proto)
        if let app = f.appProto { o.key("app_proto", &out); out.appendJSONString(app) }
        o.key("flow", &out)
        var flow = JSONObjectWriter(&out)
        flow.key("pkts_toserver", &out); out.append(decimal: f.packetsToServer)
        flow.key("pkts_toclient", &out); out.append(decimal: f.packetsToClient)
        flow.key("bytes_toserver", &out); out.append(decimal: f.bytesToServer)
        flow.key("bytes_toclient", &out); out.append(decimal: f.bytesToClient)
        flow.key("start", &out); out.append(byte: 0x22); out.appendCopy(start: startAt, length: startLength); out.append(byte: 0x22)
        flow.key("end", &out); out.append(byte: 0x22); out.append(eveTimestamp: f.end); out.append(byte: 0x22)
        flow.key("age", &out); out.append(decimal: (f.end &- f.start) / 1_000_000_000)
        flow.key("state", &out); out.appendJSONString(f.state)
        flow.key("reason", &out); out.appendJSONString(f.reason.rawValue)
        flow.key("alerted", &out); out.append(f.alerted ? "true" as StaticString : "false")
        flow.close(&out)
        o.key("zonewarden", &out)
        var zw = JSONObjectWriter(&out)
        zw.key("src_zone", &out); EVEFormatter.stringOrNull(f.sourceZone, &out)
        zw.key("dest_zone", &out); EVEFormatter.stringOrNull(f.destinationZone, &out)
        zw.key("segment_zone", &out); EVEFormatter.stringOrNull(f.segmentZone, &out)
        if let vni = f.vni { zw.key("vni", &out); out.append(decimal: vni) }
        zw.close(&out)
        o.close(&out)
    }
}
