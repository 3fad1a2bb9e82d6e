import Foundation
import SmollamaCore

/// One observation as the model (or the rules) drafted it, before verification.
public struct ObservationDraft: Codable, Sendable, Hashable {
    public var kind: String
    public var subjects: [String]
    public var text: String
    public var evidenceIDs: [String]
    public var importance: Double

    public init(kind: String, subjects: [String], text: String, evidenceIDs: [String], importance: Double) {
        self.kind = kind
        self.subjects = subjects
        self.text = text
        self.evidenceIDs = evidenceIDs
        self.importance = importance
    }

    enum CodingKeys: String, CodingKey {
        case kind, subjects, text, importance
        case evidenceIDs = "evidence_ids"
    }
}

/// The model's whole reply: `{observations: [...]}`.
public struct ObservationReply: Codable, Sendable, Hashable {
    public var observations: [ObservationDraft]

    public init(observations: [ObservationDraft]) { self.observations = observations }
}

/// Why a draft was refused. Each case names the offending part so a log line says what to fix.
public enum VerificationFailure: Error, Sendable, Hashable, CustomStringConvertible {
    case unknownKind(String)
    case noEvidence
    case unknownEvidence(String)
    case unknownSensor(String)
    /// A number in the text matches no value of the cited facts.
    case fabricatedNumber(String)
    /// The number exists in the evidence, but not with the unit the text gives it.
    case wrongUnit(number: String, unit: String)
    case emptyText
    /// Too short, or about nothing the evidence names.
    case genericText(String)
    /// The text copies an evidence line (`from 10:45, to 11:00, length 15 min`) instead of saying it.
    case echoesEvidence(id: String)
    /// The text shows a prompt id (`f0`): people reading the log never see those.
    case evidenceIDInText(String)
    /// The text names a sensor by its id (`hallway.motion`) instead of in words.
    case sensorIDInText(String)
    /// The kind needs evidence the cited facts do not hold (`fault` without a fault fact,
    /// `anomaly` without an unusual one).
    case unsupportedKind(kind: String, needs: String)
    /// One evidence id cited more than once.
    case repeatedEvidence(String)
    /// The same text as an earlier observation of the same reply.
    case duplicateText(String)

    public var description: String {
        switch self {
        case .unknownKind(let kind): "kind '\(kind)' is not one of \(ObservationVerifier.kinds.joined(separator: ", "))"
        case .noEvidence: "the observation cites no evidence id"
        case .unknownEvidence(let id): "evidence id '\(id)' is not in the evidence packet"
        case .unknownSensor(let sensor): "sensor '\(sensor)' is not a sensor of this node"
        case .fabricatedNumber(let number): "the number \(number) is not in the cited evidence"
        case .wrongUnit(let number, let unit): "\(number) \(unit): the cited evidence has this number with another unit"
        case .emptyText: "the text is empty"
        case .genericText(let text): "the text says nothing specific about the cited sensors: \"\(text)\""
        case .echoesEvidence(let id): "the text copies evidence line \(id) instead of saying what it means"
        case .evidenceIDInText(let id): "the text shows the evidence id '\(id)'; cite ids in evidence_ids only"
        case .sensorIDInText(let sensor): "the text names sensor '\(sensor)' by its id; say it in words"
        case .unsupportedKind(let kind, let needs): "kind '\(kind)' needs \(needs) among the cited evidence"
        case .repeatedEvidence(let id): "evidence id '\(id)' is cited more than once"
        case .duplicateText(let text): "the reply repeats an observation: \"\(text)\""
        }
    }
}

/// Checks a draft against the evidence it cites: known kind, known sensors and evidence ids each
/// cited once, a text in words (no prompt ids, no sensor ids, no copied evidence line), every
/// number in the text equal to a value of the cited facts (as shown, or rounded to the decimals
/// the text uses) with a compatible unit, and a kind the cited facts support. The window fact
/// (`f0`) is always citable. `verify(reply:)` adds what only a whole reply shows: repeated texts.
public struct ObservationVerifier: Sendable {
    public static let kinds = ["anomaly", "activity", "trend", "fault", "summary"]

