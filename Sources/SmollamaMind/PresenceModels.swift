import Foundation
import SmollamaCore

/// Two groups in one quantity, split where the between-group variance is largest (Otsu's
/// threshold); `separated` when the groups' means stand apart by more than `minimumSeparation`
/// pooled within-group deviations, so noise around one level is not split into two.
struct TwoGroups: Sendable {
    static let minimumSeparation = 4.0

    var split: Double
    var lowMean: Double
    var highMean: Double
    var separated: Bool

    init?(_ values: [Double]) {
        let sorted = values.filter(\.isFinite).sorted()
        guard sorted.count >= 12 else { return nil }
        var prefix = [0.0]
        var squares = [0.0]
        for value in sorted {
            prefix.append(prefix.last! + value)
            squares.append(squares.last! + value * value)
        }
        let n = Double(sorted.count)
        var best: (score: Double, index: Int)? = nil
        for index in 1..<sorted.count where sorted[index] > sorted[index - 1] {
            let w0 = Double(index) / n
            let mu0 = prefix[index] / Double(index)
            let mu1 = (prefix[sorted.count] - prefix[index]) / (n - Double(index))
            let score = w0 * (1 - w0) * (mu1 - mu0) * (mu1 - mu0)
            if score > (best?.score ?? -1) { best = (score, index) }
        }
        guard let best else { return nil }
        let low = Double(best.index)
        let high = n - low
        lowMean = prefix[best.index] / low
        highMean = (prefix[sorted.count] - prefix[best.index]) / high
        let within = (squares[best.index] - low * lowMean * lowMean)
            + (squares[sorted.count] - squares[best.index] - high * highMean * highMean)
        let pooled = (max(0, within) / n).squareRoot()
        split = (sorted[best.index - 1] + sorted[best.index]) / 2
        separated = highMean - lowMean > Self.minimumSeparation * max(pooled, 1e-9)
    }

    /// Above the split or not, with a confidence from the distance to it (half the gap = sure).
    func vote(_ value: Double) -> (occupied: Bool, confidence: Double) {
        let distance = abs(value - split) / max((highMean - lowMean) / 2, 1e-9)
        return (value > split, 0.55 + 0.4 * min(1, distance))
    }
}

/// The `q` quantile (0…1) of `values`, nearest rank.
func quantile(_ values: [Double], _ q: Double) -> Double? {
    let sorted = values.filter(\.isFinite).sorted()
    guard !sorted.isEmpty else { return nil }
    return sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count - 1) * q).rounded())))]
}

/// CO₂ through the room's own ventilation: floor, decay rate while nobody adds any, and what a
/// bucket adds beyond that decay.
struct CO2Model: Sendable {
    let means: [Int64: Double]
    let floor: Double
    /// Share of the excess over the floor that leaves per bucket while the room is empty.
    let decay: Double
    let groups: TwoGroups

    init?(_ rollups: [Rollup]) {
        means = Dictionary(rollups.filter { $0.count > 0 }.map { ($0.bucketStart.rawValue, $0.mean) }, uniquingKeysWith: { $1 })
        guard means.count >= 24, let floor = quantile(Array(means.values), 0.05),
              let high = quantile(Array(means.values), 0.95) else { return nil }
        self.floor = floor
        let bucket = PresenceInference.bucket
        let minimumExcess = max(5, 0.1 * (high - floor))
        var rates: [Double] = []
        for (start, mean) in means {
            guard let slope = Self.slope(means, start, bucket), slope < 0, mean - floor > minimumExcess else { continue }
            rates.append(-slope / (mean - floor))
        }
        decay = min(1, quantile(rates, 0.5) ?? 0)
        var added: [Double] = []
        for (start, mean) in means {
            if let slope = Self.slope(means, start, bucket) { added.append(slope + decay * (mean - floor)) }
        }
        guard let groups = TwoGroups(added), groups.separated else { return nil }
        self.groups = groups
    }

    static func slope(_ means: [Int64: Double], _ start: Int64, _ bucket: Int64) -> Double? {
        switch (means[start - bucket], means[start], means[start + bucket]) {
        case let (before?, _, after?): (after - before) / 2
        case let (before?, now?, nil): now - before
        case let (nil, now?, after?): after - now
        default: nil
        }
    }

