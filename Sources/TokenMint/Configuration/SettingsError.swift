/// A setting that stops startup.
///
/// - Important: ``description`` names the variable and what is wrong with it, never its value: the value may be a
///   secret, and an operator reading a crash-looping pod's log must not learn it there.
public struct SettingsError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The environment variable at fault, as the operator spells it (`TOKEN_TTL_SECONDS`).
    public let variable: String
    /// What is wrong, phrased to follow the variable's name.
    public let problem: String

    public init(_ variable: String, _ problem: String) {
        self.variable = variable
        self.problem = problem
    }

    public var description: String { "\(variable): \(problem)" }
}
