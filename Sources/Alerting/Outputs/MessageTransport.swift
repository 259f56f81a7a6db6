/// What happened to one message handed to a transport.
public enum SendResult: Sendable, Equatable {
    /// Delivered (for RELP: accepted into the acknowledged session; for TCP and
    /// UDP: handed to the kernel).
    case sent
    /// Not delivered now; keep it and try again later (collector down, queue full, ...).
    case retry(String)
    /// Can never be delivered (too large for a datagram, ...); count it and move on.
    case failed(String)
}

/// How a queued output reaches its destination: a file, a socket, a RELP
/// session. Used from one output thread only.
public protocol MessageTransport: AnyObject {
    /// The destination as the user wrote it (`udp://10.0.0.5:514`, a path).
    var name: String { get }
    /// Opens the connection ahead of the first message, so that a collector
    /// that cannot be reached (down, a wrong name, a TLS check that fails) is
    /// said at start, not at the first alert; `.sent` when there is nothing to open.
    func open() -> SendResult
    /// Delivers one formatted message.
    func send(_ message: [UInt8]) -> SendResult
    /// Called when the queue is empty and at the end: pushes buffered bytes out.
    func flush() -> SendResult
    /// The end: waits until `deadline` (monotonic seconds) for acknowledgements
    /// and closes. Returns how many delivered messages stay unconfirmed.
    func finish(deadline: Double) -> Int
    /// Reopens a file after log rotation (SIGHUP); nothing for sockets.
    /// Returns why it could not (the old file is still in use then).
    func reopen() -> String?
    /// Messages taken (``send(_:)`` returned `.sent`) but not yet confirmed
    /// written: a file's buffered lines. They are not delivered yet.
    var pending: Int { get }
    /// Messages sent a second time after a broken connection (duplicates at the collector).
    var resent: Int { get }
    /// Messages that may have been lost although they were sent (plain TCP
    /// to a collector that crashed: acknowledged by its kernel, perhaps never written).
    var possiblyLost: Int { get }
    /// TLS sessions refused because the collector's certificate failed the check
    /// (wrong CA, wrong name, expired): nothing was sent on them.
    var refusedSessions: Int { get }
    /// Whether a failure shows only at a later send (UDP: the ICMP refusal of
    /// an earlier datagram fails the next one), so that one send that works
    /// says nothing about the destination being back.
    var failuresShowLate: Bool { get }
    /// A failure noted since the last send that no send has shown yet (UDP:
    /// the collector's host refused the last datagram), taken; nil if none.
    func takeLateFailure() -> String?
}

extension MessageTransport {
    public func open() -> SendResult { .sent }
    public func flush() -> SendResult { .sent }
    public func finish(deadline: Double) -> Int { 0 }
    public func reopen() -> String? { nil }
    public var pending: Int { 0 }
    public var resent: Int { 0 }
    public var possiblyLost: Int { 0 }
    public var refusedSessions: Int { 0 }
    public var failuresShowLate: Bool { false }
    public func takeLateFailure() -> String? { nil }
}