    func added(_ start: Int64) -> Double? {
        guard let mean = means[start], let slope = Self.slope(means, start, PresenceInference.bucket) else { return nil }
        return slope + decay * (mean - floor)
    }

    func vote(_ start: Int64) -> (occupied: Bool, confidence: Double)? { added(start).map(groups.vote) }

    func facts(_ window: Range<Int64>) -> [String] {
        let starts = Array(stride(from: window.lowerBound, to: window.upperBound, by: Int(PresenceInference.bucket)))
        let levels = starts.compactMap { means[$0] }
        let adds = starts.compactMap(added)
        guard !levels.isEmpty else { return ["no CO₂ readings"] }
        let level = levels.reduce(0, +) / Double(levels.count)
        var facts = ["CO₂ \(Int(level.rounded())) ppm (floor \(Int(floor.rounded())))"]
        if !adds.isEmpty {
            let add = adds.reduce(0, +) / Double(adds.count)
            // What people added per 5 minutes beyond the room's own decay, and the room's split.
            facts.append("rise \(add >= 0 ? "+" : "")\(Int(add.rounded())) ppm/5m, split \(Int(groups.split.rounded()))")
        }
        return facts
    }
}

/// Light against the room's own daily profile: in its dark hours a level well above the usual
/// low for that hour is a lamp.
struct LightModel: Sendable {
    let means: [Int64: Double]
    let clock: LocalClock
    /// Per local hour: the 10th percentile of the bucket means (the room with nobody's lamps on).
    let profile: [Int: Double]
    let darkLimit: Double
    let groups: TwoGroups

    init?(_ rollups: [Rollup], clock: LocalClock) {
        self.clock = clock
        means = Dictionary(rollups.filter { $0.count > 0 }.map { ($0.bucketStart.rawValue, $0.mean) }, uniquingKeysWith: { $1 })
        var byHour: [Int: [Double]] = [:]
        for (start, mean) in means { byHour[clock.hour(UTCMillis(rawValue: start)), default: []].append(mean) }
        profile = byHour.filter { $0.value.count >= 3 }.compactMapValues { quantile($0, 0.1) }
        guard let brightest = profile.values.max() else { return nil }
        darkLimit = 0.1 * max(brightest, 1)
        var excess: [Double] = []
        for (start, mean) in means {
            if let usual = Self.usual(start, profile: profile, darkLimit: darkLimit, clock: clock) { excess.append(mean - usual) }
        }
        guard let groups = TwoGroups(excess), groups.separated else { return nil }
        self.groups = groups
    }

    /// The usual low for `start`'s hour when that hour and both its neighbours are dark (twilight
    /// hours vary too much from day to day to tell a lamp from the sky); nil otherwise.
    func usual(_ start: Int64) -> Double? { Self.usual(start, profile: profile, darkLimit: darkLimit, clock: clock) }

    static func usual(_ start: Int64, profile: [Int: Double], darkLimit: Double, clock: LocalClock) -> Double? {
        let hour = clock.hour(UTCMillis(rawValue: start))
        let around = [(hour + 23) % 24, hour, (hour + 1) % 24].map { profile[$0] }
        guard around.allSatisfy({ $0 != nil && $0! <= darkLimit }) else { return nil }
        return profile[hour]
    }

    func vote(_ start: Int64) -> (occupied: Bool, confidence: Double)? {
        guard let mean = means[start], let usual = usual(start) else { return nil }
        return groups.vote(mean - usual)
    }

    func facts(_ window: Range<Int64>) -> [String] {
        let starts = Array(stride(from: window.lowerBound, to: window.upperBound, by: Int(PresenceInference.bucket)))
        let levels = starts.compactMap { means[$0] }
        guard !levels.isEmpty else { return [] }
        let level = Int((levels.reduce(0, +) / Double(levels.count)).rounded())
        guard let usual = usual(window.lowerBound) else { return ["light \(level) lx, not dark"] }
        return ["light \(level) lx, usual \(Int(usual.rounded())) (dark)"]
    }
}
