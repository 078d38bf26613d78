// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "tokenmint",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tokenmint", targets: ["tokenmint"]),
        .executable(name: "tokenmint-load", targets: ["tokenmint-load"]),
        .library(name: "TokenMint", targets: ["TokenMint"]),
        .library(name: "TokenMintServer", targets: ["TokenMintServer"]),
        .library(name: "TokenMintRedis", targets: ["TokenMintRedis"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/vapor/jwt-kit", exact: "5.8.0"),
        .package(url: "https://github.com/swift-extras/swift-extras-base64", from: "1.2.0"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // The domain: configuration, minting, caller verification, the token cache. No NIO here.
        .target(
            name: "TokenMint",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "ExtrasBase64", package: "swift-extras-base64"),
                "COpenSSL",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // The SwiftNIO front: pipeline, routes, problem+json, CORS, metrics endpoint, lifecycle.
        .target(
            name: "TokenMintServer",
            dependencies: [
                "TokenMint",
                "TokenMintRedis",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // Debian 12's hiredis 0.14, for the Redis connection.
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        // Debian 12's OpenSSL 3.0, for TLS to Redis (rediss://) beside hiredis.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // The domain's Redis connection over hiredis, plain or over OpenSSL: Dispatch queue, timeouts.
        .target(
            name: "TokenMintRedis",
            dependencies: [
                "TokenMint",
                "CHiredis",
                "COpenSSL",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The executable: command line, wiring; thin.
        .executableTarget(
            name: "tokenmint",
            dependencies: [
                "TokenMint",
                "TokenMintServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The load driver: a SwiftNIO HTTP/1.1 client with a signed caller population, per-answer token checks and
        // HdrHistogram latencies. Its sources live under loadtest/ with its scenarios.
        .target(
            name: "TokenMintLoad",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ExtrasBase64", package: "swift-extras-base64"),
            ],
            path: "loadtest/Sources/TokenMintLoad"
        ),
        .executableTarget(
            name: "tokenmint-load",
            dependencies: [
                "TokenMintLoad",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "loadtest/Sources/tokenmint-load"
        ),
        // Helpers the test targets share: a raw-socket HTTP client and independent JWT encoding.
        .target(
            name: "TokenMintTesting",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto")
            ]
        ),
        .testTarget(
            name: "TokenMintTests",
            dependencies: [
                "TokenMint",
                "TokenMintTesting",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .testTarget(
            name: "TokenMintServerTests",
            dependencies: [
                "TokenMint",
                "TokenMintServer",
                "TokenMintTesting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // The hiredis connection against a real redis-server.
        .testTarget(
            name: "TokenMintRedisTests",
            dependencies: [
                "TokenMint",
                "TokenMintRedis",
                "TokenMintTesting",
            ]
        ),
        // Real processes: the built `tokenmint` binary, started the way an operator starts it.
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "tokenmint",
                "tokenmint-load",
                "TokenMintTesting",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
    ]
)

for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.swiftLanguageMode(.v6))
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    target.swiftSettings = settings
}
