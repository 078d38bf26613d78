/// A run that cannot start: a bad option, a key that does not parse, a target that never answers.
public struct LoadError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
