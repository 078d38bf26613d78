/// Redis Sentinel: whom to ask for the primary, under which name, and how to authenticate to them.
///
/// - Important: The sentinels' password is not the primary's (`REDIS_SENTINEL_PASSWORD` against
///   `REDIS_PASSWORD`): Bitnami's chart and most operators set both, often to different values.
public struct RedisSentinelSettings: Sendable, Equatable {
    /// `REDIS_SENTINELS`, in the operator's order: asked in turn, the last one that answered first.
    public var sentinels: [RedisNodeAddress]
    /// `REDIS_SENTINEL_MASTER`: the name in the sentinels' `sentinel monitor` line (`mymaster`).
    public var masterName: String
    /// `REDIS_SENTINEL_PASSWORD[_FILE]`; nil sends no `AUTH` to the sentinels.
    public var password: Secret?

    public init(sentinels: [RedisNodeAddress], masterName: String, password: Secret? = nil) {
        self.sentinels = sentinels
        self.masterName = masterName
        self.password = password
    }

    /// Parses `REDIS_SENTINELS`: `host:port[,host:port...]`, duplicates dropped.
    ///
    /// - Throws: ``SettingsError`` naming `REDIS_SENTINELS` (an entry without a port, an empty entry).
    public static func parseSentinels(_ raw: String) throws -> [RedisNodeAddress] {
        var sentinels: [RedisNodeAddress] = []
        for entry in raw.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = Substring(entry.trimmingWhitespace())
            guard let address = RedisNodeAddress.parse(trimmed) else {
                throw SettingsError(
                    "REDIS_SENTINELS",
                    "each comma-separated entry must be host:port (the port is required, 1 to 65535)"
                )
            }
            if !sentinels.contains(address) { sentinels.append(address) }
        }
        return sentinels
    }

    /// Checks `REDIS_SENTINEL_MASTER`: a name Sentinel accepts (no spaces, no control characters).
    public static func checkMasterName(_ name: String?) throws -> String {
        guard let name, !name.isEmpty else {
            throw SettingsError(
                "REDIS_SENTINEL_MASTER",
                "is required with REDIS_SENTINELS and must not be empty (the name in `sentinel monitor`, e.g. mymaster)"
            )
        }
        guard name.utf8.count <= 200, name.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0.asciiValue! >= 0x21 })
        else {
            throw SettingsError("REDIS_SENTINEL_MASTER", "must be a name without spaces (e.g. mymaster)")
        }
        return name
    }
}