    public init() {}

    /// Each draft of a reply with its failure (nil: accepted). A text equal to an earlier draft's
    /// (ignoring case, spacing and the final stop) is refused even when that one was accepted.
    public func verify(reply drafts: [ObservationDraft], against packet: EvidencePacket)
        -> [(draft: ObservationDraft, failure: VerificationFailure?)]
    {
        var seen: Set<String> = []
        return drafts.map { draft in
            let normalised = Self.normalised(draft.text)
            let failure = verify(draft, against: packet)
                ?? (seen.contains(normalised) ? .duplicateText(draft.text) : nil)
            seen.insert(normalised)
            return (draft, failure)
        }
    }

    public func verify(_ draft: ObservationDraft, against packet: EvidencePacket) -> VerificationFailure? {
        guard Self.kinds.contains(draft.kind) else { return .unknownKind(draft.kind) }
        guard !draft.evidenceIDs.isEmpty else { return .noEvidence }
        var cited: [EvidenceFact] = []
        var citedIDs: Set<String> = []
        for id in draft.evidenceIDs {
            guard citedIDs.insert(id).inserted else { return .repeatedEvidence(id) }
            guard let fact = packet.fact(id: id) else { return .unknownEvidence(id) }
            cited.append(fact)
        }
        for subject in draft.subjects where packet.sensors[SensorID(subject)] == nil {
            return .unknownSensor(subject)
        }
        let text = draft.text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return .emptyText }
        if let id = Self.evidenceIDTokens(text).first { return .evidenceIDInText(id) }
        if let token = Self.identifierTokens(text).first {
            return packet.sensors[SensorID(token)] == nil ? .unknownSensor(token) : .sensorIDInText(token)
        }
        if let echoed = packet.facts.first(where: { Self.echoes(text, $0) }) { return .echoesEvidence(id: echoed.id) }
        if let failure = genericness(text, subjects: draft.subjects, cited: cited, packet: packet) { return failure }
        let values = (cited + packet.facts.filter { $0.kind == .window }).flatMap(\.values)
        for number in NumberToken.scan(text) {
            if let failure = check(number, values: values) { return failure }
        }
        return support(kind: draft.kind, cited: cited)
    }

    /// `fault` needs a sensor-fault fact, `anomaly` a fact above its baseline; the other kinds
    /// describe any evidence.
    func support(kind: String, cited: [EvidenceFact]) -> VerificationFailure? {
        switch kind {
        case "fault" where !cited.contains(where: { $0.note == EvidenceFact.faultNote }):
            .unsupportedKind(kind: kind, needs: "a sensor fault")
        case "anomaly" where !cited.contains(where: { $0.level >= .unusual }):
            .unsupportedKind(kind: kind, needs: "an UNUSUAL fact")
        default:
            nil
        }
    }

    /// The text holds two neighbouring `name value` parts of a fact's line as the prompt shows
    /// them (`from 10:45, to 11:00`), or the line's head (`window Sunday:`): a copy, not a sentence.
    static func echoes(_ text: String, _ fact: EvidenceFact) -> Bool {
        let squeezed = normalised(text)
        let parts = fact.lineParts.map(normalised)
        for index in parts.indices.dropLast() where squeezed.contains(parts[index] + ", " + parts[index + 1]) {
            return true
        }
        return squeezed.contains(normalised(fact.lineHead) + ":")
    }

    /// Lower case, single spaces, no final stop: how two texts are compared.
    static func normalised(_ text: String) -> String {
        text.lowercased().split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
            .trimmingCharacters(in: CharacterSet(charactersIn: ".!"))
    }

    /// Words shaped like prompt ids: `f` and digits only (`f0`, `f12`).
    static func evidenceIDTokens(_ text: String) -> [String] {
        text.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init).filter { word in
            word.count >= 2 && (word.first == "f" || word.first == "F") && word.dropFirst().allSatisfy(\.isASCII)
                && word.dropFirst().allSatisfy(\.isNumber)
        }
    }

    func check(_ number: NumberToken, values: [EvidenceValue]) -> VerificationFailure? {
        let candidates = values.filter { number.matches($0) }
        if candidates.isEmpty { return .fabricatedNumber(number.text) }
        guard let unit = number.unit else { return nil }
        if candidates.contains(where: { Units.canonical($0.unit) == unit }) { return nil }
        return .wrongUnit(number: number.text, unit: number.unitText ?? unit)
    }

    func genericness(_ text: String, subjects: [String], cited: [EvidenceFact], packet: EvidencePacket)
        -> VerificationFailure?
    {
        let words = text.split { !$0.isLetter && !$0.isNumber }
        guard words.count >= 4, text.count >= 15 else { return .genericText(text) }
        let lower = text.lowercased()
        let sensors = Set(subjects.map { SensorID($0) } + cited.compactMap(\.sensor))
        var vocabulary: Set<String> = []
        for sensor in sensors {
            for part in sensor.rawValue.split(whereSeparator: { $0 == "." || $0 == "_" }) { vocabulary.insert(String(part)) }
            if let descriptor = packet.sensors[sensor] {
                for word in descriptor.name.lowercased().split(separator: " ") { vocabulary.insert(String(word)) }
                vocabulary.formUnion(Units.words(deviceClass: descriptor.deviceClass))
            }
        }
        // Rooms by name: a room fact's room, and the areas `areas:` puts the sensors in.
        for room in cited.compactMap(\.room) + sensors.compactMap({ packet.areas[$0] }) {
            for part in room.lowercased().split(whereSeparator: { $0 == "_" || $0 == " " }) { vocabulary.insert(String(part)) }
        }
        if sensors.isEmpty && vocabulary.isEmpty { vocabulary = ["quiet", "window", "no", "nothing", "usual"] }
        vocabulary.subtract(["house", "sensor", "sensors"])
        guard vocabulary.contains(where: { $0.count >= 3 && lower.contains($0) }) else { return .genericText(text) }
        return nil
    }

    /// Words shaped like sensor ids (`garage.motion`): they must name sensors of this node.
    static func identifierTokens(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == ";" || $0 == "(" || $0 == ")" || $0 == "\"" })
            .map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: ".:!?")) }
            .filter { token in
                let parts = token.split(separator: ".", omittingEmptySubsequences: false)
                return parts.count >= 2 && parts.allSatisfy { part in
                    !part.isEmpty && part.allSatisfy { $0.isLowercase || $0 == "_" || $0.isNumber } && part.first?.isLetter == true
                }
            }
    }
}

