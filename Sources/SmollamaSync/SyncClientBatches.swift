import Foundation
import SmollamaCore
import SmollamaStore

extension SyncClient {
    /// One push, ready to sign: its range, its JSON and (when large) that JSON deflated. The
    /// request itself is not kept: a batch on the wire holds only its bytes.
    struct Batch: Sendable {
        var fromSeq: Int64
        var toSeq: Int64
        var body: [UInt8]
        var deflated: [UInt8]?
    }

    /// The next batch of `stream` after `after`, read, encoded and deflated. Nonisolated: it runs
    /// beside the push on the wire (and beside the actor), so a catch-up's node side works while
    /// the hub applies. Memory: one batch being sent and this one.
    nonisolated func prepareBatch(stream: SyncStream, after: Int64) async throws -> Batch? {
        let request: PushRequest
        if let eventStream = stream.eventStream {
            let events = try await database.events.fetch(origin: node, stream: eventStream, afterSeq: after,
                                                         limit: configuration.maxEventsPerBatch)
            // Only the contiguous prefix: a batch never half-covers its range (seqs are contiguous
            // by construction; this guards against a damaged store).
            let contiguous = Array(events.enumerated().prefix { $0.element.seq == after + 1 + Int64($0.offset) }.map(\.element))
            guard let last = contiguous.last else { return nil }
            request = PushRequest(node: node, stream: stream, fromSeq: after + 1, toSeq: last.seq, events: contiguous, readings: nil)
        } else {
            guard let batch = try await database.nodeSync.readingBatch(after: after, limit: configuration.maxReadingsPerBatch),
                  let toSeq = batch.rows.last?.id
            else { return nil }
            request = PushRequest(node: node, stream: stream, fromSeq: after + 1, toSeq: toSeq, events: nil,
                                  readings: ReadingColumns(batch, after: after))
        }
        let toSeq = request.toSeq
        let body = try PushJSON.encode(request)
        return Batch(fromSeq: after + 1, toSeq: toSeq, body: body,
                     deflated: body.count > SyncSigning.compressAbove ? try Deflate.compress(body) : nil)
    }
}
