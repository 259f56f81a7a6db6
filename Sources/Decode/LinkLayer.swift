/// Reads the first header of every packet of a capture whose libpcap link
/// type is one of ``linkTypes``: one file per link type, listed once in
/// ``LinkLayer/decoders``.
protocol LinkLayerDecoder: SendableMetatype {
    /// libpcap's link type numbers (`LINKTYPE_*`/`DLT_*`) and names (`EN10MB`) this decoder reads.
    static var linkTypes: [(number: Int32, name: String)] { get }
    /// Reads the link header at the start of `bytes`; returns what follows it.
    static func decodeLink(_ bytes: ByteView, into p: inout DecodedPacket) -> NextLayer
}

/// How a capture's packets begin: one of the link-layer decoders, chosen once
/// per capture from libpcap's link type.
public struct LinkLayer: Hashable, Sendable, CustomStringConvertible {
    /// Position in ``decoders``.
    let index: Int

    /// Every link layer the decoder reads. A new link type is one decoder file
    /// plus its line here.
    static let decoders: [any LinkLayerDecoder.Type] = [
        EthernetLink.self,
        LinuxSLLDecoder.self,
        LinuxSLL2Decoder.self,
        RawIPDecoder.self,
        NullLoopbackDecoder.self,
        OpenBSDLoopbackDecoder.self,
    ]

    /// Every supported link layer, in ``decoders`` order.
    public static let all: [LinkLayer] = decoders.indices.map { LinkLayer(index: $0) }

    init(index: Int) { self.index = index }

    /// The link layer for a libpcap link type number; nil when no decoder reads it.
    public init?(linkType: Int32) {
        guard let i = Self.decoders.firstIndex(where: { $0.linkTypes.contains { $0.number == linkType } }) else { return nil }
        index = i
    }

    /// The libpcap link type numbers this layer covers.
    public var linkTypes: [Int32] { Self.decoders[index].linkTypes.map(\.number) }

    /// libpcap's name of the layer's main link type (`EN10MB`, `LINUX_SLL2`, ...).
    public var description: String { Self.decoders[index].linkTypes[0].name }

    /// libpcap's names of every supported link type, for messages.
    public static var supportedNames: [String] {
        var names: [String] = []
        for d in decoders { for t in d.linkTypes where !names.contains(t.name) { names.append(t.name) } }
        return names
    }

    /// Ethernet: first in the table, and decoded without an indirect call.
    public static let ethernet = LinkLayer(index: 0)

    @inline(__always)
    var isEthernet: Bool { index == 0 }

    /// The first layer after the link header (Ethernet needs no call: its
    /// frames are decoded by the main loop like the frames inside tunnels).
    @inline(__always)
    func start(_ bytes: ByteView, into p: inout DecodedPacket) -> NextLayer {
        isEthernet ? .ethernet(0) : Self.decoders[index].decodeLink(bytes, into: &p)
    }
}
