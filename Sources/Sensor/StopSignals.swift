import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT, SIGTERM and SIGHUP for offline analysis: the signal interrupts a
/// read that waits on a stream (`analyze -` fed by tcpdump), the analysis
/// stops where it is, and everything found so far is reported and written (a
/// closed terminal's SIGHUP too: otherwise it would end the process with the
/// flows still open unreported).
public enum StopSignals {
    /// The signal that asked to stop (0: none).
    static let received = Atomic<Int32>(0)

    /// Whether a stop was asked for.
    @inline(__always)
    public static var requested: Bool { received.load(ordering: .relaxed) != 0 }

    /// The signal's name, once one arrived.
    public static var name: String? {
        switch received.load(ordering: .relaxed) {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        case SIGHUP: return "SIGHUP"
        default: return nil
        }
    }

    /// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread, so that the threads it
    /// starts from now on (output queues) leave them to the main thread.
    public static func blockForNewThreads() {
        var set = signalSet()
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Catches SIGINT, SIGTERM and SIGHUP in the calling thread (without restarting
    /// the interrupted read) and unblocks them there.
    public static func install() {
        _ = received.load(ordering: .relaxed)  // initialised here, never first in the handler
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signal in StopSignals.received.store(signal, ordering: .relaxed) }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0  // no SA_RESTART: a blocked read returns EINTR
        sigaction(SIGINT, &action, nil)
        sigaction(SIGTERM, &action, nil)
        // Started under nohup (SIGHUP ignored): it stays ignored, as the user asked.
        var previous = sigaction()
        sigaction(SIGHUP, nil, &previous)
        if unsafeBitCast(previous.__sigaction_handler.sa_handler, to: Int.self) != unsafeBitCast(SIG_IGN, to: Int.self) {
            sigaction(SIGHUP, &action, nil)
        }
        var set = signalSet()
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    private static func signalSet() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGHUP)
        return set
    }
}
