/// Errors a person running `smollama` can act on; each says what to do.
public enum NodeError: Error, CustomStringConvertible, Equatable {
    case notInitialised(home: String)
    case alreadyInitialised(home: String)
    case corruptIdentity(path: String, reason: String)
    case cannotWrite(path: String)
    case dataDirectoryNotWritable(path: String, reason: String)
    case configFileMissing(path: String)
    case invalidConfig(path: String, key: String, problem: String)
    case unknownDriver(key: String, name: String, known: [String])
    case invalidEnvironment(variable: String, problem: String)
    case invalidOverride(String)
    case alreadyRunning(pid: Int32?, home: String)

    public var description: String {
        switch self {
        case .notInitialised(let home):
            "no node at \(home): run `smollama init` first (or set SMOLLAMA_HOME / --home to an initialised node)"
        case .alreadyInitialised(let home):
            "a node already exists at \(home); its identity is kept. Use `smollama init --force` to replace the "
                + "configuration (the identity stays), or choose another SMOLLAMA_HOME"
        case .corruptIdentity(let path, let reason):
            "the node identity at \(path) is unreadable (\(reason)); restore it from a backup, or move the data "
                + "directory away and run `smollama init` to start as a new node"
        case .cannotWrite(let path):
            "cannot write \(path): check the directory exists and is writable by this user"
        case .dataDirectoryNotWritable(let path, let reason):
            "the data directory \(path) is not usable (\(reason)); create it or fix its permissions, or set "
                + "`data_dir` in the config"
        case .configFileMissing(let path):
            "no config file at \(path): run `smollama init` to create one, or pass --config PATH"
        case .invalidConfig(let path, let key, let problem):
            "\(path): key '\(key)': \(problem)"
        case .unknownDriver(let key, let name, let known):
            "key '\(key)': unknown sensor driver '\(name)'; known drivers: \(known.sorted().joined(separator: ", "))"
        case .invalidEnvironment(let variable, let problem):
            "environment variable \(variable): \(problem)"
        case .alreadyRunning(let pid, let home):
            "a smollama daemon is already running for \(home)" + (pid.map { " (pid \($0))" } ?? "")
                + "; stop it first, or give this one another SMOLLAMA_HOME"
        case .invalidOverride(let text):
            "--set '\(text)': write KEY=VALUE with a dotted key, e.g. --set store.batch_size=500"
        }
    }
}
