// swift-tools-version:6.0
import PackageDescription

// The arrows point one way: CLMDB → LMDB → EventLog → Domain → Projections → Application → Service, Mirror → Tools.
// JSON (parser, writer, binary form of payloads) has no dependencies of its own.
let package = Package(
    name: "iplog",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "iplog", targets: ["iplog"]),
        .executable(name: "iplog-bench", targets: ["iplog-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // 4.x: vapor/jwt-kit 5 needs it; our own use (SHA-256, HMAC, AES-GCM) reads the same in 3 and 4.
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        // The service (`iplog serve`).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // The pages (server-rendered HTML).
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.7.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // The PostgreSQL mirror (`iplog mirror`).
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        // The mirror's client of a remote service's feed (`iplog mirror --from`).
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLMDB",
            path: "Sources/CLMDB",
            pkgConfig: "lmdb",
            providers: [.apt(["liblmdb-dev"])]
        ),
        // A header of one inline function, the compiler's prefetch hint (a rebuild's fold).
        .systemLibrary(name: "CPrefetch", path: "Sources/CPrefetch"),
        .target(name: "LMDB", dependencies: ["CLMDB"], path: "Sources/LMDB"),
        .target(name: "JSON", path: "Sources/JSON"),
        .target(name: "BinaryCodable", dependencies: ["JSON"], path: "Sources/BinaryCodable"),
        .target(
            name: "AccessLog",
            dependencies: ["LMDB", "EventLog", .product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/AccessLog"
        ),
        .target(
            name: "EventLog",
            dependencies: ["LMDB", "JSON", "CPrefetch", .product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/EventLog"
        ),
        .target(
            name: "Domain",
            dependencies: ["EventLog", "JSON", "BinaryCodable", .product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/Domain"
        ),
        .target(name: "ProjectionKit", dependencies: ["EventLog", "Domain", "LMDB", "BinaryCodable"], path: "Projections/ProjectionKit"),
        .target(name: "CaseStatus", dependencies: ["ProjectionKit", "Domain", "EventLog", "BinaryCodable"], path: "Projections/CaseStatus"),
        .target(name: "Deviations", dependencies: ["ProjectionKit", "CaseStatus", "Domain", "EventLog", "JSON", "BinaryCodable"], path: "Projections/Deviations"),
        .target(
            name: "CoordinatorWorkload",
            dependencies: ["ProjectionKit", "CaseStatus", "Deviations", "Domain", "EventLog", "JSON", "BinaryCodable"],
            path: "Projections/CoordinatorWorkload"
        ),
        // The three read models rebuilt together: one pass, one state per case.
        .target(
            name: "ReadModels",
            dependencies: ["ProjectionKit", "CaseStatus", "Deviations", "CoordinatorWorkload", "Domain", "EventLog", "BinaryCodable", "CPrefetch"],
            path: "Projections/ReadModels"
        ),
        .target(
            name: "SampleData",
            dependencies: ["EventLog", "JSON", .product(name: "Crypto", package: "swift-crypto")],
            path: "Tools/SampleData"
        ),
        // The use cases that the CLI and the service share: who may do what,
        // the reads (each recorded in the access log before it is answered),
        // the appends (one writer, group commit), users and their tokens.
        .target(
            name: "Application",
            dependencies: [
                "LMDB", "EventLog", "Domain", "JSON", "AccessLog", "ProjectionKit", "CaseStatus", "Deviations", "CoordinatorWorkload", "ReadModels",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Sources/Application"
        ),
        // The HTTP adapter over Application: routes, authentication, metrics.
        .target(
            name: "Service",
            dependencies: [
                "Application", "AccessLog", "EventLog", "Domain", "JSON", "ProjectionKit", "Deviations", "CaseStatus",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            path: "Sources/Service"
        ),
        // The PostgreSQL adapter: a follower that copies the log and the read
        // models into PostgreSQL tables for SQL reporting.
        .target(
            name: "Mirror",
            dependencies: [
                "Application", "EventLog", "Domain", "JSON", "ProjectionKit", "CaseStatus", "Deviations", "CoordinatorWorkload",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Mirror"
        ),
        .executableTarget(
            name: "iplog",
            dependencies: [
                "LMDB", "EventLog", "Domain", "JSON", "SampleData", "AccessLog",
                "ProjectionKit", "CaseStatus", "Deviations", "CoordinatorWorkload", "ReadModels", "Application", "Service", "Mirror",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tools/iplog"
        ),
        .executableTarget(
            name: "iplog-bench",
            dependencies: [
                "CLMDB", "EventLog", "Domain", "JSON", "SampleData", "ProjectionKit", "CaseStatus", "Deviations", "CoordinatorWorkload", "ReadModels",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tools/iplog-bench"
        ),
        .testTarget(name: "LMDBTests", dependencies: ["LMDB", "CLMDB"], path: "Tests/LMDBTests"),
        .testTarget(name: "JSONTests", dependencies: ["JSON", "BinaryCodable"], path: "Tests/JSONTests"),
        .testTarget(name: "EventLogTests", dependencies: ["EventLog", "LMDB", "JSON"], path: "Tests/EventLogTests"),
        .testTarget(name: "DomainTests", dependencies: ["Domain", "EventLog", "JSON", "SampleData"], path: "Tests/DomainTests"),
        .testTarget(
            name: "ProjectionTests",
            dependencies: ["ProjectionKit", "CaseStatus", "Deviations", "CoordinatorWorkload", "ReadModels", "Domain", "EventLog", "JSON", "SampleData"],
            path: "Tests/ProjectionTests"
        ),
        .testTarget(
            name: "ServiceTests",
            dependencies: [
                "iplog", "Service", "Application", "EventLog", "Domain", "JSON", "AccessLog", "SampleData",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            path: "Tests/ServiceTests",
            exclude: ["Browser"]  // the Selenium script the page tests run with python3
        ),
        // The CLI end to end, the mirror's included (against a real PostgreSQL).
        .testTarget(name: "CLITests", dependencies: ["iplog", "iplog-bench", "EventLog", "JSON", "AccessLog", "Mirror"], path: "Tests/CLITests"),
    ],
    swiftLanguageModes: [.v6]
)
