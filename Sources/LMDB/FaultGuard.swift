#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns a memory fault caused by a damaged data file into the answer the
/// store gives for damage (`[damaged]`, exit 1) instead of a crash.
///
/// Every value LMDB lends is checked against the file (``MapBounds``), but
/// LMDB walks its own pages too: a damaged page (a node's flags, a page
/// number, an offset) can make LMDB itself read outside memory (SIGSEGV) or
/// past the file's end (SIGBUS). Such a fault is recognised precisely — the
/// faulting instruction is inside liblmdb, or the faulting address is inside
/// a mapped data file — and ends the process with a line on stderr and exit 1.
/// Any other fault is a bug of ours: it goes to the handler that was there
/// before (the Swift runtime's backtracer, or the default) unchanged.
enum FaultGuard {
    /// liblmdb's code and the data files' maps: [start, end) pairs.
    nonisolated(unsafe) private static var ranges = UnsafeMutablePointer<UInt>.allocate(capacity: 2 * maxRanges)
    nonisolated(unsafe) private static var count = 0
    private static let maxRanges = 32
    /// The handlers there before ours, [SIGSEGV, SIGBUS], in memory of our own.
    nonisolated(unsafe) private static let previous: UnsafeMutablePointer<sigaction> = {
        let p = UnsafeMutablePointer<sigaction>.allocate(capacity: 2)
        p.initialize(repeating: sigaction(), count: 2)
        return p
    }()
    private static let lock = ReadWriteLock()

    /// Installs the handlers once (with liblmdb's code as the first range).
    static let installed: Bool = {
        for code in processMappings(containing: "liblmdb") where code.fields.count > 1 && code.fields[1].hasPrefix("r-x") {
            add(code.start, code.end)
        }
        var action = sigaction()
        action.sa_flags = SA_SIGINFO | SA_ONSTACK
        sigemptyset(&action.sa_mask)
        #if os(Linux)
        action.__sigaction_handler.sa_sigaction = handle
        #else
        action.__sigaction_u.__sa_sigaction = handle
        #endif
        sigaction(SIGSEGV, &action, previous)
        sigaction(SIGBUS, &action, previous + 1)
        return true
    }()

    /// Adds a data file's map (called when a map is located).
    static func add(_ start: UInt, _ end: UInt) {
        lock.lockExclusive()
        defer { lock.unlock() }
        for i in 0..<count where ranges[2 * i] == start {
            ranges[2 * i + 1] = end
            return
        }
        guard count < maxRanges else { return }
        ranges[2 * count] = start
        ranges[2 * count + 1] = end
        count += 1
    }

    private static func covers(_ address: UInt) -> Bool {
        for i in 0..<count where address >= ranges[2 * i] && address < ranges[2 * i + 1] { return true }
        return false
    }

    /// LMDB's own consistency checks (`mdb_assert`), which a damaged page can
    /// fail deep inside a cursor: answered as damage, exit 1, where LMDB would
    /// abort(). Set on every environment (``Environment``).
    static let assertion: @convention(c) (OpaquePointer?, UnsafePointer<CChar>?) -> Void = { _, message in
        _ = write(2, assertMessage.utf8Start, assertMessage.utf8CodeUnitCount)
        if let message { _ = write(2, message, strlen(message)) }
        _ = write(2, ")\n", 2)
        _exit(1)
    }

    private static let assertMessage: StaticString = "[damaged] the store's data file is damaged: LMDB found a page it cannot follow; run `iplog verify` and restore the store from a backup (LMDB: "
    private static let busMessage: StaticString = "[damaged] the store's data file is damaged: LMDB read past its end; run `iplog verify` and restore the store from a backup\n"
    private static let segvMessage: StaticString = "[damaged] the store's data file is damaged: one of its pages points outside it; run `iplog verify` and restore the store from a backup\n"

    private static let handle: @convention(c) (Int32, UnsafeMutablePointer<siginfo_t>?, UnsafeMutableRawPointer?) -> Void = { signal, info, context in
        var instruction: UInt = 0
        #if os(Linux) && arch(x86_64)
        if let context {
            let uc = context.assumingMemoryBound(to: ucontext_t.self)
            // gregs[REG_RIP], REG_RIP being 16 in glibc's x86-64 layout.
            instruction = withUnsafeBytes(of: &uc.pointee.uc_mcontext.gregs) { UInt(bitPattern: Int($0.load(fromByteOffset: 16 * 8, as: Int64.self))) }
        }
        #elseif os(Linux) && arch(arm64)
        if let context { instruction = UInt(context.assumingMemoryBound(to: ucontext_t.self).pointee.uc_mcontext.pc) }
        #endif
        #if os(Linux)
        let address = UInt(bitPattern: info?.pointee._sifields._sigfault.si_addr)
        #else
        let address = UInt(bitPattern: info?.pointee.si_addr)
        #endif
        if covers(instruction) || covers(address) {
            // Only async-signal-safe calls from here: write(2) of a constant, _exit.
            let message: StaticString = signal == SIGBUS ? busMessage : segvMessage
            _ = write(2, message.utf8Start, message.utf8CodeUnitCount)
            _exit(1)
        }
        // Not ours: the fault goes to the handler there before, as if we were not here.
        sigaction(signal, signal == SIGBUS ? previous + 1 : previous, nil)
    }
}
