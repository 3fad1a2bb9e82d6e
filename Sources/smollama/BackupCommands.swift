import ArgumentParser
import Foundation
import Logging
import SmollamaCore
import SmollamaNode
import SmollamaStore
import SmollamaSync

/// `smollama backup FILE`: a consistent copy of the store (also while the daemon runs) with the
/// identity, key, hub enrollment and config, in one .tar.gz.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write the store, identity and config to one compressed file (safe while the node runs).",
        discussion: "Restore it with `smollama restore FILE`. The file is a .tar.gz: `tar -tzf FILE` lists it.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The file to write, e.g. /mnt/usb/smollama.tar.gz.") var file: String
    @Flag(help: "Print the result as JSON (no progress line).") var json = false

    func run() async throws {
        try await userFacing {
            let runtime = try await global.openNode()
            let path = file.hasPrefix("/") ? file : FileManager.default.currentDirectoryPath + "/" + file
            let interactive = Terminal.stderrIsTerminal && !json
            let report = try NodeBackup.create(runtime: runtime, to: path, now: Int64(Date().timeIntervalSince1970 * 1000)) { step in
                guard interactive else { return }
                let line = switch step {
                case .copyingStore(let pages, let total): "copying the store: \(pages)/\(total) pages"
                case .compressing(let bytes, let total): "compressing: \(bytes >> 20)/\(total >> 20) MiB"
                }
                FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
            }
            if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            if json { return try printJSON(report) }
            print("backup of node \(report.nodeID.short) written to \(report.file): "
                  + "\(ModelsCommand.bytes(report.bytes)) (store \(ModelsCommand.bytes(report.storeBytes)) before compression)")
        }
    }
}

/// `smollama restore FILE [--force]`: checks the archive, puts it in place, then syncs once so
/// the node numbers past what the hub holds and gets back what the hub has of it.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a node (or hub) from a file written by `smollama backup`.",
        discussion: """
            Refuses while the node runs, and over an existing node without --force. An enrolled \
            node then syncs once, so it never reuses ids the hub holds and pulls back its own \
            memories and observations that are newer than the backup. Until such a sync has \
            succeeded (the hub unreachable, or --no-sync), `smollama run` waits for the hub \
            before writing anything.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The file written by `smollama backup`.") var file: String
    @Flag(help: "Replace the node already in the home directory.") var force = false
    @Flag(help: "Do not sync with the hub now; the daemon then syncs first and writes nothing until that succeeded.") var noSync = false
    @Flag(help: "Print the result as JSON.") var json = false

    struct Body: Encodable {
        var restored: NodeBackup.Restored
        var synced: Bool
        var recovered: Int
        var syncError: String?

        enum CodingKeys: String, CodingKey {
            case restored, synced, recovered
            case syncError = "sync_error"
        }
    }

    func run() async throws {
        try await userFacing {
            let path = file.hasPrefix("/") ? file : FileManager.default.currentDirectoryPath + "/" + file
            let restored = try NodeBackup.restore(archive: path, home: global.resolvedHome, environment: global.environment,
                                                  force: force)
            var body = Body(restored: restored, synced: false, recovered: 0)
            let runtime = try await global.openNode()
            let enrolledNode = restored.enrolled && runtime.config.node.role != .llama
            // Until a sync round moves the counters past the hub's marks, the daemon writes nothing.
            if enrolledNode { try await runtime.database.meta.setRestorePending(UTCMillis(rawValue: Int64(Date().timeIntervalSince1970 * 1000))) }
            if enrolledNode && !noSync {
                do {
                    let client = try SyncWiring.commandClient(runtime: runtime, logger: quietLogger())
                    let report = try await client.syncOnce()
                    body.synced = true
                    body.recovered = report.pulled
                } catch {
                    body.syncError = "\(error)"
                }
            }
            if json { return try printJSON(body) }
            print("restored \(restored.role == "llama" ? "hub" : "node") \(restored.nodeID.short) (\(Terminal.inert(restored.name))) "
                  + "into \(restored.home), from a backup of \(Terminal.timestamp(UTCMillis(rawValue: restored.createdAt)))")
            if body.synced {
                print("synced with the hub: numbering continues past what it holds; \(body.recovered) events pulled back")
            } else if let error = body.syncError {
                print(Terminal.wrap(Terminal.inert(
                    "could not sync with the hub (\(error)). Until a sync succeeds (`smollama sync`, or the daemon's own first round), `smollama run` writes nothing: new readings would reuse ids the hub already holds."),
                    head: "warning: "))
            } else if enrolledNode {
                print("not synced (--no-sync): `smollama run` writes nothing until its first sync with the hub succeeds (or run `smollama sync`)")
            }
        }
    }
}
