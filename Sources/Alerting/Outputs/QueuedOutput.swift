import Platform
#if canImport(Glibc)
import Glibc
#endif

/// Counters of one output, for statistics and the metrics file.
public struct OutputStatistics: Sendable, Equatable {
    public var name: String
    /// Messages waiting in the queue.
    public var queued = 0
    /// Messages delivered (RELP: accepted by the acknowledged session; TCP/UDP:
    /// handed to the kernel; a file: written), each counted once: what a
    /// transport holds unconfirmed is not delivered yet, and at the stop what
    /// it could not confirm moves to ``undelivered``.
    public var delivered = 0
    /// Messages refused because the queue was full (the collector was away too long).
    public var droppedQueueFull = 0
    /// Messages that could never be delivered (too large for a datagram, ...).
    public var failed = 0
    /// Messages sent again after a broken connection.
    public var resent = 0
    /// Plain TCP: messages the crashed collector's kernel had acknowledged shortly before the break.
    public var possiblyLost = 0
    /// TLS sessions refused because the collector's certificate failed the check
    /// (wrong CA, wrong name, expired); nothing was sent on them.
    public var refusedSessions = 0
    /// At the end: messages still queued or unconfirmed when the sensor had to stop.
    public var undelivered = 0
    /// Whether the last attempt failed (the destination is unreachable now).
    public var failing = false
    public var lastError: String?
    /// Reopens (SIGHUP, log rotation) that failed: alerts kept going to the file opened before.
    public var reopenFailures = 0

    /// Why ``possiblyLost`` messages may be lost, in words.
    public var possiblyLostReason: String {
        name.hasPrefix("udp://") ? "datagrams sent to a port the collector's host refused: nobody listened"
            : "taken by the collector's kernel just before the collector closed the connection"
    }

    /// Messages that did not reach the destination (or may not have).
    public var notDelivered: Int { droppedQueueFull + failed + undelivered }
    /// Whether the output fell short: alerts not delivered, or a reopen that failed.
    public var fellShort: Bool { notDelivered > 0 || reopenFailures > 0 }
}

/// An output that never blocks the capture: ``write(_:)`` formats the alert
/// and puts it on a bounded queue; a thread of its own delivers the queue to
/// the transport, retrying with backoff while the destination is away. When
/// the queue is full, new alerts are counted as dropped, never silently lost.
public final class QueuedOutput: AlertSink, @unchecked Sendable {
    public let name: String
    public let format: AlertFormat
    private let context: FormatContext
    private let transport: MessageTransport
    private let capacity: Int
    private let lock = ConditionLock()
    // Guarded by `lock`:
    private var queue: [[UInt8]] = []
    private var head = 0
    private var stats: OutputStatistics
    private var stopping = false
    private var stopDeadline = 0.0
    private var giveUpIfUnreachable: Double?
    /// When stopping ends: the deadline, or sooner for a destination never reached. `lock` held.
    private var currentDeadline: Double {
        if let giveUp = giveUpIfUnreachable, accepted == 0, stats.failing { return min(stopDeadline, giveUp) }
        return stopDeadline
    }
    private var reopenRequested = false
    private var busy = false
    private var thread: WorkerThread?
    /// Reports state changes of the destination (unreachable, back) on standard error.
    private let log: @Sendable (String) -> Void

    public init(transport: MessageTransport, format: AlertFormat, context: FormatContext, capacity: Int = 100_000,
                log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.name = transport.name
        self.transport = transport
        self.format = format
        self.context = context
        self.capacity = max(capacity, 1)
        self.log = log
        self.stats = OutputStatistics(name: transport.name)
        let thread = WorkerThread(name: "output \(transport.name)") { [unowned self] in self.run() }
        self.thread = thread
        thread.start()
    }

    /// Queues an alert; never blocks on the destination. Capture threads may
    /// call it at once: each formats into a buffer of its own, which the queue keeps.
    public func write(_ alert: Alert) throws(SinkError) {
        var line = OutputBuffer(capacity: 512)
        format.format(alert, context: context, into: &line)
        enqueue(line.bytes)
    }

    /// Queues a formatted message.
    public func enqueue(_ message: [UInt8]) {
        lock.withLock {
            if queue.count - head >= capacity || stopping {
                stats.droppedQueueFull += 1
                return
            }
            queue.append(message)
        }
        lock.broadcast()
    }

    /// Wakes the output thread; never waits for the destination (``stop(deadline:)`` does).
    public func flush() throws(SinkError) { lock.broadcast() }

    /// Waits until the queue is empty and the transport has taken the last message, or `seconds` pass.
    public func drain(seconds: Double) {
        let deadline = monotonicSeconds() + seconds
        lock.withLock {
            while (queue.count > head || busy) && monotonicSeconds() < deadline { lock.wait(seconds: 0.05) }
        }
    }

