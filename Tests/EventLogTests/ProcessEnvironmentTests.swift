import Foundation
import Testing
@testable import EventLog

/// The commands read `IPLOG_STORE`, `IPLOG_TODAY` and `IPLOG_ACTOR` one at a
/// time; each must read as the whole environment does.
struct ProcessEnvironmentTests {
    @Test(arguments: ["/tmp/iplog-store", "", "Tromsø kommune · rådgiver", "a=b=c"])
    func readsAVariableAsFoundationDoes(value: String) {
        let name = "IPLOG_TEST_\(UInt32.random(in: 0...UInt32.max))"  // tests run in parallel
        setenv(name, value, 1)
        defer { unsetenv(name) }
        #expect(ProcessEnvironment.value(name) == value)
        #expect(ProcessEnvironment.value(name) == ProcessInfo.processInfo.environment[name])
    }

    @Test func anUnsetVariableIsNil() {
        let name = "IPLOG_TEST_UNSET_\(UInt32.random(in: 0...UInt32.max))"
        unsetenv(name)
        #expect(ProcessEnvironment.value(name) == nil)
    }
}
