import Foundation
import Logging
import SmollamaCore
import SmollamaStore

/// Readings deleted before the hub held them, declared with `store.compacted` markers so the hub
/// records a deliberate gap instead of waiting for data that is gone.
extension SyncClient {
    /// Under disk pressure (less than `minFreeBytes` free), deletes the oldest rolled-up raw
    /// readings — also ones the hub has not acknowledged — `chunk` at a time, with a
    /// `store.compacted` marker in the same transaction, so the hub knows the gap is deliberate.
    /// Rollups and events are never deleted here. Returns the range removed, if any.
    @discardableResult
    public func relieveDiskPressure(minFreeBytes: Int64, freeBytes: Int64?, chunk: Int64 = 100_000) async throws -> SeqRange? {
        guard let freeBytes, freeBytes < minFreeBytes, let oldest = try await database.nodeSync.oldestReadingID() else { return nil }
        let range = try await database.nodeSync.compactUnsyncedReadings(
            upTo: oldest + chunk - 1, origin: node, stamp: await markerStamp(),
            reason: "disk pressure: \(freeBytes) bytes free, below \(minFreeBytes)").map { SeqRange(from: $0.lowerBound, to: $0.upperBound) }
        if let range {
            logger.warning("disk pressure: raw readings compacted to rollups before the hub had them",
                           metadata: ["smollama.sync.from": "\(range.from)", "smollama.sync.to": "\(range.to)"])
        }
        return range
    }

    /// Readings deleted before the hub held them (a hub restored from an older backup after
    /// retention ran): declared with a `store.compacted` marker, so the hub accepts the gap.
    func declareLostReadings(mark: StreamMark?) async throws {
        let hubMark = mark?.mark ?? 0
        let local = try await database.nodeSync.localMax(origin: node, stream: .readings)
        guard local > hubMark else { return }
        let oldest = try await database.nodeSync.oldestReadingID() ?? (local + 1)
        guard oldest > hubMark + 1 else { return }
        if let gaps = mark?.gaps, gaps.contains(where: { $0.from <= hubMark + 1 && $0.to >= oldest - 1 }) { return }
        // A marker written here (disk pressure) but not yet on the hub covers it too.
        let declared = try await database.events.fetch(origin: node, stream: .control, limit: 100_000)
            .compactMap { event -> CompactedMarker? in
                guard case .compacted(let marker) = try? event.body else { return nil }
                return marker
            }
        if declared.contains(where: { $0.stream == .readings && $0.fromSeq <= hubMark + 1 && $0.toSeq >= oldest - 1 }) {
            return
        }
        let marker = CompactedMarker(stream: .readings, fromSeq: hubMark + 1, toSeq: oldest - 1,
                                     reason: "deleted after an acknowledgement the hub no longer holds")
        let stamp = await markerStamp()
        logger.warning("declaring readings the hub lost as compacted",
                       metadata: ["smollama.sync.from": "\(marker.fromSeq)", "smollama.sync.to": "\(marker.toSeq)"])
        try await database.nodeSync.appendCompactionMarker(marker, origin: node, stamp: stamp)
    }
}