/// Unit spellings people and models use, reduced to the units evidence values carry.
enum Units {
    static func canonical(_ unit: String) -> String {
        switch unit.lowercased() {
        case "°c", "c", "degc", "degree", "degrees", "celsius", "°": "°C"
        case "%", "percent", "per cent", "pct": "%"
        case "lx", "lux": "lx"
        case "min", "mins", "minute", "minutes": "min"
        case "h", "hr", "hrs", "hour", "hours": "h"
        case "d", "day", "days": "days"
        case "times", "time", "activation", "activations", "event", "events", "x": "times"
        case "hpa": "hPa"
        default: unit
        }
    }

    /// Words that say "unit" after a number; anything else after a number is no unit.
    static let known: Set<String> = [
        "°c", "c", "degc", "degree", "degrees", "celsius", "°", "%", "percent", "pct", "lx", "lux", "min", "mins",
        "minute", "minutes", "h", "hr", "hrs", "hour", "hours", "day", "days", "times", "activation", "activations", "event",
        "events", "x", "hpa", "am", "pm",
    ]

    static func words(deviceClass: String?) -> Set<String> {
        switch deviceClass {
        case "motion": ["motion", "movement", "moving", "activity", "active", "presence"]
        case "door": ["door", "opened", "open"]
        case "temperature": ["temperature", "warm", "cool", "cold", "degrees", "°c"]
        case "humidity": ["humidity", "humid", "damp", "dry"]
        case "illuminance": ["light", "lux", "bright", "dark", "lamps"]
        case "carbon_dioxide", "co2": ["co₂", "co2", "air", "ventilate"]
        default: []
        }
    }
}

