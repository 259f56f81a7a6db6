import Vocabulary
import Zones

/// What a flow record says about one flow that has ended: plain values only
/// (copied as bytes, no reference counted on either thread), built by the
/// pipeline from the flow table's record when a flow log is written. The
/// names it refers to by number (zones, the interface, the application
/// protocol) travel beside it in a ``FlowNames``.
public struct FlowEndRecord: Sendable {
    /// Why a flow record is written (Suricata's words).
    public enum Reason: UInt8, Sendable {
        /// Idle longer than its timeout.
        case timeout
        /// Ended by the sensor: evicted from a full table, or a reload.
        case forced
        /// Still open at the end of the capture or when the sensor stopped.
        case shutdown

        /// The word in `flow.reason`.
        public var name: StaticString {
            switch self {
            case .timeout: "timeout"
            case .forced: "forced"
            case .shutdown: "shutdown"
            }
        }
    }

    /// How far the flow got (`flow.state`).
    public enum State: UInt8, Sendable {
        /// No answer seen.
        case new
        /// Both sides sent.
        case established
        /// A TCP FIN or RST seen.
        case closed

        /// The word in `flow.state`.
        public var name: StaticString {
            switch self {
            case .new: "new"
            case .established: "established"
            case .closed: "closed"
            }
        }
    }

    public var flowID: UInt64
    public var start: UInt64
    public var end: UInt64
    /// The initiator and responder (MAC addresses for non-IP flows).
    public var source: Endpoint
    public var destination: Endpoint
    public var sourcePort: UInt16?
    public var destinationPort: UInt16?
    /// The IP protocol number, or the EtherType of a non-IP flow (``isEthernet``).
    public var protocolNumber: UInt16
    public var isEthernet: Bool
    /// The application protocol's id (``FlowNames/appProtocols``; 0: none recognised).
    public var appProtocol: UInt8
    /// The outer frame's VLAN ids, outermost first (the first ``vlanCount``).
    public var vlans: InlineArray<5, UInt16>
    public var vlanCount: Int
    public var vni: UInt32?
    public var packetsToServer: UInt64
    public var packetsToClient: UInt64
    public var bytesToServer: UInt64
    public var bytesToClient: UInt64
    public var state: State
    public var reason: Reason
    /// A rule fired on the flow.
    public var alerted: Bool
    public var sourceZone: ZoneID
    public var destinationZone: ZoneID
    public var segmentZone: ZoneID
    /// An ICMP flow's first message type; its code where the type has no
    /// reply (for a request the flow's key keeps the reply's type instead);
    /// the reply's type once the responder answered.
    public var icmpType: UInt8?
    public var icmpCode: UInt8?
    public var responseICMPType: UInt8?

