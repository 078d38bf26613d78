/// What one attempt at the shared store came to: what happened, never what to do next (``RefreshPolicy`` decides).
public enum SharedAttempt: Sendable, Equatable {
    /// The fleet's token, verified and fresh.
    case adopted(MiroToken)
    /// This replica took the lock, minted this token and stored it: it is the fleet's token now.
    case stored(MiroToken)
    /// This replica minted this token under the lock, but storing it failed: it is this replica's own.
    case storeFailed(MiroToken, RedisError)
    /// The store could not be used (down, slow, refusing, TLS failing, the lock never freed).
    case failed(RedisError)
}

/// A store that replicas share their token through (Redis), as the refresher needs it.
///
/// - Important: ``attempt()`` never throws and is bounded (every call of the store is): a failure is reported as
///   ``SharedAttempt/failed(_:)`` and the replica mints on its own. No request ever fails because of the store.
public protocol SharedTokenStore: Sendable {
    /// Reads the fleet's token and adopts it, or takes the lock and mints and stores one (DESIGN.md, "The shared
    /// token and how replicas agree on it").
    func attempt() async -> SharedAttempt
}
