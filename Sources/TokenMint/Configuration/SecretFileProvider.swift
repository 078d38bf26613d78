import Configuration

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads `X` from the file named by `X_FILE`, the convention for Kubernetes Secret mounts.
///
/// swift-configuration has no such convention built in. This provider is consulted before the environment; it is
/// immutable (files are read once, at startup), so fetch and watch fall back to the library's helpers for immutable
/// providers. Values are trimmed of surrounding whitespace (a mounted file usually ends with a newline) and always
/// marked secret.
///
/// - Important: Setting both `X` and `X_FILE` is an error rather than a precedence rule, so a stale literal left in a
///   manifest cannot silently win over (or lose to) the mounted Secret.
public struct SecretFileProvider: ConfigProvider {
    private let snapshotValue: Snapshot

    /// - Parameters:
    ///   - names: the variables that may come from a file (`MIRO_CLIENT_SECRET`, ...).
    ///   - environment: the process environment.
    /// - Throws: ``SettingsError`` naming `X_FILE` when both forms are set, or the file is unreadable or empty.
    public init(names: [String], environment: [String: String]) throws {
        var values: [String: ConfigValue] = [:]
        for name in names {
            let fileVariable = name + "_FILE"
            guard let path = environment[fileVariable], !path.isEmpty else { continue }
            if let literal = environment[name], !literal.isEmpty {
                throw SettingsError(fileVariable, "both \(name) and \(fileVariable) are set; set only one")
            }
            let contents: String
            do {
                contents = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw SettingsError(fileVariable, "cannot read the file it names (\(path))")
            }
            let trimmed = contents.trimmingWhitespace()
            guard !trimmed.isEmpty else {
                throw SettingsError(fileVariable, "the file it names (\(path)) is empty")
            }
            values[name] = ConfigValue(.string(trimmed), isSecret: true)
        }
        self.snapshotValue = Snapshot(values: values)
    }

    public var providerName: String { Snapshot.name }

    public func value(forKey key: AbsoluteConfigKey, type: ConfigType) throws -> LookupResult {
        try snapshotValue.value(forKey: key, type: type)
    }

    public func fetchValue(forKey key: AbsoluteConfigKey, type: ConfigType) async throws -> LookupResult {
        try value(forKey: key, type: type)
    }

    public func watchValue<Return: ~Copyable>(
        forKey key: AbsoluteConfigKey,
        type: ConfigType,
        updatesHandler:
            nonisolated(nonsending) (
                _ updates: ConfigUpdatesAsyncSequence<Result<LookupResult, any Error>, Never>
            ) async throws -> Return
    ) async throws -> Return {
        try await watchValueFromValue(forKey: key, type: type, updatesHandler: updatesHandler)
    }

    public func snapshot() -> any ConfigSnapshot { snapshotValue }

    public func watchSnapshot<Return: ~Copyable>(
        updatesHandler:
            nonisolated(nonsending) (_ updates: ConfigUpdatesAsyncSequence<any ConfigSnapshot, Never>)
            async throws -> Return
    ) async throws -> Return {
        try await watchSnapshotFromSnapshot(updatesHandler: updatesHandler)
    }

    struct Snapshot: ConfigSnapshot {
        static let name = "SecretFileProvider"
        let values: [String: ConfigValue]
        var providerName: String { Self.name }

        func value(forKey key: AbsoluteConfigKey, type: ConfigType) throws -> LookupResult {
            // The same encoding as EnvironmentVariablesProvider: `miro.client.secret` is `MIRO_CLIENT_SECRET`.
            let encodedKey = key.components.joined(separator: "_").uppercased()
            guard let value = values[encodedKey], type == .string else {
                return LookupResult(encodedKey: encodedKey, value: nil)
            }
            return LookupResult(encodedKey: encodedKey, value: value)
        }
    }
}
