/// The client ID and secrets every test suite uses, kept once: unit tests, the live server and the real binary
/// agree on them, so a token minted in one suite's setup verifies in another's assertions.
///
/// - Important: Test values only; long enough for every minimum (32 bytes, 64 for HS512 callers).
public enum TestSecrets {
    public static let clientID = "3458764500000000001"
    public static let clientSecret = "client-secret-0123456789abcdef-0123456789"
    public static let callerSecret = "caller-secret-0123456789abcdef-0123456789"
    /// 64 bytes: enough for an HS512 caller secret.
    public static let longCallerSecret = String(repeating: "k", count: 64)
}
