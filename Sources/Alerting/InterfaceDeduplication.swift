import Detect
import Platform
import Vocabulary

/// One frame seen on several interfaces of one sensor (a bridge and its
/// port, two mirror sessions of one switch) is one finding. Each interface
/// has a pipeline of its own, so each finds it; the first to find it holds
/// the alert for ``holdSeconds`` while the others' copies (the same rule and
/// finding key, stamped within ``windowNanoseconds`` of it) only add their
/// interface; then it is written once, its `in_iface` the first interface and
/// its evidence `seen_on` naming every interface that saw it.
///
/// Shared by the capture threads of `run` with more than one interface (with
/// one, or for files, there is none and nothing is held). Cost: nothing per
/// packet; per alert a lock and a hash lookup, and the hold's delay.
public final class InterfaceDeduplication: @unchecked Sendable {
    struct Key: Hashable {
        var sid: Int
        var finding: FindingKey
    }

    struct Entry {
        var alert: Alert
        var interfaces: [String]
        /// When it is written (monotonic seconds), and whether it has been.
        var due: Double
        var written = false
    }

    /// How long a first alert waits for the other interfaces' copies.
    public let holdSeconds: Double
    /// How far apart (capture time) copies of one finding may be stamped.
    public let windowNanoseconds: UInt64
    private let lock = ConditionLock()
    private var entries: [Key: Entry] = [:]
    /// Held findings in the order they came (so their times come in order),
    /// and written ones, kept one more hold to recognise late copies.
    private var held = FIFO<Key>()
    private var written = FIFO<Key>()
    private var merged = 0
    /// Held alerts a new finding of the same key pushed out: written at the next release.
    private var ready: [Alert] = []

    public init(holdSeconds: Double = 1, windowNanoseconds: UInt64 = 1_000_000_000) {
        self.holdSeconds = holdSeconds
        self.windowNanoseconds = windowNanoseconds
    }

    /// Copies that were not written because another interface's alert stands for them.
    public var duplicates: Int { lock.withLock { merged } }

    /// What becomes of an alert offered (``decide(_:key:interface:now:)``).
    public enum Decision {
        /// Written now (the same interface found the finding again: a new one, which throttling let through).
        case writeNow(Alert)
        /// Held for the other interfaces' copies: written by a later ``release(now:all:)``.
        case held
        /// Another interface's held alert stands for it: not written.
        case copy
    }

    /// An alert an interface's alert stage would write. Returns it back when it
    /// is to be written now; nil when it is held or a copy.
    public func offer(_ alert: Alert, key: FindingKey, interface: String, now: Double) -> Alert? {
        if case .writeNow(let a) = decide(alert, key: key, interface: interface, now: now) { return a }
        return nil
    }

    /// As ``offer(_:key:interface:now:)``, telling a held alert from a copy
    /// (the stage counts a held one as written when it holds it).
    public func decide(_ alert: Alert, key: FindingKey, interface: String, now: Double) -> Decision {
        lock.withLock {
            let k = Key(sid: alert.sid, finding: key)
            if let e = entries[k], e.alert.timestamp.distance(to: alert.timestamp).magnitude <= windowNanoseconds {
                if e.interfaces.contains(interface) { return .writeNow(alert) }
                entries[k]!.interfaces.append(interface)
                merged += 1
                return .copy
            }
            // Outside the window it is a new finding; one still held before it goes out at the next release.
            if let e = entries[k], !e.written { ready.append(Self.named(e)) }
            entries[k] = Entry(alert: alert, interfaces: [interface], due: now + holdSeconds)
            held.push(k)
            return .held
        }
    }

    /// The held alerts whose time has come (every one with `all`), in the
    /// order they were found, each naming the interfaces that saw it. Costs
    /// only what is released: the held ones wait in order.
    public func release(now: Double, all: Bool = false) -> [Alert] {
        lock.withLock {
            while let k = written.first, all || (entries[k].map { now >= $0.due + holdSeconds } ?? true) {
                written.pop()
                if let e = entries[k], e.written { entries[k] = nil }
            }
            var out = ready
            ready.removeAll()
            while let k = held.first {
                guard let e = entries[k], !e.written else { held.pop(); continue }
                guard all || now >= e.due else { break }
                held.pop()
                out.append(Self.named(e))
                entries[k]!.written = true
                if all { entries[k] = nil } else { written.push(k) }
            }
            return out
        }
    }

    /// The alert of an entry, naming the interfaces that saw it when more than one did.
    private static func named(_ e: Entry) -> Alert {
        var alert = e.alert
        if e.interfaces.count > 1 { alert.evidence.append(("seen_on", .text(e.interfaces.joined(separator: ",")))) }
        return alert
    }
}

/// A first-in first-out queue on an array, compacted as it drains.
struct FIFO<Element> {
    private var items: [Element] = []
    private var head = 0

    var first: Element? { head < items.count ? items[head] : nil }

    mutating func push(_ e: Element) { items.append(e) }

    mutating func pop() {
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
    }
}
