import Foundation
import GRDB

/// Migration v6: a generation number that every change to `recall_embeddings` bumps (by
/// trigger, so writes from other processes count too). The in-memory vector index compares it
/// with the generation it was built at and reloads from the table when they differ.
extension RecallSchema {
    static let v6 = """
        CREATE TABLE recall_embedding_generation (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            value INTEGER NOT NULL
        );
        INSERT INTO recall_embedding_generation (id, value) VALUES (1, 0);
        CREATE TRIGGER recall_embeddings_generation_insert AFTER INSERT ON recall_embeddings BEGIN
            UPDATE recall_embedding_generation SET value = value + 1 WHERE id = 1;
        END;
        CREATE TRIGGER recall_embeddings_generation_delete AFTER DELETE ON recall_embeddings BEGIN
            UPDATE recall_embedding_generation SET value = value + 1 WHERE id = 1;
        END;
        CREATE TRIGGER recall_embeddings_generation_update AFTER UPDATE OF item, model, dimension, vector
            ON recall_embeddings BEGIN
            UPDATE recall_embedding_generation SET value = value + 1 WHERE id = 1;
        END;
        """

    static func generation(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT value FROM recall_embedding_generation WHERE id = 1") ?? 0
    }
}

/// The recall embeddings of one model, quantized and held in memory: sign bits (dimension/8
/// bytes a vector: 48 B at 384-d) for a Hamming-distance prefilter, and int8 (dimension bytes,
/// one scale a vector) to re-score the prefilter's candidates. At 100 k vectors of 384-d that is
/// 4.8 MB + 38 MB + the item list, instead of 150 MB of floats; the exact float rerank of the
/// final few hundred candidates reads their vectors from SQLite.
///
/// Loaded lazily from `recall_embeddings` (a `Snapshot` read in one transaction) and kept in
/// step by `apply`, which the store calls after each write of embeddings; any change it did not
/// see (another process, a skipped generation) makes `isCurrent` false and the next search reloads.
actor RecallVectorIndex {
    /// What the table held at one generation, quantized.
    struct Snapshot: Sendable {
        var model: String
        var dimension: Int
        var generation: Int64
        var items: [Int64] = []
        var bits: [UInt64] = []
        var codes: [Int8] = []
        var scales: [Float] = []

        init(model: String, dimension: Int, generation: Int64) {
            self.model = model
            self.dimension = dimension
            self.generation = generation
        }

        var wordsPerVector: Int { (dimension + 63) / 64 }

        mutating func append(item: Int64, vector: UnsafeBufferPointer<Float>) {
            items.append(item)
            RecallVectorIndex.quantize(vector, words: wordsPerVector, bits: &bits, codes: &codes, scales: &scales)
        }
    }

    private var snapshot: Snapshot?
    /// Item → its position in the snapshot's arrays.
    private var slots: [Int64: Int] = [:]

    /// True when the index holds `model` at `dimension` as of `generation`.
    func isCurrent(model: String, dimension: Int, generation: Int64) -> Bool {
        self.generation(model: model, dimension: dimension) == generation
    }

    /// The table generation the index holds `model` at `dimension` as of; nil when it holds
    /// nothing or another model.
    func generation(model: String, dimension: Int) -> Int64? {
        guard let snapshot, snapshot.model == model, snapshot.dimension == dimension else { return nil }
        return snapshot.generation
    }

    func replace(with loaded: Snapshot) {
        // A concurrent search may have loaded a newer generation meanwhile: keep the newer one.
        if let snapshot, snapshot.model == loaded.model, snapshot.dimension == loaded.dimension,
            snapshot.generation > loaded.generation
        {
            return
        }
        snapshot = loaded
        slots = Dictionary(uniqueKeysWithValues: loaded.items.enumerated().map { ($1, $0) })
    }

    /// Embeddings just written (the table went from generation `before` to `after`): applied in
    /// place when the index was current at `before`, otherwise the index is dropped and reloads.
    func apply(_ entries: [(item: Int64, vector: [Float])], model: String, from before: Int64, to after: Int64) {
        guard var current = snapshot else { return }
        snapshot = nil  // rebuilt below; nil also means "reload" on every early exit
        guard current.generation == before else {
            slots = [:]
            return
        }
        for entry in entries {
            if entry.vector.count == current.dimension, model == current.model {
                entry.vector.withUnsafeBufferPointer { upsert(entry.item, $0, into: &current) }
            } else {
                remove(entry.item, from: &current)  // now another model's or dimension's
            }
        }
        current.generation = after
        snapshot = current
    }

    /// Memory held by the quantized vectors, in bytes (for the benchmark and `status`).
    var memoryBytes: Int {
        guard let snapshot else { return 0 }
        return snapshot.bits.count * 8 + snapshot.codes.count + snapshot.scales.count * 4 + snapshot.items.count * 8
            + slots.count * 16
    }

    var count: Int { snapshot?.items.count ?? 0 }

    /// The items nearest to `query`: the `prefilter` best by Hamming distance of the sign bits,
    /// re-scored with int8 dot products, the best `limit` of those. `among` restricts the search
    /// to those items (a selective filter). Ties go to the lower item. Nil when the index does
    /// not hold `model` at the query's dimension; otherwise with the generation it searched.
    func nearest(_ query: [Float], model: String, prefilter: Int, limit: Int, among: Set<Int64>?)
        -> (items: [Int64], generation: Int64)?
    {
        guard let snapshot, snapshot.model == model, query.count == snapshot.dimension else { return nil }
        guard limit > 0 else { return ([], snapshot.generation) }
        let words = snapshot.wordsPerVector
        var queryBits: [UInt64] = []
        var queryCodes: [Int8] = []
        var queryScale: [Float] = []
        query.withUnsafeBufferPointer {
            Self.quantize($0, words: words, bits: &queryBits, codes: &queryCodes, scales: &queryScale)
        }
        let positions: [Int]? = among.map { items in items.compactMap { slots[$0] }.sorted() }
        let total = positions?.count ?? snapshot.items.count
        guard total > 0 else { return ([], snapshot.generation) }

        // 1. Hamming distance of every vector (or every allowed one), then the `prefilter`
        //    smallest by a counting pass over the distances (0…dimension).
        let distances = [UInt16](unsafeUninitializedCapacity: total) { out, initialized in
            snapshot.bits.withUnsafeBufferPointer { bits in
                queryBits.withUnsafeBufferPointer { q in
                    if let positions {
                        for index in 0..<total { out[index] = Self.hamming(bits, positions[index] * words, q) }
                    } else {
                        for index in 0..<total { out[index] = Self.hamming(bits, index * words, q) }
                    }
                }
            }
            initialized = total
        }
        var histogram = [Int](repeating: 0, count: words * 64 + 1)
        for distance in distances { histogram[Int(distance)] += 1 }
        let wanted = min(max(prefilter, limit), total)
        var cutoff = 0
        var below = 0
        while below + histogram[cutoff] < wanted {
            below += histogram[cutoff]
            cutoff += 1
        }
        var atCutoff = wanted - below
        var candidates: [Int] = []
        candidates.reserveCapacity(wanted)
        for index in 0..<total {
            let distance = Int(distances[index])
            if distance < cutoff {
                candidates.append(positions?[index] ?? index)
            } else if distance == cutoff, atCutoff > 0 {
                candidates.append(positions?[index] ?? index)
                atCutoff -= 1
            }
        }

        // 2. int8 dot products of the candidates; keep the best `limit`.
        let dimension = snapshot.dimension
        var scored: [(position: Int, score: Float)] = []
        scored.reserveCapacity(candidates.count)
        snapshot.codes.withUnsafeBufferPointer { codes in
            queryCodes.withUnsafeBufferPointer { q in
                for position in candidates {
                    let base = position * dimension
                    var sum: Int32 = 0
                    for index in 0..<dimension { sum &+= Int32(codes[base + index]) &* Int32(q[index]) }
                    scored.append((position, Float(sum) * snapshot.scales[position]))
                }
            }
        }
        scored.sort {
            $0.score > $1.score || ($0.score == $1.score && snapshot.items[$0.position] < snapshot.items[$1.position])
        }
        return (scored.prefix(limit).map { snapshot.items[$0.position] }, snapshot.generation)
    }

    /// Bits that differ between the vector at `base` and the query. Per-byte counts are summed
    /// before one multiply folds them (16 words at most per fold, so no byte overflows): cheaper
    /// than a full popcount per word where the CPU baseline has no POPCNT (x86-64 v1).
    @inline(__always)
    static func hamming(_ bits: UnsafeBufferPointer<UInt64>, _ base: Int, _ query: UnsafeBufferPointer<UInt64>)
        -> UInt16
    {
        var total: UInt64 = 0
        var word = 0
        while word < query.count {
            let end = min(word + 16, query.count)
            var bytes: UInt64 = 0
            while word < end {
                var x = bits[base + word] ^ query[word]
                x = x &- ((x >> 1) & 0x5555_5555_5555_5555)
                x = (x & 0x3333_3333_3333_3333) &+ ((x >> 2) & 0x3333_3333_3333_3333)
                bytes &+= (x &+ (x >> 4)) & 0x0F0F_0F0F_0F0F_0F0F
                word += 1
            }
            total &+= (bytes &* 0x0101_0101_0101_0101) >> 56
        }
        return UInt16(truncatingIfNeeded: total)
    }

    private func upsert(_ item: Int64, _ vector: UnsafeBufferPointer<Float>, into snapshot: inout Snapshot) {
        guard let slot = slots[item] else {
            slots[item] = snapshot.items.count
            snapshot.append(item: item, vector: vector)
            return
        }
        var bits: [UInt64] = []
        var codes: [Int8] = []
        var scales: [Float] = []
        let words = snapshot.wordsPerVector
        Self.quantize(vector, words: words, bits: &bits, codes: &codes, scales: &scales)
        snapshot.bits.replaceSubrange(slot * words..<(slot + 1) * words, with: bits)
        snapshot.codes.replaceSubrange(slot * snapshot.dimension..<(slot + 1) * snapshot.dimension, with: codes)
        snapshot.scales[slot] = scales[0]
    }

    /// Moves the last vector into the removed one's place.
    private func remove(_ item: Int64, from snapshot: inout Snapshot) {
        guard let slot = slots.removeValue(forKey: item) else { return }
        let last = snapshot.items.count - 1
        let words = snapshot.wordsPerVector
        let dimension = snapshot.dimension
        if slot != last {
            let moved = snapshot.items[last]
            snapshot.items[slot] = moved
            for word in 0..<words { snapshot.bits[slot * words + word] = snapshot.bits[last * words + word] }
            for index in 0..<dimension { snapshot.codes[slot * dimension + index] = snapshot.codes[last * dimension + index] }
            snapshot.scales[slot] = snapshot.scales[last]
            slots[moved] = slot
        }
        snapshot.items.removeLast()
        snapshot.bits.removeLast(words)
        snapshot.codes.removeLast(dimension)
        snapshot.scales.removeLast()
    }

    /// Appends the sign bits (bit set = component > 0, zero-padded to whole words) and the int8
    /// codes (component / scale, scale = max |component| / 127) of `vector`.
    static func quantize(
        _ vector: UnsafeBufferPointer<Float>, words: Int, bits: inout [UInt64], codes: inout [Int8],
        scales: inout [Float]
    ) {
        var packed = [UInt64](repeating: 0, count: words)
        var largest: Float = 0
        for (index, value) in vector.enumerated() {
            if value > 0 { packed[index / 64] |= 1 << UInt64(index % 64) }
            largest = max(largest, abs(value))
        }
        bits.append(contentsOf: packed)
        let scale = largest > 0 ? largest / 127 : 1
        for value in vector { codes.append(Int8((value / scale).rounded().clamped(to: -127...127))) }
        scales.append(scale)
    }
}

