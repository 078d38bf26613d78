import Foundation
import Testing
import TokenMintTesting

@testable import TokenMint

/// Reload decisions without I/O (the state machine, what a change rebuilds) and the caller secret's grace window on
/// a made-up clock; `WatchedFiles` against files swapped the way the kubelet swaps them.
@Suite struct SecretReloadTests {
    static func files(_ pairs: [String: String?]) -> WatchedFiles {
        WatchedFiles(digests: pairs.mapValues { $0.map { Array($0.utf8) } })
    }

    @Test func pollsReloadOnlyWhenTheFilesDifferFromWhatWasAppliedOrRefused() {
        let started = Self.files(["MIRO_CLIENT_SECRET_FILE": "a"])
        var machine = SecretReloadStateMachine(applied: started)
        #expect(machine.observe(started, trigger: .poll) == .nothing)

        let rotated = Self.files(["MIRO_CLIENT_SECRET_FILE": "b"])
        #expect(machine.observe(rotated, trigger: .poll) == .reload(changedFiles: ["MIRO_CLIENT_SECRET_FILE"]))
        machine.failed(rotated)
        #expect(machine.observe(rotated, trigger: .poll) == .nothing, "a refused set is not retried every poll")
        #expect(
            machine.observe(rotated, trigger: .signal) == .reload(changedFiles: ["MIRO_CLIENT_SECRET_FILE"]),
            "SIGHUP retries"
        )

