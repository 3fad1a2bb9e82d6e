import Foundation
import SmollamaCore
import SmollamaStore

extension SyncHub {
    /// Applies one contiguous range in one transaction, committed with `synchronous=FULL`, and
    /// only then answers with the new durable mark. Everything is validated before the first
    /// write, so a bad batch changes nothing.
    func push(_ request: PushRequest, from node: NodeID) async throws -> PushResponse {
        guard request.node == node else {
            throw SyncRefusal.forbidden("origin_mismatch", "the batch names node \(request.node) but was signed by \(node); a node may only send its own data")
        }
        guard request.fromSeq >= 1, request.toSeq >= request.fromSeq, request.toSeq <= SyncProtocol.maxSeq else {
            throw SyncRefusal.bad("'fromSeq' must be ≥ 1 and 'toSeq' ≥ 'fromSeq' and ≤ \(SyncProtocol.maxSeq) (got \(request.fromSeq)…\(request.toSeq))")
        }
        let time = now()
        let incarnation = try await incarnation()
        guard let stream = request.stream.eventStream else {
            guard let columns = request.readings, request.events == nil else {
                throw SyncRefusal.bad("a readings batch carries 'readings' columns and no 'events'")
            }
            let batch = try Self.validate(columns, from: request.fromSeq, to: request.toSeq)
            let outcome = try await Self.continuing(request.stream) {
                try await database.hubSync.pushReadings(batch, origin: node, stream: request.stream, from: request.fromSeq,
                                                        to: request.toSeq, now: time, beforeCommit: beforeCommit)
            }
            return PushResponse(stream: request.stream, mark: outcome.mark, hubIncarnation: incarnation,
                                inserted: outcome.inserted, duplicates: outcome.duplicates, collisions: outcome.collisions)
        }
        guard let events = request.events, request.readings == nil else {
            throw SyncRefusal.bad("an event batch carries 'events' and no 'readings'")
        }
        guard events.count == request.toSeq - request.fromSeq + 1 else {
            throw SyncRefusal.bad("the batch covers \(request.fromSeq)…\(request.toSeq) but holds \(events.count) events; send every event of the range")
        }
        for (offset, event) in events.enumerated() {
            guard event.origin == node else {
                throw SyncRefusal.forbidden("origin_mismatch", "event \(offset) has origin \(event.origin) but the batch was signed by \(node)")
            }
            guard event.stream == stream, event.seq == request.fromSeq + Int64(offset) else {
                throw SyncRefusal.bad("event \(offset) is \(event.stream.rawValue)/\(event.seq); expected \(stream.rawValue)/\(request.fromSeq + Int64(offset))")
            }
            guard event.hashIsValid else {
                throw SyncRefusal.bad("event \(stream.rawValue)/\(event.seq) does not match its hash (corrupted in transit); nothing was applied")
            }
            guard event.payload.count <= 1 << 20 else {
                throw SyncRefusal(413, "too_large", "event \(stream.rawValue)/\(event.seq) has a payload over 1 MiB")
            }
            guard event.stamp.hlc.rawValue >= 0 else {
                throw SyncRefusal.bad("event \(stream.rawValue)/\(event.seq) has a negative 'stamp.hlc'; nothing was applied")
            }
            if case .compacted(let marker) = try? event.body,
               !(1...SyncProtocol.maxSeq).contains(marker.fromSeq) || !(marker.fromSeq...SyncProtocol.maxSeq).contains(marker.toSeq) {
                throw SyncRefusal.bad("event \(stream.rawValue)/\(event.seq) declares \(marker.fromSeq)…\(marker.toSeq) compacted; seqs are 1…\(SyncProtocol.maxSeq)")
            }
        }
        let outcome = try await Self.continuing(request.stream) {
            try await database.hubSync.pushEvents(events, origin: node, stream: request.stream, from: request.fromSeq,
                                                  to: request.toSeq, now: time, beforeCommit: beforeCommit)
        }
        return PushResponse(stream: request.stream, mark: outcome.mark, hubIncarnation: incarnation,
                            inserted: outcome.inserted, duplicates: outcome.duplicates, collisions: outcome.collisions)
    }

    /// A push that does not continue the durable mark is refused with the mark to resend from.
    static func continuing(_ stream: SyncStream, _ body: () async throws -> HubSyncStore.PushOutcome) async throws
        -> HubSyncStore.PushOutcome
    {
        do {
            return try await body()
        } catch HubSyncStore.Refusal.gap(let mark) {
            throw SyncRefusal(409, "gap", "the hub holds \(stream) of this node up to \(mark); send from \(mark + 1)")
        }
    }

