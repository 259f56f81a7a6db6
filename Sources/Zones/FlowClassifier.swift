import Decode
import Flows
import Vocabulary

/// The classify stage: the zones of a new flow's initiator, responder and
/// segment, looked up once when the flow starts and kept in its record, so
/// that no later packet of the flow pays for a lookup.
public struct FlowClassifier: Sendable {
    public let zones: ZoneMap

    public init(zones: ZoneMap) { self.zones = zones }

    /// Sets the record's zones (endpoints by address, or by MAC for non-IP
    /// frames; the segment by VLAN or VNI) and marks a management service.
    @inline(__always)
    public func classify(_ flow: UnsafeMutablePointer<FlowRecord>, packet: UnsafePointer<DecodedPacket>) {
        let r = flow.pointee
        if r.key.isEthernet {
            flow.pointee.sourceZone = zones.zone(forMAC: MACAddress(rawValue: r.initiatorAddress.low))
            flow.pointee.destinationZone = zones.zone(forMAC: MACAddress(rawValue: r.responderAddress.low))
        } else {
            flow.pointee.sourceZone = zones.zone(for: r.initiatorAddress)
            flow.pointee.destinationZone = zones.zone(for: r.responderAddress)
        }
        flow.pointee.segmentZone = zones.zone(for: packet.pointee.segment)
        flow.pointee.state |= FlowState.classified
        if !zones.inventory.isEmpty && (infrastructureRole(initiatorOf: flow.pointee) != nil || infrastructureRole(responderOf: flow.pointee) != nil) {
            flow.pointee.state |= FlowState.infrastructureAsset
        }
        if !r.key.isEthernet && isManagementService(flow.pointee) { flow.pointee.state |= FlowState.managementService }
    }

    /// Whether the responder is a management-role host (by address, else by
    /// segment) and its port a management service of the catalogue.
    func isManagementService(_ r: FlowRecord) -> Bool {
        let inventoryRole = r.state & FlowState.infrastructureAsset != 0 ? infrastructureRole(responderOf: r) : nil
        let serverRole = inventoryRole ?? zones.role(r.destinationZone) ?? zones.role(r.segmentZone)
        guard serverRole == .management else { return false }
        return zones.services.lookup(.management, IPProtocol(rawValue: UInt8(truncatingIfNeeded: r.key.protocolNumber)), r.responderPort) != nil
    }

    /// The asset the inventory names the flow's initiator (by address, or by MAC for non-IP frames).
    public func asset(initiatorOf r: FlowRecord) -> Asset? {
        r.key.isEthernet ? zones.inventory.asset(forMAC: MACAddress(rawValue: r.initiatorAddress.low)) : zones.inventory.asset(for: r.initiatorAddress)
    }

    /// The asset the inventory names the flow's responder.
    public func asset(responderOf r: FlowRecord) -> Asset? {
        r.key.isEthernet ? zones.inventory.asset(forMAC: MACAddress(rawValue: r.responderAddress.low)) : zones.inventory.asset(for: r.responderAddress)
    }

    /// The initiator's role as the inventory's kind gives it (a hypervisor, VMkernel interface, BMC, manager, storage array).
    public func infrastructureRole(initiatorOf r: FlowRecord) -> Role? { asset(initiatorOf: r)?.kind.infrastructureRole }
    public func infrastructureRole(responderOf r: FlowRecord) -> Role? { asset(responderOf: r)?.kind.infrastructureRole }
}
