#if canImport(Glibc)
import Glibc
#endif

/// Follows the log from a position: hands out the events committed after it in
/// batches, and waits for new commits, also those of other processes.
///
/// On Linux it waits with inotify on the log's data file, which every commit
/// writes; elsewhere, or when inotify is unavailable, it polls the head. Either
/// way it re-reads the head before it sleeps, so no commit is missed.
///
/// Not thread-safe: one follower per reader.
public final class LogFollower {
    public let store: EventStore
    /// The last position handed out.
    public private(set) var position: UInt64
    private var inotify: Int32 = -1

    public init(store: EventStore, after position: UInt64) {
        self.store = store
        self.position = position
        #if canImport(Glibc)
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        if fd >= 0 {
            if inotify_add_watch(fd, store.directory + "/log/data.mdb", UInt32(IN_MODIFY)) >= 0 {
                inotify = fd
            } else {
                close(fd)
            }
        }
        #endif
    }

    deinit {
        if inotify >= 0 { close(inotify) }
    }

    /// The next events after ``position``, at most `limit`; advances ``position``.
    public func next(limit: Int = 4096) throws -> [RecordedEvent] {
        let batch = try store.read(from: position + 1, limit: limit)
        if let last = batch.last { position = last.position }
        return batch
    }

    /// Moves ``position`` to `position` without reading the events before it
    /// (a reader that has taken them another way).
    public func skip(to position: UInt64) {
        self.position = position
    }

    /// Blocks until the log's head is past ``position`` or `timeoutMilliseconds`
    /// pass; returns whether there are new events.
    public func waitForEvents(timeoutMilliseconds: Int) throws -> Bool {
        var remaining = timeoutMilliseconds
        while true {
            if try store.head().position > position { return true }
            if remaining <= 0 { return false }
            let slice = min(remaining, 250)
            #if canImport(Glibc)
            if inotify >= 0 {
                var fds = pollfd(fd: inotify, events: Int16(POLLIN), revents: 0)
                _ = poll(&fds, 1, Int32(slice))
                var buffer = [UInt8](repeating: 0, count: 4096)
                while read(inotify, &buffer, buffer.count) > 0 {}
            } else {
                usleep(UInt32(min(slice, 20)) * 1000)
            }
            #else
            usleep(UInt32(min(slice, 20)) * 1000)
            #endif
            remaining -= slice
        }
    }
}
