import Logging
import SmollamaCore
import SmollamaStore

/// Recovery of this node's own events (issue 17, restore from a backup; issue 18, a power cut):
/// the hub holds some of this node's memories or observations that its store lost, and sends
/// them back when asked with `PullRequest.own`.
extension SyncClient {
    /// Whether the hub accepts this node's signed requests (`smollama doctor`): the cheapest
    /// signed call there is, a pull of no streams, whose answer must be signed by the enrolled
    /// hub. Throws what a round would: `SyncClientError.refused` with 401/403 when the hub does
    /// not know this node's key or revoked it.
    public func checkAccepted() async throws {
        var report = SyncRoundReport()
        if timeAnchor == nil { try await refreshTime() }
        _ = try await call(SyncProtocol.Path.pull, PullRequest(node: node, streams: [], have: [], limit: 1),
                           as: PullResponse.self, report: &report)
    }

    /// Pulls back this node's own memories and observations that the hub holds and this store
    /// lost (restored from an older backup, or a power cut after the hub acknowledged them).
    /// Only numbers at or below the hub's mark, only this node's, only those streams.
    func recoverOwn(marks: [SyncStream: StreamMark], report: inout SyncRoundReport,
                    shouldStop: @Sendable () -> Bool) async throws -> Int {
        var recovered = 0
        for stream in SyncProtocol.pullableStreams {
            guard let mark = marks[SyncStream(stream)]?.mark, mark > 0 else { continue }
            while !shouldStop(), let start = try await database.nodeSync.ownRecoveryStart(origin: node, stream: stream, mark: mark) {
                let page = try await call(
                    SyncProtocol.Path.pull,
                    PullRequest(node: node, streams: [SyncStream(stream)],
                                have: [VersionEntry(origin: node, stream: SyncStream(stream), seq: start)],
                                limit: configuration.pullPageSize, own: true),
                    as: PullResponse.self, report: &report)
                // An older hub ignores `own` and answers with other nodes' events: recovery waits for its upgrade.
                if page.events.contains(where: { $0.origin != node }) {
                    logger.warning("the hub cannot send this node's own events back (an older hub); upgrade the hub to recover them")
                    return recovered
                }
                if let stray = page.events.first(where: { $0.stream != stream || $0.seq <= start || $0.seq > mark }) {
                    throw SyncClientError.badResponse(
                        path: SyncProtocol.Path.pull,
                        detail: "the recovery page holds \(stray.origin)/\(stray.stream.rawValue)/\(stray.seq), not one of this node's \(stream.rawValue) after \(start) up to \(mark); nothing was applied")
                }
                guard !page.events.isEmpty else { break }
                let applied = try await database.nodeSync.applyPulled(page.events)
                recovered += applied.inserted
                if applied.collisions > 0 {
                    logger.error("this node's events held by the hub differ from the ones held here",
                                 metadata: ["smollama.sync.collisions": "\(applied.collisions)"])
                }
                guard applied.inserted > 0 else { break }
            }
            if recovered > 0 {
                logger.notice("recovered this node's events from the hub",
                              metadata: ["smollama.sync.stream": "\(stream.rawValue)", "smollama.sync.recovered": "\(recovered)"])
            }
        }
        return recovered
    }
}
