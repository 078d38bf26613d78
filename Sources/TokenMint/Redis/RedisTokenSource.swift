import CoreMetrics
import Crypto
import Logging
import Synchronization

/// The shared token: one per window for the whole fleet, agreed through Redis (DESIGN.md, "The shared token and how
/// replicas agree on it"). The lock decisions are ``SharedRefreshStateMachine``'s, when to try and what to do after
/// a failure are ``RefreshPolicy``'s; this type performs one attempt and reports what it came to.
///
/// An attempt reads the token from Redis and adopts it when it verifies with our own secret, has times this fleet
/// mints (``TokenTiming/isPlausible(_:at:)``) and is fresh (``TokenTiming/isFresh(_:at:)``). Otherwise it takes the
/// lock (`SET lock owner NX PX 2000`), reads again, mints, stores the token with its expiry and releases the lock only
/// if it still owns it (compare-and-delete script). A replica that loses the lock keeps serving what it holds (the
/// refresher's cache is untouched) and re-reads every 50 ms ± 10 ms until the lock has expired, then starts over: a
/// dead winner's lock is gone by then.
///
/// - Important: Nothing read from Redis is served unless ``MiroTokenSigner/verify(_:)`` accepts it. Every failure
///   (down, slow, refusing, TLS, answering nonsense) is counted and reported as ``SharedAttempt/failed(_:)``; this
///   source never throws and never retries by itself.
public final class RedisTokenSource: SharedTokenStore {
    /// How long a lock lives: long enough to mint and store (milliseconds), short enough that a dead winner costs
    /// little.
    public static let lockTTL: Duration = .seconds(2)
    /// A loser's re-read interval, jittered by ± ``rereadJitter``.
    public static let rereadInterval: Duration = .milliseconds(50)
    public static let rereadJitter: Duration = .milliseconds(10)
    /// Lock rounds per attempt before giving up on Redis for this attempt (each round lasts at most ``lockTTL``).
    public static let maximumLockRounds = 3