extension Comparable {
    fileprivate func clamped(to range: ClosedRange<Self>) -> Self { min(max(self, range.lowerBound), range.upperBound) }
}

/// How big the in-memory vector index is.
public struct VectorIndexFootprint: Sendable, Hashable {
    public var vectors: Int
    public var bytes: Int
}

extension RecallStore {
    /// In-memory search (`RecallVectorIndex`): Hamming prefilter over sign bits (`prefilter`
    /// candidates), int8 re-score (best `rerank`), then the exact cosine of those from their
    /// stored floats, filtered in the same read. When the filter leaves fewer than `limit`, the
    /// search runs again over the filter's items only, so filters still apply before top-k.
    ///
    /// The index is trusted optimistically: the read that scores the candidates also checks the
    /// table's generation, and only when it moved does the index reload and the search repeat.
    public func memoryVectorSearch(
        _ query: [Float], model: String, filter: RecallFilter, limit: Int, prefilter: Int, rerank: Int
    ) async throws -> [IndexHit] {
        guard !query.isEmpty else { return [] }
        let index = database.vectorIndex
        let width = max(rerank, limit)
        for attempt in 0..<3 {
            let held = await index.generation(model: model, dimension: query.count)
            if attempt > 0 || held == nil {
                try await refreshVectorIndex(model: model, dimension: query.count)
            }
            guard let found = await index.nearest(query, model: model, prefilter: prefilter, limit: width, among: nil),
                let hits = try await exactScores(
                    query, found.items, model: model, filter: filter, limit: limit, generation: found.generation)
            else { continue }
            guard !filter.isEmpty, hits.count < limit, found.items.count >= width,
                let allowed = try await filteredItems(filter)
            else { return hits }
            guard
                let narrowed = await index.nearest(
                    query, model: model, prefilter: prefilter, limit: width, among: allowed),
                let hits = try await exactScores(
                    query, narrowed.items, model: model, filter: RecallFilter(validOnly: false), limit: limit,
                    generation: narrowed.generation)
            else { continue }
            return hits
        }
        // The table kept changing under three searches in a row (a bulk embedding run): score
        // whatever the index holds now without the generation check.
        let found = await index.nearest(query, model: model, prefilter: prefilter, limit: width, among: nil)
        return try await exactScores(
            query, found?.items ?? [], model: model, filter: filter, limit: limit, generation: nil) ?? []
    }