    /// Reopens a file destination (log rotation).
    public func reopen() {
        lock.withLock { reopenRequested = true }
        lock.broadcast()
    }

    /// Stops the output: delivers what is queued until `deadline` (monotonic
    /// seconds), then waits for acknowledgements and closes. What is left is
    /// counted as undelivered.
    /// - Parameter unreachableAfter: give up sooner, at this time, if the
    ///   destination has taken nothing yet and cannot be reached (a one-off
    ///   analysis need not wait long for a collector that is not there).
    public func stop(deadline: Double, unreachableAfter: Double? = nil) {
        beginStop(deadline: deadline, unreachableAfter: unreachableAfter)
        join()
    }

    /// Stops several outputs at once, against one deadline (one after another,
    /// each unreachable collector added its own wait).
    public static func stop(_ outputs: [QueuedOutput], deadline: Double, unreachableAfter: Double? = nil) {
        for o in outputs { o.beginStop(deadline: deadline, unreachableAfter: unreachableAfter) }
        for o in outputs { o.join() }
    }

    /// Asks the output to stop by `deadline`, without waiting (``join()`` waits).
    public func beginStop(deadline: Double, unreachableAfter: Double? = nil) {
        lock.withLock {
            stopping = true
            stopDeadline = deadline
            giveUpIfUnreachable = unreachableAfter
        }
        lock.broadcast()
    }

    /// Stops now: what is still queued is counted as undelivered (a second stop signal).
    public func hurry() {
        lock.withLock { stopDeadline = min(stopDeadline, monotonicSeconds()) }
        lock.broadcast()
    }

    /// Whether the output's thread has ended (after ``beginStop(deadline:unreachableAfter:)``).
    public var hasStopped: Bool { lock.withLock { ended } }

    /// Waits for the output's thread to end.
    public func join() {
        thread?.join()
        thread = nil
    }

    /// Whether the output is stopping with something left to deliver (queued, or a collector away).
    public var isStillDelivering: Bool { lock.withLock { !ended && (queue.count > head || busy || stats.failing) } }

    public var statistics: OutputStatistics {
        lock.withLock {
            var s = stats
            s.queued = queue.count - head
            s.resent = transportResent
            s.possiblyLost = transportPossiblyLost
            s.refusedSessions = transportRefused
            s.delivered = accepted - transportPending
            return s
        }
    }

    // Guarded by `lock`; written by the output thread.
    private var transportResent = 0
    private var transportPossiblyLost = 0
    private var transportRefused = 0
    /// Messages the transport took; those it still holds unconfirmed (`transportPending`) are not delivered yet.
    private var accepted = 0
    private var transportPending = 0

    /// The output's thread has finished (`lock` held).
    private var ended = false

    /// Waits (`lock` held) until `until`, waking early only to stop or reopen: a
    /// new alert must not cut a backoff short (alerts every few milliseconds made
    /// an unreachable collector see about 19 connection attempts a second).
    private func backOff(until: Double) {
        while !reopenRequested {
            let now = monotonicSeconds()
            let end = stopping ? min(until, currentDeadline) : until
            if now >= end { return }
            lock.wait(seconds: max(end - now, 0.005))
        }
    }