    /// Checks a readings batch completely before anything is written.
    static func validate(_ columns: ReadingColumns, from: Int64, to: Int64) throws -> ReadingBatch {
        let count = columns.id.count
        guard count > 0 || from <= to else { throw SyncRefusal.bad("an empty readings batch") }
        guard columns.sensor.count == count, columns.time.count == count, columns.value.count == count,
              columns.epoch.count == count
        else {
            throw SyncRefusal.bad("the readings columns differ in length (id \(count), sensor \(columns.sensor.count), time \(columns.time.count), value \(columns.value.count), epoch \(columns.epoch.count))")
        }
        guard count <= to - from + 1 else { throw SyncRefusal.bad("more readings than ids in \(from)…\(to)") }
        for key in columns.sensors where !SensorID.validate(key) {
            throw SyncRefusal.bad("'\(key)' is not a valid sensor id")
        }
        var rows: [ReadingBatch.Row] = []
        rows.reserveCapacity(count)
        var id = from - 1
        var time: Int64 = 0
        for index in 0..<count {
            // `id` stays within from - 1…to, so `to - id` cannot overflow, whatever the delta.
            let delta = columns.id[index]
            guard delta >= 1, delta <= to - id else {
                throw SyncRefusal.bad("reading id delta \(delta) at row \(index) must be ≥ 1 and stay within \(from)…\(to)")
            }
            id += delta
            let (next, overflow) = time.addingReportingOverflow(columns.time[index])
            time = index == 0 ? columns.time[0] : next
            guard index == 0 || !overflow, (0...HLCTimestamp.maxMilliseconds).contains(time) else {
                throw SyncRefusal.bad("row \(index)'s time is outside 0…\(HLCTimestamp.maxMilliseconds) ms (check the 'time' deltas)")
            }
            let sensor = columns.sensor[index], epoch = columns.epoch[index]
            guard columns.sensors.indices.contains(sensor), columns.epochs.indices.contains(epoch) else {
                throw SyncRefusal.bad("row \(index) refers to sensor \(sensor) or epoch \(epoch), which the batch does not list")
            }
            guard columns.value[index].isFinite else { throw SyncRefusal.bad("row \(index) has a value that is not a finite number") }
            rows.append(ReadingBatch.Row(id: id, sensor: sensor, time: time, value: columns.value[index], epoch: epoch))
        }
        return ReadingBatch(sensors: columns.sensors, epochs: columns.epochs, rows: rows)
    }

    // MARK: pull

    /// Pages other origins' shared events after the node's version vector. Ordered by
    /// (stream, origin, seq); the vector is the cursor, so ingest during paging cannot make the
    /// node skip or repeat an event.
    func pull(_ request: PullRequest, from node: NodeID) async throws -> PullResponse {
        guard request.node == node else {
            throw SyncRefusal.forbidden("origin_mismatch", "the pull names node \(request.node) but was signed by \(node)")
        }
        var streams: [EventStream] = []
        for requested in request.streams {
            guard let stream = requested.eventStream, SyncProtocol.pullableStreams.contains(stream) else {
                throw SyncRefusal.bad("stream '\(requested)' cannot be pulled; pullable streams are \(SyncProtocol.pullableStreams.map(\.rawValue).joined(separator: ", "))")
            }
            streams.append(stream)
        }
        guard (1...5000).contains(request.limit) else { throw SyncRefusal.bad("'limit' must be 1…5000") }
        guard request.have.count <= 100_000 else { throw SyncRefusal.bad("'have' lists \(request.have.count) entries; at most 100000") }
        var have: [NodeID: [EventStream: Int64]] = [:]
        for (index, entry) in request.have.enumerated() {
            guard (0...SyncProtocol.maxSeq).contains(entry.seq) else {
                throw SyncRefusal.bad("'have[\(index)].seq' is \(entry.seq); it must be 0…\(SyncProtocol.maxSeq)")
            }
            guard let stream = entry.stream.eventStream else { continue }
            have[entry.origin, default: [:]][stream] = entry.seq
        }
        let page = request.own == true
            ? try await database.hubSync.ownEvents(of: node, after: have[node] ?? [:], streams: streams, limit: request.limit)
            : try await database.hubSync.events(after: have, streams: streams, excluding: node, limit: request.limit)
        return PullResponse(events: page.events, more: page.more)
    }
}
