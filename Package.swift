// swift-tools-version:6.0
import PackageDescription

// The arrows point one way: CLMDB → LMDB → EventLog → Domain → Projections → Tools.
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
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        .systemLibrary(
            name: "CLMDB",
            path: "Sources/CLMDB",
            pkgConfig: "lmdb",
            providers: [.apt(["liblmdb-dev"])]
        ),
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
            dependencies: ["LMDB", "JSON", .product(name: "Crypto", package: "swift-crypto")],
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
        .target(
            name: "SampleData",
            dependencies: ["EventLog", "JSON", .product(name: "Crypto", package: "swift-crypto")],
            path: "Tools/SampleData"
        ),
        .executableTarget(
            name: "iplog",
            dependencies: [
                "LMDB", "EventLog", "Domain", "JSON", "SampleData", "AccessLog",
                "ProjectionKit", "CaseStatus", "Deviations", "CoordinatorWorkload",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tools/iplog"
        ),
        .executableTarget(
            name: "iplog-bench",
            dependencies: [
                "CLMDB", "EventLog", "Domain", "JSON", "SampleData", "ProjectionKit", "CaseStatus", "Deviations", "CoordinatorWorkload",
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
            dependencies: ["ProjectionKit", "CaseStatus", "Deviations", "CoordinatorWorkload", "Domain", "EventLog", "JSON", "SampleData"],
            path: "Tests/ProjectionTests"
        ),
        .testTarget(name: "CLITests", dependencies: ["iplog", "iplog-bench", "EventLog", "JSON", "AccessLog"], path: "Tests/CLITests"),
    ],
    swiftLanguageModes: [.v6]
)