    /// Compare-and-delete: releases the lock only for its owner, so a winner that outlived its lock never frees the
    /// next winner's.
    static let releaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end
        """
    static let releaseScriptSHA: String = {
        Hex.encode(Insecure.SHA1.hash(data: Array(releaseScript.utf8)))
    }()

    let connection: any RedisConnection
    let keys: SharedTokenKeys
    let signer: MiroTokenSigner
    let minter: TokenMinter
    let timing: TokenTiming
    let metrics: RedisMetrics
    let logger: Logger
    let clock: any RefreshClock
    let owner: String
    /// Seeds each attempt's re-read jitter.
    private let random: Mutex<SeededRandom>
    /// Test hook: sleep this long after taking the lock and before minting, so a test can kill the lock holder.
    let holdLockForTesting: Duration?

    /// - Parameter random: draws the lock owner's name and the re-read jitter (seeded, in tests and simulations).
    public init(
        connection: any RedisConnection,
        signer: MiroTokenSigner,
        secret: Secret,
        timing: TokenTiming,
        tokenMetrics: TokenMetrics,
        redisMetrics: RedisMetrics,
        logger: Logger,
        clock: any RefreshClock = SystemRefreshClock(),
        random: SeededRandom = SeededRandom(),
        holdLockForTesting: Duration? = nil
    ) {
        self.connection = connection
        self.keys = SharedTokenKeys(clientID: signer.clientID, secret: secret)
        self.signer = signer
        self.minter = TokenMinter(signer: signer, timing: timing, metrics: tokenMetrics)
        self.timing = timing
        self.metrics = redisMetrics
        self.logger = logger
        self.clock = clock
        var generator = random
        self.owner = Hex.encode((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
        self.random = Mutex(generator)
        self.holdLockForTesting = holdLockForTesting
    }

    public func attempt() async -> SharedAttempt {
        do {
            return try await shared()
        } catch let failure as StoreFailed {
            // Minted under the lock but Redis failed before it was stored: that token is served, not another.
            count(failure.error)
            return .storeFailed(failure.token, failure.error)
        } catch let error as RedisError {
            count(error)
            return .failed(error)
        } catch {
            // Cancelled (shutdown) while waiting on the lock.
            return .failed(RedisError(.io, "cancelled"))
        }
    }

    private func count(_ error: RedisError) {
        metrics.errors.increment()
        if error.kind == .tls { metrics.tlsFailures.increment() }
    }

    // MARK: The algorithm

    /// Drives ``SharedRefreshStateMachine``: performs each action it asks for and reports the outcome. Bounded: the
    /// machine ends within ``maximumLockRounds`` rounds of at most ``lockTTL`` each.
    private func shared() async throws -> SharedAttempt {
        var machine = SharedRefreshStateMachine(
            owner: owner,
            lockTTL: Self.lockTTL,
            rereadInterval: Self.rereadInterval,
            rereadJitter: Self.rereadJitter,
            maximumRounds: Self.maximumLockRounds,
            seed: random.withLock { $0.next() }
        )
        var action = machine.start()
        var heldLock: String?
        do {
            while true {
                switch action {
                case .read:
                    action = machine.readFinished(fresh: try await readFresh(), now: clock.now())
                case .takeLock(let lockOwner):
                    let reply = try await send(
                        ["SET", keys.lock, lockOwner, "NX", "PX", "\(Self.lockTTL.milliseconds)"])
                    let taken: Bool
                    switch reply {
                    case .status("OK"): taken = true
                    case .null: taken = false
                    default: throw RedisError(.reply, "unexpected reply to SET NX")
                    }
                    if taken { heldLock = lockOwner }
                    action = machine.lockFinished(taken: taken, now: clock.now())
                case .wait(let delay):
                    try await clock.sleep(for: delay)
                    action = machine.waitFinished()
                case .adopt(let token):
                    return .adopted(token)
                case .releaseAndAdopt(let token, let lockOwner):
                    heldLock = nil
                    try await release(owner: lockOwner)
                    return .adopted(token)
                case .mintAndStore(let lockOwner):
                    heldLock = nil
                    return .stored(try await mintAndStore(owner: lockOwner))
                case .giveUp(let error):
                    throw error
                }
            }
        } catch {
            if let heldLock { try? await release(owner: heldLock) }
            throw error
        }
    }

    /// Mints, stores the token with its remaining life as the key's expiry, and releases the lock.
    private func mintAndStore(owner lockOwner: String) async throws -> MiroToken {
        if let holdLockForTesting {
            do {
                try await clock.sleep(for: holdLockForTesting)
            } catch {
                try? await release(owner: lockOwner)
                throw error
            }
        }
        let token = minter.mint(now: clock.now())
        do {
            let lifeMilliseconds = Int((token.remaining(at: clock.now()) * 1000).rounded(.down))
            let stored = try await send(["SET", keys.token, token.compact, "PX", "\(max(1, lifeMilliseconds))"])
            guard stored == .status("OK") else { throw RedisError(.reply, "unexpected reply to SET") }
        } catch let error as RedisError {
            try? await release(owner: lockOwner)
            throw StoreFailed(token: token, error: error)
        }
        logger.info(
            "minted the fleet's token",
            metadata: ["token": "\(token.fingerprint)", "expires_at": "\(token.expiresAt)"]
        )
        do {
            try await release(owner: lockOwner)
        } catch {
            // The token is stored; an unreleased lock only delays the next refresh by its TTL.
            metrics.errors.increment()
            logger.warning("redis: could not release the lock", metadata: ["error": "\(error)"])
        }
        return token
    }

    /// The token was minted under the lock, but storing it failed.
    struct StoreFailed: Error {
        let token: MiroToken
        let error: RedisError
    }

    /// GET the token; the verified token when it is fresh, nil when absent, stale, or not ours.
    private func readFresh() async throws -> MiroToken? {
        let reply = try await send(["GET", keys.token], passing: "WRONGTYPE")
        switch reply {
        case .null:
            return nil
        case .error:
            // Another type under our key (a hash, a list): never served, like garbage, and replaced under the lock
            // (SET replaces any type). Treated as a Redis failure, it kept the whole fleet degraded instead.
            metrics.errors.increment()
            logger.warning("redis: ignoring a value of another type under the token key")
            return nil
        case .bulk(let bytes):
            guard let text = String(validating: bytes, as: UTF8.self), let token = signer.verify(text) else {
                // Forged, garbage, or signed with another secret: never served. Counted and overwritten under the
                // lock by this refresh.
                metrics.errors.increment()
                logger.warning(
                    "redis: ignoring a value under the token key that fails verification",
                    metadata: ["value": "\(Fingerprint.of(bytes))"]
                )
                return nil
            }
            let now = clock.now()
            guard timing.isPlausible(token, at: now) else {
                // Well signed, but with times no replica of this fleet mints (a week-long exp, an iat ahead): never
                // adopted, and overwritten under the lock like garbage, so it cannot stop the fleet refreshing.
                metrics.errors.increment()
                logger.warning(
                    "redis: ignoring a token under the token key whose times this fleet never mints",
                    metadata: [
                        "token": "\(token.fingerprint)", "iat": "\(token.issuedAt)", "exp": "\(token.expiresAt)",
                    ]
                )
                return nil
            }
            guard timing.isFresh(token, at: now) else { return nil }
            metrics.adopted.increment()
            return token
        default:
            throw RedisError(.reply, "unexpected reply to GET")
        }
    }

    private func release(owner lockOwner: String) async throws {
        let reply = try await send(["EVALSHA", Self.releaseScriptSHA, "1", keys.lock, lockOwner], passing: "NOSCRIPT")
        if case .error = reply {
            _ = try await send(["EVAL", Self.releaseScript, "1", keys.lock, lockOwner])
        }
    }

    /// One command; an error reply becomes a ``RedisError``, except one starting with `passing`, which the caller
    /// handles (`NOSCRIPT` for ``release(owner:)``, `WRONGTYPE` for ``readFresh()``).
    private func send(_ arguments: [String], passing: String? = nil) async throws -> RedisReply {
        let reply = try await connection.send(arguments)
        if case .error(let message) = reply, passing.map({ !message.hasPrefix($0) }) ?? true {
            throw Self.refusal(message)
        }
        return reply
    }

    static func refusal(_ message: String) -> RedisError {
        if message.hasPrefix("NOAUTH") {
            return RedisError(
                .authentication,
                "the server requires a password: set REDIS_PASSWORD (or put it in REDIS_URL)"
            )
        }
        if message.hasPrefix("WRONGPASS") || message.hasPrefix("NOPERM") || message.contains("invalid password") {
            return RedisError(.authentication, message)
        }
        return RedisError(.reply, message)
    }
}
