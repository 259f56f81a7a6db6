/// A mistake in a zone configuration, with where it is: `file:line:column: what`.
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    public let file: String
    public let line: Int
    public let column: Int
    public let message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public init(file: String, at position: SourcePosition, _ message: String) {
        self.init(file: file, line: position.line, column: position.column, message: message)
    }

    public var description: String {
        line > 0 ? "\(file):\(line):\(column): \(message)" : "\(file): \(message)"
    }
}

/// All mistakes found in one configuration file.
public struct ConfigErrors: Error, CustomStringConvertible, Sendable {
    public let errors: [ConfigError]
    public init(_ errors: [ConfigError]) { self.errors = errors }
    /// One line per mistake.
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// A line and column in a configuration file, both starting at 1 (0 when unknown).
public struct SourcePosition: Hashable, Sendable {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
    public static let unknown = SourcePosition(line: 0, column: 0)
}
