public import Foundation
public import SmollamaCore

/// Config section `memory:` — reflection (routines → memories) and recall (embeddings, vector
/// search). Every key defaulted; unknown keys refused.
public struct MemoryConfig: Codable, Sendable, Hashable, ConfigChecked {
    /// Run the reflection pass in the daemon.
    public var reflection = true
    /// How often the daemon reflects (it also reflects once at start); `smollama reflect` runs it now.
    public var reflectionInterval = ConfigDuration.hours(24)
    /// Days of hourly rollups a pass looks at.
    public var reflectionWindow = ConfigDuration.days(14)
    /// Fewest days of data a day group (weekdays, weekends) needs before it yields a routine.
    public var minDays = 4
    /// An hour is part of a routine when active on at least this share of days (0…1).
    public var activeShare = 0.6
    /// Presence schedules: the length of a slot of the day (5m…60m, dividing an hour).
    public var scheduleResolution = ConfigDuration.minutes(30)
    /// A slot is part of a room's schedule when occupied in it on at least this share of days (0…1).
    public var scheduleShare = 0.5
    /// Typical ranges: a bound that moves by more than this share of the old range's width supersedes it.
    public var rangeTolerance = 0.5
    /// Let the chat model phrase new memories (numbers verified; template otherwise).
    public var phraseWithLLM = false
    /// Embed observations and memories for recall (off: words only).
    public var embeddings = true
    /// How often the daemon embeds what is new or was embedded with another model.
    public var embeddingInterval = ConfigDuration.seconds(30)
    /// automatic (the in-memory index), sqlite-vec, exact, off.
    public var vectorSearch = Recall.VectorSearch.automatic
    /// sqlite-vec's vec0.so; "" = SMOLLAMA_VEC0 or the venv scripts/setup-llm.sh fills.
    public var vec0Path = ""

    enum CodingKeys: String, CodingKey, CaseIterable {
        case reflection
        case reflectionInterval = "reflection_interval"
        case reflectionWindow = "reflection_window"
        case minDays = "min_days"
        case activeShare = "active_share"
        case scheduleResolution = "schedule_resolution"
        case scheduleShare = "schedule_share"
        case rangeTolerance = "range_tolerance"
        case phraseWithLLM = "phrase_with_llm"
        case embeddings
        case embeddingInterval = "embedding_interval"
        case vectorSearch = "vector_search"
        case vec0Path = "vec0_path"
    }

    public init() {}

    public func check() throws(ConfigProblem) {
        try ConfigProblem.require(reflectionWindow.milliseconds >= 86_400_000, "reflection_window", "must be at least 1d")
        try ConfigProblem.require(
            reflectionInterval.milliseconds > 0 && embeddingInterval.milliseconds > 0, "reflection_interval",
            "intervals must be positive")
        try ConfigProblem.require(minDays >= 1, "min_days", "must be at least 1")
        try ConfigProblem.require(activeShare > 0 && activeShare <= 1, "active_share", "must be in (0, 1]")
        let slot = scheduleResolution.milliseconds
        try ConfigProblem.require(
            slot >= 300_000 && slot <= 3_600_000 && slot % 300_000 == 0 && 3_600_000 % slot == 0, "schedule_resolution",
            "must be a whole number of 5 minutes that divides an hour (5m, 10m, 15m, 20m, 30m or 60m)")
        try ConfigProblem.require(scheduleShare > 0 && scheduleShare <= 1, "schedule_share", "must be in (0, 1]")
        try ConfigProblem.require(rangeTolerance >= 0, "range_tolerance", "must be 0 or more (a share of the range's width)")
    }

    /// The reflection settings these keys describe, in the node's time zone (`node.timezone`).
    public func reflectionSettings(timeZone: TimeZone) -> ReflectionSettings {
        var settings = ReflectionSettings()
        settings.timeZone = timeZone
        settings.windowDays = Int(max(1, reflectionWindow.milliseconds / 86_400_000))
        settings.minDays = minDays
        settings.activeShare = activeShare
        settings.scheduleStep = scheduleResolution.duration
        settings.scheduleShare = scheduleShare
        settings.rangeTolerance = rangeTolerance
        settings.phraseWithModel = phraseWithLLM
        return settings
    }
}