        let fixed = Self.files(["MIRO_CLIENT_SECRET_FILE": "c"])
        #expect(machine.observe(fixed, trigger: .poll) == .reload(changedFiles: ["MIRO_CLIENT_SECRET_FILE"]))
        machine.reloaded(fixed)
        #expect(machine.observe(fixed, trigger: .poll) == .nothing)
        #expect(
            machine.observe(started, trigger: .poll) == .reload(changedFiles: ["MIRO_CLIENT_SECRET_FILE"]),
            "rotating back"
        )
    }

    @Test func aChangedOrVanishedKeyFileIsACallerKeyChange() {
        let started = Self.files(["CALLER_JWT_JWKS_FILE": "keys-1", "MIRO_CLIENT_SECRET_FILE": "a"])
        var machine = SecretReloadStateMachine(applied: started)
        let newKeys = Self.files(["CALLER_JWT_JWKS_FILE": "keys-2", "MIRO_CLIENT_SECRET_FILE": "a"])
        #expect(machine.observe(newKeys, trigger: .poll) == .reload(changedFiles: ["CALLER_JWT_JWKS_FILE"]))
        let unreadable = Self.files(["CALLER_JWT_JWKS_FILE": String?.none, "MIRO_CLIENT_SECRET_FILE": "a"])
        #expect(machine.observe(unreadable, trigger: .poll) == .reload(changedFiles: ["CALLER_JWT_JWKS_FILE"]))
    }

    @Test func aChangeRebuildsOnlyWhatItTouches() {
        let old = Fixtures.settings()
        var new = old
        #expect(SettingsChange(from: old, to: new, changedFiles: []).isEmpty)

        new.clientSecret = Secret(String(repeating: "n", count: 40))
        var change = SettingsChange(from: old, to: new, changedFiles: [])
        #expect(change.clientSecret && change.rebuildsTokenSource && change.rebuildsVerifier)
        #expect(change.names == ["MIRO_CLIENT_SECRET"])

        new = old
        new.caller.hmacSecret = Secret(String(repeating: "m", count: 40))
        change = SettingsChange(from: old, to: new, changedFiles: [])
        #expect(change.callerSecret && change.rebuildsVerifier && !change.rebuildsTokenSource)

        new = old
        new.redis = RedisSettings(host: "127.0.0.1", password: Secret("new-password"))
        change = SettingsChange(from: old, to: new, changedFiles: [])
        #expect(change.redis && change.rebuildsTokenSource && !change.rebuildsVerifier)

        change = SettingsChange(from: old, to: old, changedFiles: ["CALLER_JWT_PUBLIC_KEY_FILE"])
        #expect(change.callerKeys && change.rebuildsVerifier && !change.rebuildsTokenSource)

        change = SettingsChange(from: old, to: old, changedFiles: ["CALLER_JWT_CA_FILE"])
        #expect(change.callerKeyTrust && !change.rebuildsVerifier && !change.rebuildsTokenSource && !change.isEmpty)
        #expect(change.names == ["identity provider CA"])
        #expect(WatchedFiles.variables.contains("CALLER_JWT_CA_FILE"))

        change = SettingsChange(from: old, to: old, changedFiles: ["REDIS_TLS_CERT_FILE", "REDIS_TLS_KEY_FILE"])
        #expect(change.redis && change.rebuildsTokenSource && !change.rebuildsVerifier)
    }

    @Test func theReloadSettingsAreBoundedAndNamed() throws {
        var environment = [
            "MIRO_CLIENT_ID": Fixtures.clientID, "MIRO_CLIENT_SECRET": Fixtures.clientSecret,
            "CALLER_JWT_HS256_SECRET": Fixtures.callerSecret,
        ]
        let defaults = try Settings.load(environment: environment).reload
        #expect(defaults == ReloadSettings(intervalSeconds: 10, callerSecretGraceSeconds: 3600))
        environment["SECRET_RELOAD_SECONDS"] = "ten"
        #expect(throws: SettingsError("SECRET_RELOAD_SECONDS", "must be a whole number")) {
            try Settings.load(environment: environment)
        }
        environment["SECRET_RELOAD_SECONDS"] = "0"
        environment["CALLER_SECRET_ROTATION_GRACE_SECONDS"] = "100000"
        #expect(throws: SettingsError("CALLER_SECRET_ROTATION_GRACE_SECONDS", "must be from 0 to 86400")) {
            try Settings.load(environment: environment)
        }
    }

    // MARK: The caller secret's grace window

    static let oldSecret = Fixtures.callerSecret
    static let newSecret = "caller-secret-rotated-0123456789abcdef-01"

    static func token(secret: String, now: Double) -> String {
        "Bearer " + TestJWT.hmac(header: #"{"alg":"HS256"}"#, claims: TestJWT.claims(now: now), secret: secret)
    }

    static func accepted(_ outcome: CallerVerifier.Outcome) -> String? {
        if case .accepted(let caller) = outcome { return caller.verifier }
        return nil
    }

    @Test func thePreviousCallerSecretPassesUntilItsGraceEnds() async throws {
        let now = Date().timeIntervalSince1970
        let holder = CallerVerifierHolder(try await CallerVerifier.make(settings: Fixtures.settings()))
        let newSettings = Fixtures.settings(caller: CallerSettings(hmacSecret: Secret(Self.newSecret)))
        holder.replace(with: try await CallerVerifier.make(settings: newSettings), previousSecretPassesUntil: now + 60)

        let verifier = holder.current
        #expect(
            Self.accepted(verifier.verify(authorization: Self.token(secret: Self.newSecret, now: now), now: now))
                == "hmac"
        )
        #expect(
            Self.accepted(verifier.verify(authorization: Self.token(secret: Self.oldSecret, now: now), now: now))
                == "hmac-previous"
        )
        let later = now + 61
        let old = verifier.verify(authorization: Self.token(secret: Self.oldSecret, now: later), now: later)
        guard case .rejected(let rejection) = old else {
            Issue.record("the previous secret passed after its grace: \(old)")
            return
        }
        #expect(rejection.kind == .signature)
        let forged = verifier.verify(
            authorization: Self.token(secret: String(repeating: "f", count: 40), now: now),
            now: now
        )
        #expect(Self.accepted(forged) == nil, "a third secret never passes")
    }

    @Test func aReloadThatLeavesTheSecretAloneKeepsTheGraceRunning() async throws {
        let now = Date().timeIntervalSince1970
        let holder = CallerVerifierHolder(try await CallerVerifier.make(settings: Fixtures.settings()))
        let newSettings = Fixtures.settings(caller: CallerSettings(hmacSecret: Secret(Self.newSecret)))
        holder.replace(with: try await CallerVerifier.make(settings: newSettings), previousSecretPassesUntil: now + 60)
        // Say the client secret changed next: the verifier is rebuilt with the same caller secret.
        holder.replace(with: try await CallerVerifier.make(settings: newSettings), previousSecretPassesUntil: nil)
        #expect(
            Self.accepted(holder.current.verify(authorization: Self.token(secret: Self.oldSecret, now: now), now: now))
                == "hmac-previous"
        )
        // A zero grace drops the previous secret at once.
        holder.replace(
            with: try await CallerVerifier.make(settings: Fixtures.settings()),
            previousSecretPassesUntil: now
        )
        #expect(
            Self.accepted(holder.current.verify(authorization: Self.token(secret: Self.newSecret, now: now), now: now))
                == nil
        )
    }

    @Test func aReaderSeesEveryReplacementAndKeepsItsVerifierBetween() async throws {
        let now = Date().timeIntervalSince1970
        let holder = CallerVerifierHolder(try await CallerVerifier.make(settings: Fixtures.settings()))
        var reader = CallerVerifierHolder.Reader()
        let first = reader.current(from: holder)
        #expect(first === holder.current)
        #expect(reader.current(from: holder) === first, "no replacement, the same verifier")

        let newSettings = Fixtures.settings(caller: CallerSettings(hmacSecret: Secret(Self.newSecret)))
        holder.replace(with: try await CallerVerifier.make(settings: newSettings), previousSecretPassesUntil: nil)
        let second = reader.current(from: holder)
        #expect(second !== first)
        #expect(second === holder.current)
        #expect(
            Self.accepted(second.verify(authorization: Self.token(secret: Self.newSecret, now: now), now: now))
                == "hmac"
        )
        #expect(
            Self.accepted(second.verify(authorization: Self.token(secret: Self.oldSecret, now: now), now: now)) == nil
        )
    }

    // MARK: Files swapped as the kubelet swaps them

    @Test func aSymlinkSwapReadsAsNewBytes() throws {
        let mount = try KubeletMount(files: ["secret": "first-secret-0123456789abcdef-0123456789"])
        defer { mount.remove() }
        let environment = ["MIRO_CLIENT_SECRET_FILE": mount.path("secret")]
        let before = WatchedFiles.read(environment: environment)
        #expect(WatchedFiles.read(environment: environment) == before)
        try mount.update(["secret": "second-secret-0123456789abcdef-012345678"])
        let after = WatchedFiles.read(environment: environment)
        #expect(after.changed(from: before) == ["MIRO_CLIENT_SECRET_FILE"])
    }
}