/// A number found in text, with the unit word after it (if any).
struct NumberToken: Sendable, Hashable {
    var text: String
    var value: Double
    /// Decimals written.
    var decimals: Int
    /// A time of day `HH:MM` (value = hour + minute / 100).
    var isTime: Bool
    /// Canonical unit, if the text gives one.
    var unit: String?
    var unitText: String?

    func matches(_ evidence: EvidenceValue) -> Bool {
        if isTime || evidence.unit == "time" {
            guard evidence.unit == "time" else { return false }
            if isTime { return abs(evidence.value - value) < 0.001 }
            // "at 3 am": the hour alone.
            return (unit == "am" || unit == "pm") && Int(evidence.value) % 12 == Int(value) % 12
        }
        let scale = pow(10, Double(decimals))
        for candidate in [evidence.value, -evidence.value] {
            if abs((candidate * scale).rounded() / scale - value) < 1e-9 { return true }
        }
        return false
    }

    /// Every number in `text`. Digits inside words (`f3`, `bme280`) are not numbers.
    static func scan(_ text: String) -> [NumberToken] {
        let characters = Array(text)
        var tokens: [NumberToken] = []
        var index = 0
        while index < characters.count {
            let character = characters[index]
            let startsNumber = character.isASCII && character.isNumber
            let previous: Character? = index > 0 ? characters[index - 1] : nil
            guard startsNumber else {
                index += 1
                continue
            }
            if previous.map({ $0.isLetter || $0 == "_" || $0 == "." && index >= 2 && characters[index - 2].isLetter }) == true {
                // Digits inside a word (`f3`, `bme280`): skip the whole run.
                while index < characters.count, characters[index].isASCII, characters[index].isNumber { index += 1 }
                continue
            }
            var end = index
            while end < characters.count, characters[end].isASCII, characters[end].isNumber { end += 1 }
            var decimals = 0
            var isTime = false
            var value = Double(String(characters[index..<end])) ?? 0
            func digit(_ at: Int) -> Bool { at < characters.count && characters[at].isASCII && characters[at].isNumber }
            if end < characters.count, characters[end] == ":", digit(end + 1), digit(end + 2), !digit(end + 3)
            {
                let minutes = Double(String(characters[(end + 1)..<(end + 3)])) ?? 0
                value += minutes / 100
                isTime = true
                end += 3
            } else if end < characters.count, characters[end] == ".", digit(end + 1) {
                var fraction = end + 1
                while fraction < characters.count, characters[fraction].isASCII, characters[fraction].isNumber {
                    fraction += 1
                }
                decimals = fraction - end - 1
                value = Double(String(characters[index..<fraction])) ?? value
                end = fraction
            }
            let negative = index > 0 && characters[index - 1] == "-"
                && (index < 2 || characters[index - 2] == " " || characters[index - 2] == "(")
            if negative { value = -value }
            let written = (negative ? "-" : "") + String(characters[index..<end])
            // The unit: the next word (or symbol), glued or after one space.
            var cursor = end
            if cursor < characters.count, characters[cursor] == " " { cursor += 1 }
            var unitEnd = cursor
            while unitEnd < characters.count, characters[unitEnd].isLetter || characters[unitEnd] == "°" || characters[unitEnd] == "%" {
                unitEnd += 1
                if characters[unitEnd - 1] == "%" { break }
            }
            let word = String(characters[cursor..<unitEnd]).lowercased()
            var unit: String?
            var unitText: String?
            if Units.known.contains(word) {
                unit = word == "am" || word == "pm" ? word : Units.canonical(word)
                unitText = String(characters[cursor..<unitEnd])
            }
            tokens.append(NumberToken(text: written, value: value, decimals: decimals, isTime: isTime, unit: unit,
                                      unitText: unitText))
            index = max(end, index + 1)
        }
        return tokens
    }
}
