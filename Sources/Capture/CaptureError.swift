/// A capture source could not be opened, configured or read.
///
/// The message keeps libpcap's own error text, because it names the cause
/// ("truncated dump file; tried to read 1514 captured bytes, only got 100").
public struct CaptureError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The file or device could not be opened.
        case open
        /// The link type is not one the decoder understands.
        case unsupportedLinkType
        /// A BPF expression did not compile or could not be set.
        case filter
        /// Reading a packet failed (a corrupt or truncated file, a device error).
        case read
        /// A live capture option was rejected.
        case configure
        /// Writing a capture file failed.
        case write
    }

    public let kind: Kind
    /// What was being read: a file name, `-` for standard input, or an interface name.
    public let source: String
    /// A one-line description of what is wrong.
    public let message: String
    /// For read errors, the 1-based index of the packet that could not be read.
    public let packetIndex: Int?

    public init(_ kind: Kind, source: String, message: String, packetIndex: Int? = nil) {
        self.kind = kind
        self.source = source
        self.message = message
        self.packetIndex = packetIndex
    }

    public var description: String {
        // Named as the summary and the report name it.
        let name = source == "-" ? "standard input" : source
        return "\(name): \(detail)"
    }

    /// What is wrong, without the source's name (where a table names it already).
    public var detail: String {
        if let packetIndex { return "packet \(packetIndex): \(message)" }
        return message
    }
}
