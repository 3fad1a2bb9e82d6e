public import SmollamaCore
import SmollamaStore

/// Rollups read once for a long stretch and sliced in memory, for observing many past windows
/// in a row (a window's evidence reads the room's last two weeks of 5-minute buckets, so
/// reading them from the store for each window costs most of the window's time). Slices equal
/// the store's reads: `bucketStart` in `[from, to)`, in order.
struct RollupCache: Sendable {
    struct Key: Hashable, Sendable {
        var sensor: SensorID
        var resolution: Rollup.Resolution
    }

    let from: UTCMillis
    let to: UTCMillis
    let series: [Key: [Rollup]]

    /// The buckets in `[from, to)`, or nil when the range is not all inside the cache.
    func slice(_ sensor: SensorID, _ resolution: Rollup.Resolution, from lower: UTCMillis, to upper: UTCMillis) -> [Rollup]? {
        guard lower >= from, upper <= to else { return nil }
        let rollups = series[Key(sensor: sensor, resolution: resolution)] ?? []
        func index(_ time: UTCMillis) -> Int {
            var (low, high) = (0, rollups.count)
            while low < high {
                let middle = (low + high) / 2
                if rollups[middle].bucketStart < time { low = middle + 1 } else { high = middle }
            }
            return low
        }
        let start = index(lower)
        return Array(rollups[start..<max(start, index(upper))])
    }
}

extension EvidenceBuilder {
    /// This builder with every sensor's rollups for windows in `[from, to)` (and the history
    /// they look back on) read once: for observing a long stretch of past windows.
    public func preloaded(from: UTCMillis, to: UTCMillis) async throws -> EvidenceBuilder {
        let lookBack = Int64(max(settings.baselineDays, settings.presenceDays) + 1) * 86_400
        let start = from - .seconds(lookBack)
        let end = to + .seconds(86_400)
        var series: [RollupCache.Key: [Rollup]] = [:]
        for sensor in try await database.readings.registeredSensors().map(\.descriptor.id) {
            for resolution in [Rollup.Resolution.fiveMinutes, .hour] {
                series[.init(sensor: sensor, resolution: resolution)] = try await database.readings.rollups(
                    sensor: sensor, resolution: resolution, from: start, to: end)
            }
        }
        var builder = self
        builder.cache = RollupCache(from: start, to: end, series: series)
        return builder
    }

    /// The store's rollups, from the cache when it holds the range.
    func rollups(sensor: SensorID, resolution: Rollup.Resolution, from: UTCMillis, to: UTCMillis) async throws -> [Rollup] {
        if let cached = cache?.slice(sensor, resolution, from: from, to: to) { return cached }
        return try await database.readings.rollups(sensor: sensor, resolution: resolution, from: from, to: to)
    }
}
