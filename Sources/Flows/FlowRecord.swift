import Decode
import Vocabulary

/// Which idle timeout applies to a flow.
public enum TimeoutClass: Int, CaseIterable, Sendable {
    case tcpNew = 0, tcpEstablished, tcpClosed, udp, icmp, other
}

/// The state of one flow. Records live in the ``FlowTable``'s preallocated
/// storage; the pipeline reads and updates them in place.
///
/// Exactly 128 bytes, stored 128-byte aligned: the fields a packet touches
/// share one pair of cache lines. Fields needed only when a flow starts, is
/// relinked or raises an alert (its id, first-seen and link times) live in the
/// table's cold arrays.
@frozen
public struct FlowRecord: Sendable {
    public var key: FlowKey
    public var lastSeen: UInt64
    public var packetsFromInitiator: UInt64
    public var packetsFromResponder: UInt64
    public var bytesFromInitiator: UInt64
    public var bytesFromResponder: UInt64
    /// One bit per rule (by its index among the enabled rules) that has fired on this flow.
    public var firedRules: UInt64
    /// How many rules ``firedRules`` can track.
    public static let firedRuleCapacity = UInt64.bitWidth
    @usableFromInline var hashValue32: UInt32
    @usableFromInline var previous: Int32
    @usableFromInline var next: Int32
    /// ``FlowState`` bits.
    public var state: UInt16
    // Set by the classification stage.
    public var sourceZone: UInt16
    public var destinationZone: UInt16
    public var segmentZone: UInt16
    /// Whether canonical endpoint A initiated the flow.
    public var initiatorIsA: Bool
    @usableFromInline var timeoutClass: UInt8
    /// Application protocol recognised on the flow (0 = unknown).
    public var appProtocol: UInt8

    public var initiatorAddress: IPAddress { initiatorIsA ? key.addressA : key.addressB }
    public var responderAddress: IPAddress { initiatorIsA ? key.addressB : key.addressA }
    public var initiatorPort: UInt16 { initiatorIsA ? key.portA : key.portB }
    public var responderPort: UInt16 { initiatorIsA ? key.portB : key.portA }

    public func has(_ bit: UInt16) -> Bool { state & bit != 0 }
}

/// Bits of ``FlowRecord/state``.
public enum FlowState {
    public static let synSeen: UInt16 = 1 << 0
    public static let synAckSeen: UInt16 = 1 << 1
    public static let finSeen: UInt16 = 1 << 2
    public static let rstSeen: UInt16 = 1 << 3
    /// The responder has sent at least one packet.
    public static let replySeen: UInt16 = 1 << 4
    /// A TCP flow first seen without its handshake (the capture started mid-stream).
    public static let midstream: UInt16 = 1 << 5
    /// The initiator was inferred from ports, not from a SYN or the first packet.
    public static let directionGuessed: UInt16 = 1 << 6
    /// Classification has run for this flow.
    public static let classified: UInt16 = 1 << 7
    /// Application inspection has finished (or never applied): skip the payload.
    public static let inspectionDone: UInt16 = 1 << 8
    /// The initiator's first payload was offered to the inspectors and matched none.
    public static let clientTried: UInt16 = 1 << 9
    /// The responder's first payload was offered to the inspectors and matched none.
    public static let serverTried: UInt16 = 1 << 10
    /// An application inspection holds state for this flow.
    public static let inspecting: UInt16 = 1 << 11
    /// The responder is a management-role host and its port a management
    /// service (set by classification; inspectors judge TLS versions only there).
    public static let managementService: UInt16 = 1 << 12
    /// An evidence file (`--evidence`) waits for this flow's next packets: the
    /// recorder must see them (others it skips from the record alone).
    public static let evidencePending: UInt16 = 1 << 13
    /// The inventory names an endpoint a hypervisor, VMkernel interface, BMC, manager or storage array
    /// (set by the classifier): the rules ask the inventory for this flow's roles, and only for such flows.
    public static let infrastructureAsset: UInt16 = 1 << 14

    /// Whether a payload packet of this flow must go to application inspection:
    /// not once it is done, nor for a side already judged while no inspection
    /// holds state (decided from the record alone, without touching other memory).
    @inline(__always)
    public static func needsInspection(_ state: UInt16, fromInitiator: Bool) -> Bool {
        if state & inspectionDone != 0 { return false }
        let tried = fromInitiator ? clientTried : serverTried
        return state & (inspecting | tried) != tried
    }
}