    /// The in-memory index's size (loading it first when it is not current).
    public func vectorIndexFootprint(model: String, dimension: Int) async throws -> VectorIndexFootprint {
        try await refreshVectorIndex(model: model, dimension: dimension)
        return VectorIndexFootprint(vectors: await database.vectorIndex.count, bytes: await database.vectorIndex.memoryBytes)
    }

    /// Reloads the in-memory index from `recall_embeddings` unless it is current.
    func refreshVectorIndex(model: String, dimension: Int) async throws {
        let index = database.vectorIndex
        let generation = try await reader.read { db in try RecallSchema.generation(db) }
        if await index.isCurrent(model: model, dimension: dimension, generation: generation) { return }
        let loaded = try await reader.read { db in
            var snapshot = RecallVectorIndex.Snapshot(
                model: model, dimension: dimension, generation: try RecallSchema.generation(db))
            let rows = try Row.fetchCursor(
                db, sql: "SELECT item, vector FROM recall_embeddings WHERE model = ? AND dimension = ? ORDER BY item",
                arguments: [model, dimension])
            while let row = try rows.next() {
                let item: Int64 = row[0]
                try row.withUnsafeData(atIndex: 1) { data in
                    guard let data, data.count == dimension * MemoryLayout<Float>.size else { return }
                    data.withUnsafeBytes { raw in snapshot.append(item: item, vector: raw.bindMemory(to: Float.self)) }
                }
            }
            return snapshot
        }
        await index.replace(with: loaded)
    }

