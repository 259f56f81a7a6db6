import CSupport
#if canImport(Glibc)
import Glibc
#endif

/// A mutex with a condition variable, for the queues between the capture
/// threads and the output threads. Heap-allocated so that its address is
/// stable, as pthreads require.
public final class ConditionLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    public init() {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Runs `body` holding the lock.
    @inline(__always)
    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// With the lock held: waits until signalled or `seconds` have passed.
    public func wait(seconds: Double) {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let total = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 + max(seconds, 0)
        var deadline = timespec(tv_sec: Int(total), tv_nsec: Int((total - Double(Int(total))) * 1e9))
        pthread_cond_timedwait(condition, mutex, &deadline)
    }

    /// Wakes every waiter (call with or without the lock).
    public func broadcast() { pthread_cond_broadcast(condition) }
}

/// The cores this process may run on: its affinity mask (a container's
/// cpuset, `taskset`), not every core the machine has online.
public func availableCores() -> Int {
    var set = cpu_set_t()
    guard sched_getaffinity(0, MemoryLayout<cpu_set_t>.size, &set) == 0 else { return max(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 1) }
    let count = withUnsafeBytes(of: &set) { raw in raw.reduce(0) { $0 + $1.nonzeroBitCount } }
    return max(count, 1)
}

/// Seconds on the monotonic clock, for timeouts and backoff.
public func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// A thread running `body`; ``join()`` waits for it.
public final class WorkerThread: @unchecked Sendable {
    private var thread = pthread_t()
    private let body: () -> Void
    /// For messages: what the thread does.
    public let name: String

    public init(name: String, _ body: @escaping @Sendable () -> Void) {
        self.body = body
        self.name = name
    }

    /// Starts the thread; false if the system refused.
    @discardableResult
    public func start() -> Bool {
        let box = Unmanaged.passRetained(self)
        let status = pthread_create(&thread, nil, { raw in
            let worker = Unmanaged<WorkerThread>.fromOpaque(raw!).takeRetainedValue()
            // The name `top -H` and /proc/PID/task/*/comm show (at most 15 bytes).
            zw_name_this_thread(worker.name)
            worker.body()
            return nil
        }, box.toOpaque())
        if status != 0 { box.release() }
        return status == 0
    }

    /// Starts the thread with `signals` blocked in it (false if the system
    /// refused): a process-directed stop signal then goes to a thread that
    /// acts on it (one blocked in a read is woken by it), not to this one.
    @discardableResult
    public func start(blocking signals: [Int32]) -> Bool {
        var blocked = sigset_t(), previous = sigset_t()
        sigemptyset(&blocked)
        for signal in signals { sigaddset(&blocked, signal) }
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        return start()
    }

    /// Waits for the thread to end.
    public func join() { pthread_join(thread, nil) }
}
