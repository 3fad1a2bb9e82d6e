public import SmollamaCore

/// `observe:` in config.yaml: the observation loop. Every key defaulted, unknown keys refused.
public struct ObserveConfig: ConfigSection, Hashable {
    /// Off: no observations are written (the node still senses and logs).
    public var enabled = true
    /// Length of one observation window; the loop observes each window once it has ended.
    public var interval = ConfigDuration.minutes(15)
    /// How often the loop looks at the current, unfinished window for a strong anomaly.
    public var checkInterval = ConfigDuration.minutes(1)
    /// At most one early observation per this long.
    public var earlyMinGap = ConfigDuration.minutes(5)
    /// A repeat within this long of an observation with the same kind and subjects raises its
    /// support instead of adding a row.
    public var dedupWindow = ConfigDuration.hours(6)
    /// Cosine similarity at or above which two texts say the same thing (needs an embedding model).
    public var similarity = 0.9
    /// The prompt is trimmed (least important evidence, old observations, memories) to this estimate.
    public var maxPromptTokens = 600
    /// The model's reply is cut at this many tokens (a cut reply is a failed attempt).
    public var maxCompletionTokens = 200
    /// Earlier observations shown in the prompt.
    public var recentObservations = 3
    /// Days of hourly rollups the baselines use.
    public var baselineDays = 28
    /// At start, windows missed while the daemon was stopped are observed, up to this far back (0: off).
    public var backfill = ConfigDuration.hours(24)
    /// Back-filled windows use the model while it answers within this; after one slower call, rules.
    public var backfillModelBudget = ConfigDuration.seconds(20)
    /// Share of calibration tasks (`smollama models check`) the chat model must pass before it
    /// writes observations (narration tasks) or routes `ask` (routing questions); rules otherwise.
    public var minModelScore = 0.8
    /// Whether the daemon checks a chat model it has no report for (a new or changed model) in
    /// the background. Off: only `smollama models check` does.
    public var calibrate = true

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled, interval, similarity
        case checkInterval = "check_interval"
        case earlyMinGap = "early_min_gap"
        case dedupWindow = "dedup_window"
        case maxPromptTokens = "max_prompt_tokens"
        case maxCompletionTokens = "max_completion_tokens"
        case recentObservations = "recent_observations"
        case baselineDays = "baseline_days"
        case backfill
        case backfillModelBudget = "backfill_model_budget"
        case minModelScore = "min_model_score"
        case calibrate
    }

    public init() {}

    public static func defaults(given: ConfigGiven) -> ObserveConfig { ObserveConfig() }

    public func check() throws(ConfigProblem) {
        try ConfigProblem.require(
            (0.0...1.0).contains(minModelScore), "min_model_score",
            "must be between 0 and 1 (the share of calibration tasks the model must pass)")
        try ConfigProblem.require(
            interval.milliseconds >= 60_000, "interval", "must be at least 1m (observations summarise a window)")
        try ConfigProblem.require(
            checkInterval.milliseconds > 0 && checkInterval <= interval, "check_interval",
            "must be longer than 0 and at most observe.interval")
        try ConfigProblem.require((0.0...1.0).contains(similarity), "similarity", "must be between 0 and 1")
        try ConfigProblem.require(maxPromptTokens >= 200, "max_prompt_tokens", "must be at least 200 (the evidence must fit)")
        try ConfigProblem.require(maxCompletionTokens >= 32, "max_completion_tokens", "must be at least 32 (one observation)")
        try ConfigProblem.require(
            recentObservations >= 0 && baselineDays >= 1, "baseline_days",
            "recent_observations must be 0 or more and baseline_days at least 1")
    }
}