    /// Exact cosine of `candidates` that pass `filter`, best `limit` first, with their rows.
    /// Nil when the embeddings table is no longer at `generation` (the candidates came from a
    /// stale index).
    func exactScores(
        _ query: [Float], _ candidates: [Int64], model: String, filter: RecallFilter, limit: Int, generation: Int64?
    ) async throws -> [IndexHit]? {
        let list = Self.jsonList(candidates)
        var sql = """
            SELECT item, vector FROM recall_embeddings
            WHERE model = ? AND dimension = ? AND item IN (SELECT value FROM json_each(?))
            """
        var arguments: StatementArguments = [model, query.count, list]
        if !filter.isEmpty {
            let (whereSQL, filterArguments) = filter.sql()
            sql += " AND item IN (SELECT item FROM (\(Self.restrictedView(filter.kinds))) AS recall_view WHERE \(whereSQL))"
            _ = arguments.append(contentsOf: Self.restrictedArguments(list, filter.kinds))
            _ = arguments.append(contentsOf: filterArguments)
        }
        let all = arguments
        let statement = sql
        return try await reader.read { db in
            if let generation, try RecallSchema.generation(db) != generation { return nil }
            guard !candidates.isEmpty else { return [] }
            var top = TopK(limit)
            let rows = try Row.fetchCursor(db.cachedStatement(sql: statement), arguments: all)
            while let row = try rows.next() {
                let item: Int64 = row[0]
                top.add(ScoredItem(item: item, score: try row.withUnsafeData(atIndex: 1) { Self.dot(query, $0) }))
            }
            let best = top.sorted
            return Self.hits(best, rows: try Self.rows(db, best.map(\.item), kinds: filter.kinds))
        }
    }
}
