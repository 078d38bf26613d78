/// The two Redis keys of one fleet's shared token.
///
/// `tokenmint:{<client id>}:<secret fingerprint>:token` and `...:lock`. The braces are a Redis Cluster hash tag, so
/// both keys land in the same slot; the fingerprint (a short one-way hash of the signing secret) means a replica
/// with a rotated secret never even reads a token signed with the old one.
public struct SharedTokenKeys: Sendable, Equatable {
    public let token: String
    public let lock: String

    public init(clientID: String, secret: Secret) {
        let prefix = "tokenmint:{\(clientID)}:\(secret.fingerprint)"
        token = prefix + ":token"
        lock = prefix + ":lock"
    }
}
