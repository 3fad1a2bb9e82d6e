import Foundation

/// Where sqlite-vec's `vec0.so` is on this machine: setup installs it in the runtime cache
/// beside llama-server and the models, so the cache layout's owner finds it.
public enum VectorExtensionFile {
    /// Where sqlite-vec's `vec0.so` is: `SMOLLAMA_VEC0` if set, else what scripts/setup-llm.sh
    /// installs under the cache (`$SMOLLAMA_CACHE` or ~/.cache/smollama): `lib/vec0.so`, then the
    /// venv's `sqlite_vec` package; nil when none exists.
    public static func locate(environment: [String: String], cacheDirectory: String? = nil) -> String? {
        let fileManager = FileManager.default
        if let explicit = environment["SMOLLAMA_VEC0"] {
            return explicit.isEmpty || !fileManager.fileExists(atPath: explicit) ? nil : explicit
        }
        let home = fileManager.homeDirectoryForCurrentUser.path
        let cache = cacheDirectory ?? environment["SMOLLAMA_CACHE"] ?? home + "/.cache/smollama"
        if fileManager.fileExists(atPath: cache + "/lib/vec0.so") { return cache + "/lib/vec0.so" }
        let lib = cache + "/venv/lib"
        for python in (try? fileManager.contentsOfDirectory(atPath: lib))?.sorted().reversed() ?? [] {
            let path = "\(lib)/\(python)/site-packages/sqlite_vec/vec0.so"
            if fileManager.fileExists(atPath: path) { return path }
        }
        return nil
    }
}