    public init(flowID: UInt64, start: UInt64, end: UInt64, source: Endpoint, destination: Endpoint, sourcePort: UInt16?, destinationPort: UInt16?,
                protocolNumber: UInt16, isEthernet: Bool, appProtocol: UInt8, vlans: InlineArray<5, UInt16>, vlanCount: Int, vni: UInt32?,
                packetsToServer: UInt64, packetsToClient: UInt64, bytesToServer: UInt64, bytesToClient: UInt64, state: State, reason: Reason, alerted: Bool,
                sourceZone: ZoneID, destinationZone: ZoneID, segmentZone: ZoneID) {
        self.flowID = flowID
        self.start = start
        self.end = end
        self.source = source
        self.destination = destination
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.protocolNumber = protocolNumber
        self.isEthernet = isEthernet
        self.appProtocol = appProtocol
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

/// The names ``FlowEndRecord``s refer to by number, as JSON text made once
/// (quoted and escaped; `null` for no zone): the zones of one configuration,
/// the capture interface, the application protocols. A pipeline makes one per
/// configuration and interface and hands it on with its records.
public final class FlowNames: Sendable {
    /// By ``Zones/ZoneID``: `"name"`, or `null` (id 0, no zone).
    let zones: [[UInt8]]
    /// `"eth0"`, or nil for files.
    let interface: [UInt8]?
    /// By application protocol id less one.
    let appProtocols: [[UInt8]]
    /// The interface as the pipeline named it (to tell when names must be made afresh).
    public let interfaceName: String?

    /// - Parameters:
    ///   - zones: the configuration's zones (names by id).
    ///   - interface: the capture interface, nil for files.
    ///   - appProtocols: application protocol names by id less one.
    public init(zones: ZoneMap, interface: String?, appProtocols: [String]) {
        self.zones = zones.zones.map { info in info.map { Self.json($0.name) } ?? Array("null".utf8) }
        self.interface = interface.map(Self.json)
        self.appProtocols = appProtocols.map(Self.json)
        interfaceName = interface
    }

    private static func json(_ s: String) -> [UInt8] {
        var out = OutputBuffer(capacity: s.utf8.count + 8)
        out.appendJSONString(s)
        return out.bytes
    }

    /// The zone's JSON text (`null` for an id this configuration does not have).
    @inline(__always)
    func zone(_ id: ZoneID) -> [UInt8] { Int(id) < zones.count ? zones[Int(id)] : Self.null }

    private static let null = Array("null".utf8)
}

/// A flow record as a Suricata EVE `flow` event: the common header (the
/// flow's start as `timestamp`, `flow_id`, the tuple, `app_proto`), the
/// `flow` object with Suricata's field names, then ZoneWarden's zones of
/// both ends and of the segment, and the VNI.
///
/// Its keys are fixed, so it writes them with their punctuation as literals
/// (one copy for `,"flow_id":`, not four appends), and names as ``FlowNames``
/// made them: the flow log formats every flow that ends, about a
/// microsecond each before this.
public enum EVEFlowFormatter {
    public static func format(_ f: FlowEndRecord, names: FlowNames, into out: inout OutputBuffer) {
        out.append("{\"timestamp\":\"" as StaticString)
        let startAt = out.count
        out.append(eveTimestamp: f.start)
        let startLength = out.count - startAt
        out.append("\",\"flow_id\":" as StaticString)
        out.append(decimal: f.flowID)
        out.append(",\"event_type\":\"flow\"" as StaticString)
        if let iface = names.interface {
            out.append(",\"in_iface\":" as StaticString)
            iface.withUnsafeBytes { out.append(bytes: $0) }
        }
        if f.vlanCount > 0 {
            out.append(",\"vlan\":[" as StaticString)
            for i in 0..<f.vlanCount {
                if i > 0 { out.append(byte: 0x2C) }
                out.append(decimal: f.vlans[i])
            }
            out.append(byte: 0x5D)
        }
        switch (f.source, f.destination) {
        case (.ip(let s), .ip(let d)):
            out.append(",\"src_ip\":\"" as StaticString)
            out.append(s)
            if let p = f.sourcePort {
                out.append("\",\"src_port\":" as StaticString)
                out.append(decimal: p)
                out.append(",\"dest_ip\":\"" as StaticString)
            } else {
                out.append("\",\"dest_ip\":\"" as StaticString)
            }
            out.append(d)
            out.append(byte: 0x22)
            if let p = f.destinationPort {
                out.append(",\"dest_port\":" as StaticString)
                out.append(decimal: p)
            }
        case (.mac(let s), .mac(let d)):
            out.append(",\"ether\":{\"src_mac\":\"" as StaticString)
            out.append(s)
            out.append("\",\"dest_mac\":\"" as StaticString)
            out.append(d)
            out.append("\"}" as StaticString)
        default:
            break
        }
        if let type = f.icmpType {
            out.append(",\"icmp_type\":" as StaticString)
            out.append(decimal: type)
            if let code = f.icmpCode {
                out.append(",\"icmp_code\":" as StaticString)
                out.append(decimal: code)
            }
            if let reply = f.responseICMPType {
                out.append(",\"response_icmp_type\":" as StaticString)
                out.append(decimal: reply)
            }
        }
        out.append(",\"proto\":" as StaticString)
        if f.isEthernet {
            out.appendJSONString(FlowService.etherType(f.protocolNumber).description)
        } else {
            // IANA's keywords and numbers, the sensor's own text: nothing to escape.
            out.append(byte: 0x22)
            let proto = IPProtocol(rawValue: UInt8(truncatingIfNeeded: f.protocolNumber))
            out.appendProtocolName(proto)
            out.append(byte: 0x22)
            if case .ip(let s) = f.source, case .ip(let d) = f.destination {
                // The same Community ID as the flow's alerts carry (computed here, on the flow log's thread).
                let ports: (UInt16, UInt16)? = if let t = f.icmpType { (UInt16(t), UInt16(f.icmpCode ?? 0)) }
                    else if let sp = f.sourcePort, let dp = f.destinationPort { (sp, dp) } else { nil }
                out.append(",\"community_id\":\"" as StaticString)
                out.append(CommunityID(proto: proto.rawValue, source: s, destination: d, ports: ports))
                out.append(byte: 0x22)
            }
        }
        if f.appProtocol != 0 && Int(f.appProtocol) <= names.appProtocols.count {
            out.append(",\"app_proto\":" as StaticString)
            names.appProtocols[Int(f.appProtocol) - 1].withUnsafeBytes { out.append(bytes: $0) }
        }
        out.append(",\"flow\":{\"pkts_toserver\":" as StaticString)
        out.append(decimal: f.packetsToServer)
        out.append(",\"pkts_toclient\":" as StaticString)
        out.append(decimal: f.packetsToClient)
        out.append(",\"bytes_toserver\":" as StaticString)
        out.append(decimal: f.bytesToServer)
        out.append(",\"bytes_toclient\":" as StaticString)
        out.append(decimal: f.bytesToClient)
        out.append(",\"start\":\"" as StaticString)
        out.appendCopy(start: startAt, length: startLength)
        out.append("\",\"end\":\"" as StaticString)
        out.append(eveTimestamp: f.end)
        out.append("\",\"age\":" as StaticString)
        out.append(decimal: (f.end &- f.start) / 1_000_000_000)
        out.append(",\"state\":\"" as StaticString)
        out.append(f.state.name)
        out.append("\",\"reason\":\"" as StaticString)
        out.append(f.reason.name)
        out.append(f.alerted ? "\",\"alerted\":true}" as StaticString : "\",\"alerted\":false}")
        // The sensor's own fields where Suricata's schema lets a flow event carry them (its root,
        // `flow` and `metadata` take no other keys): the zones as flow variables (single-key
        // objects, only the zones there are), the VNI as a flow integer.
        var open = false
        func zone(_ id: ZoneID, _ key: StaticString) {
            guard id != 0 else { return }
            if open { out.append(byte: 0x2C) } else { out.append(",\"metadata\":{\"flowvars\":[" as StaticString) }
            open = true
            out.append(key)
            names.zone(id).withUnsafeBytes { out.append(bytes: $0) }
            out.append(byte: 0x7D)
        }
        zone(f.sourceZone, "{\"zw_src_zone\":")
        zone(f.destinationZone, "{\"zw_dest_zone\":")
        zone(f.segmentZone, "{\"zw_segment_zone\":")
        if let vni = f.vni {
            out.append(open ? "],\"flowints\":{\"zw_vni\":" as StaticString : ",\"metadata\":{\"flowints\":{\"zw_vni\":")
            out.append(decimal: vni)
            out.append("}}" as StaticString)
        } else if open {
            out.append("]}" as StaticString)
        }
        out.append(byte: 0x7D)
    }
}
