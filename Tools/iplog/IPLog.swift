import ArgumentParser

/// `iplog`: the case log for individual plans (individuell plan) and coordinators.
@main
struct IPLog: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iplog",
        abstract: "The case log for individual plans and coordinators.",
        discussion: """
            Every change to a case is an event appended to a log that is never \
            rewritten. The store is a directory: --store, else $IPLOG_STORE, else \
            ./iplog-store.

            Exit codes: 0 done; 1 verify found a problem, or an internal error; \
            2 bad input; 3 refused by a rule; 4 expected-version conflict.
            """,
        subcommands: [Append.self, Import.self, Export.self, Verify.self, Stats.self]
    )
}
