// swift-tools-version: 6.2
// Micro-benchmarks for tokenmint's hot path, kept out of the main build (and out of CI's test run).
// Run: cd Benchmarks && swift package --disable-sandbox benchmark
import PackageDescription

let package = Package(
    name: "Benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // Named explicitly: a path package is otherwise known by its folder name, which differs between clones.
        .package(name: "tokenmint", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "TokenMintBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "TokenMint", package: "tokenmint"),
                .product(name: "TokenMintServer", package: "tokenmint"),
            ],
            path: "Benchmarks/TokenMintBenchmarks",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark")
            ]
        )
    ]
)
