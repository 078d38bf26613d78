import Configuration

extension Settings {
    /// Reads settings the way the executable does: `X_FILE` files first, then the environment.
    ///
    /// - Throws: ``SettingsError`` for the first bad setting.
    public static func load(environment: [String: String], defaultLogFormat: LogFormat = .json) throws -> Settings {
        let files = try SecretFileProvider(names: fileBackedVariables, environment: environment)
        let reader = ConfigReader(providers: [
            files,
            EnvironmentVariablesProvider(
                environmentVariables: environment,
                secretsSpecifier: .specific(Set(fileBackedVariables))
            ),
        ])
        return try Settings(reader: reader, defaultLogFormat: defaultLogFormat)
    }
}
