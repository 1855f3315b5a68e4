import Foundation
import Testing
import EventLog

/// The commands read `IPLOG_STORE`, `IPLOG_TODAY` and `IPLOG_ACTOR` one at a
/// time; each must read as the whole environment does. The environment is
/// only read here: `setenv` while other tests run in parallel threads can free
/// the array a concurrent `getenv` walks. The CLI tests set these variables
/// for a child process (`theStoreAndTheActorComeFromTheEnvironment`).
struct ProcessEnvironmentTests {
    @Test func everyVariableReadsAsFoundationReadsIt() {
        let environment = ProcessInfo.processInfo.environment
        #expect(!environment.isEmpty)
        for (name, value) in environment {
            #expect(ProcessEnvironment.value(name) == value, "\(name)")
        }
    }

    @Test func anUnsetVariableIsNil() {
        let name = "IPLOG_TEST_UNSET_\(UInt64.random(in: 0...UInt64.max))"
        #expect(ProcessInfo.processInfo.environment[name] == nil)
        #expect(ProcessEnvironment.value(name) == nil)
    }
}
