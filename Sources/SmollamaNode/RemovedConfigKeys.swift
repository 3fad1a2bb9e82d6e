import Yams

extension ConfigLoader {
    /// Keys that were settings once and are gone, each with what to do instead; an old config
    /// that still sets one stops with this sentence rather than a bare "unknown key".
    static let removedKeys: [(path: [String], problem: String)] = [
        (["memory", "utc_offset_minutes"],
         "was removed: local time comes from node.timezone (an IANA name such as Europe/Berlin, with "
            + "daylight saving). Delete memory.utc_offset_minutes and set node.timezone instead"),
    ]

    /// Refuses the first removed key `root` sets (from the file, a variable or `--set`).
    static func rejectRemovedKeys(_ root: Node, file: String) throws {
        for (path, problem) in removedKeys {
            var node: Node? = root
            for part in path { node = node?.mapping?[part] }
            if node != nil {
                throw NodeError.invalidConfig(path: file, key: path.joined(separator: "."), problem: problem)
            }
        }
    }
}