    private func run() {
        var backoff = 0.1
        // A collector that cannot be reached is said now, not at the first alert; it is tried again with backoff.
        var unreached = false
        if case .retry(let problem) = transport.open() {
            unreached = true
            lock.withLock {
                stats.lastError = problem
                settle(failing: true)
            }
            log("\(name): \(problem); alerts will be queued and retried")
        }
        while true {
            var message: [UInt8]? = nil
            var reopen = false
            var stop = false
            var retryHeld = false
            var probe = false
            lock.withLock {
                while queue.count == head && !stopping && !reopenRequested {
                    busy = false
                    // Lines the transport holds after a failure (a full disk) are retried with backoff, with no new alert needed.
                    if stats.failing && transportPending > 0 {
                        backOff(until: monotonicSeconds() + backoff)
                        retryHeld = true
                        break
                    }
                    // A collector not reached since the start is tried again, so that it is seen to be back.
                    if unreached && stats.failing {
                        backOff(until: monotonicSeconds() + backoff)
                        probe = queue.count == head && !stopping
                        break
                    }
                    lock.wait(seconds: 1)
                    // Idle after a datagram was sent: back once a quiet spell has passed with no refusal of it
                    // waiting on the socket (a refusal shows at the next send only, which may be hours away).
                    if stats.failing && sentSinceFailure && transport.failuresShowLate && monotonicSeconds() - lastFailure >= Self.quietBeforeRecovery {
                        if let late = transport.takeLateFailure() {
                            transportPossiblyLost = transport.possiblyLost
                            stats.lastError = late
                            lastFailure = monotonicSeconds()
                            sentSinceFailure = false
                        } else {
                            stats.failing = false
                            log("\(name): delivering again")
                        }
                    }
                }
                reopen = reopenRequested
                reopenRequested = false
                if queue.count > head { message = queue[head]; busy = true } else { busy = false }
                stop = stopping && (message == nil || monotonicSeconds() >= currentDeadline)
            }
            if reopen {
                // Reopened here, as whoever the sensor runs as now (after --user): a failure is said, counted, and ends in exit status 4.
                if let problem = transport.reopen() {
                    lock.withLock { stats.reopenFailures += 1 }
                    log("\(name): cannot reopen after rotation: \(problem); alerts still go to the file opened before")
                } else {
                    log("\(name): reopened")
                }
            }
            if stop { break }
            if probe {
                let opened = transport.open()
                lock.withLock {
                    if case .retry(let problem) = opened {
                        stats.lastError = problem
                    } else {
                        unreached = false
                        settle(failing: false)
                        log("\(name): reachable again")
                    }
                }
                backoff = unreached ? min(backoff * 2, 5) : 0.1
                continue
            }
            guard let message else {
                idleFlush()
                backoff = retryHeld && lock.withLock({ stats.failing }) ? min(backoff * 2, 5) : 0.1
                continue
            }
            let result = transport.send(message)
            let resent = transport.resent, lost = transport.possiblyLost, pending = transport.pending, refused = transport.refusedSessions
            var retryAfter = 0.0
            lock.withLock {
                transportRefused = refused
                transportResent = resent
                transportPossiblyLost = lost
                transportPending = pending
                switch result {
                case .sent:
                    accepted += 1
                    pop()
                case .failed(let reason):
                    stats.failed += 1
                    stats.lastError = reason
                    pop()
                case .retry(let reason):
                    stats.lastError = reason
                    retryAfter = backoff
                }
                let wasFailing = stats.failing
                settle(failing: retryAfter > 0)
                if stats.failing != wasFailing {
                    log(stats.failing ? "\(name): \(reason(result)); alerts are queued and will be retried"
                                      : "\(name): delivering again")
                }
            }
            if retryAfter > 0 {
                lock.withLock { backOff(until: monotonicSeconds() + retryAfter) }
                backoff = min(backoff * 2, 5)
            } else {
                unreached = false
                backoff = 0.1
                if lock.withLock({ queue.count == head }) { idleFlush() }
            }
        }
        _ = transport.flush()
        let unconfirmed = transport.finish(deadline: max(lock.withLock { currentDeadline }, monotonicSeconds() + 1))
        lock.withLock {
            // What the transport took but could not confirm is undelivered, not also delivered.
            stats.undelivered = queue.count - head + unconfirmed
            transportPending = unconfirmed
            transportResent = transport.resent
            transportPossiblyLost = transport.possiblyLost
            transportRefused = transport.refusedSessions
            busy = false
            queue.removeAll()
            head = 0
            ended = true
        }
        lock.broadcast()
    }

    /// When a destination whose failures show late (UDP) counts as back: after
    /// this long without one, not at the first send that works (a refused
    /// collector fails every other datagram, and each state change is said).
    static let quietBeforeRecovery = 5.0
    private var lastFailure = 0.0
    /// A send has worked since the last failure (`lock` held).
    private var sentSinceFailure = false

    /// The destination's state after a send (`lock` held).
    private func settle(failing: Bool) {
        if failing {
            stats.failing = true
            lastFailure = monotonicSeconds()
            sentSinceFailure = false
        } else {
            sentSinceFailure = true
            if !transport.failuresShowLate || monotonicSeconds() - lastFailure >= Self.quietBeforeRecovery { stats.failing = false }
        }
    }

    /// The queue is empty: buffered messages go out; a failure is reported once, as for a send.
    private func idleFlush() {
        let result = transport.flush()
        let pending = transport.pending
        lock.withLock {
            transportPending = pending
            let wasFailing = stats.failing
            if case .retry(let reason) = result {
                stats.lastError = reason
                settle(failing: true)
            } else if pending == 0 {
                settle(failing: false)
            }
            if stats.failing != wasFailing {
                log(stats.failing ? "\(name): \(reason(result)); alerts are queued and will be retried" : "\(name): delivering again")
            }
        }
    }

    private func reason(_ result: SendResult) -> String {
        if case .retry(let r) = result { return r }
        return "failing"
    }

    /// Removes the head; compacts the array now and then (lock held).
    private func pop() {
        head += 1
        if head > 1024 && head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
    }
}
