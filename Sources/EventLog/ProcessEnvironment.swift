#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's environment variables, read one at a time.
///
/// `ProcessInfo.processInfo.environment` copies every variable into a
/// dictionary at each call; a command needs two or three of them, once.
public enum ProcessEnvironment {
    /// The value of the variable `name`, or nil when it is not set.
    public static func value(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// `IPLOG_ACTOR`, who is acting: nil when unset or empty, for every command
    /// alike (an empty variable is not an actor named "").
    public static var actor: String? {
        value("IPLOG_ACTOR").flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// Named moments where the fault-injection tests stop a process as a crash
/// would (SIGKILL, no clean-up): set `IPLOG_FAULT_POINT` to the name. Unset,
/// which is always so outside the tests, it costs one `getenv`.
public enum FaultPoint {
    /// Kills this process here when `IPLOG_FAULT_POINT` is `name`; stops here
    /// for half a second when it is `name` + `:pause` (a window for another
    /// process to act in, e.g. between a backup's copies).
    public static func reach(_ name: String) {
        guard let point = ProcessEnvironment.value("IPLOG_FAULT_POINT"), point.hasPrefix(name) else { return }
        if point == name { kill(getpid(), SIGKILL) }
        if point == name + ":pause" { usleep(500_000) }
    }
}
