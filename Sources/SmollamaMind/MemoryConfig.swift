public import SmollamaCore

/// Config section `memory:` — reflection (routines → memories) and recall (embeddings, vector
/// search). Every key defaulted; unknown keys refused.
public struct MemoryConfig: Codable, Sendable, Hashable {
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
    /// Local time = UTC + this many minutes (for "weekdays 07:00–09:00").
    public var utcOffsetMinutes = 0
    /// Let the chat model phrase new memories (numbers verified; template otherwise).
    public var phraseWithLLM = false
    /// Embed observations and memories for recall (off: words only).
    public var embeddings = true
    /// How often the daemon embeds what is new or was embedded with another model.
    public var embeddingInterval = ConfigDuration.seconds(30)
    /// automatic (sqlite-vec when it loads, else exact scan), sqlite-vec, exact, off.
    public var vectorSearch = Recall.VectorSearch.automatic
    /// sqlite-vec's vec0.so; "" = SMOLLAMA_VEC0 or the venv scripts/setup-llm.sh fills.
    public var vec0Path = ""

    enum CodingKeys: String, CodingKey, CaseIterable {
        case reflection
        case reflectionInterval = "reflection_interval"
        case reflectionWindow = "reflection_window"
        case minDays = "min_days"
        case activeShare = "active_share"
        case utcOffsetMinutes = "utc_offset_minutes"
        case phraseWithLLM = "phrase_with_llm"
        case embeddings
        case embeddingInterval = "embedding_interval"
        case vectorSearch = "vector_search"
        case vec0Path = "vec0_path"
    }

    public init() {}

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        reflection = try c.decodeIfPresent(Bool.self, forKey: .reflection) ?? reflection
        reflectionInterval = try c.decodeIfPresent(ConfigDuration.self, forKey: .reflectionInterval) ?? reflectionInterval
        reflectionWindow = try c.decodeIfPresent(ConfigDuration.self, forKey: .reflectionWindow) ?? reflectionWindow
        minDays = try c.decodeIfPresent(Int.self, forKey: .minDays) ?? minDays
        activeShare = try c.decodeIfPresent(Double.self, forKey: .activeShare) ?? activeShare
        utcOffsetMinutes = try c.decodeIfPresent(Int.self, forKey: .utcOffsetMinutes) ?? utcOffsetMinutes
        phraseWithLLM = try c.decodeIfPresent(Bool.self, forKey: .phraseWithLLM) ?? phraseWithLLM
        embeddings = try c.decodeIfPresent(Bool.self, forKey: .embeddings) ?? embeddings
        embeddingInterval = try c.decodeIfPresent(ConfigDuration.self, forKey: .embeddingInterval) ?? embeddingInterval
        vectorSearch = try c.decodeIfPresent(Recall.VectorSearch.self, forKey: .vectorSearch) ?? vectorSearch
        vec0Path = try c.decodeIfPresent(String.self, forKey: .vec0Path) ?? vec0Path
        guard reflectionWindow.milliseconds >= 86_400_000 else {
            throw DecodingError.dataCorruptedError(forKey: .reflectionWindow, in: c, debugDescription: "must be at least 1d")
        }
        guard reflectionInterval.milliseconds > 0, embeddingInterval.milliseconds > 0 else {
            throw DecodingError.dataCorruptedError(
                forKey: .reflectionInterval, in: c, debugDescription: "intervals must be positive")
        }
        guard minDays >= 1 else {
            throw DecodingError.dataCorruptedError(forKey: .minDays, in: c, debugDescription: "must be at least 1")
        }
        guard activeShare > 0, activeShare <= 1 else {
            throw DecodingError.dataCorruptedError(forKey: .activeShare, in: c, debugDescription: "must be in (0, 1]")
        }
        guard abs(utcOffsetMinutes) <= 14 * 60 else {
            throw DecodingError.dataCorruptedError(
                forKey: .utcOffsetMinutes, in: c, debugDescription: "must be within ±840 minutes")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(reflection, forKey: .reflection)
        try c.encode(reflectionInterval, forKey: .reflectionInterval)
        try c.encode(reflectionWindow, forKey: .reflectionWindow)
        try c.encode(minDays, forKey: .minDays)
        try c.encode(activeShare, forKey: .activeShare)
        try c.encode(utcOffsetMinutes, forKey: .utcOffsetMinutes)
        try c.encode(phraseWithLLM, forKey: .phraseWithLLM)
        try c.encode(embeddings, forKey: .embeddings)
        try c.encode(embeddingInterval, forKey: .embeddingInterval)
        try c.encode(vectorSearch, forKey: .vectorSearch)
        try c.encode(vec0Path, forKey: .vec0Path)
    }

    /// The reflection settings these keys describe.
    public var reflectionSettings: ReflectionSettings {
        var settings = ReflectionSettings()
        settings.windowDays = Int(max(1, reflectionWindow.milliseconds / 86_400_000))
        settings.minDays = minDays
        settings.activeShare = activeShare
        settings.utcOffsetMinutes = utcOffsetMinutes
        settings.phraseWithModel = phraseWithLLM
        return settings
    }
}
