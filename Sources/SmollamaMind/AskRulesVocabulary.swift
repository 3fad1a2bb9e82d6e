import Foundation

extension RulesAnswerer {
    /// The words `ask` by rules understands: per quantity, per kind of room, per time phrase.
    /// Lists of synonyms, matched against the normalized question (lower case, punctuation as
    /// spaces, padded with a space each side so " word " matches a whole word).
    enum Vocabulary {
        static let temperature = ["temperature", " temp ", " temps ", "warm", "cold", " hot ", "degrees", "cool", "chilly",
                                  "heat", "freezing"]
        static let warmest = ["warmest", "hottest", "toastiest"]
        static let coldest = ["coldest", "coolest", "chilliest"]
        static let highest = ["highest", "maximum", " most ", " top "]
        static let lowest = ["lowest", "minimum", " least "]
        static let humidity = ["humid", "damp", "moist", "muggy", " dry "]
        static let co2 = [" co2 ", "co₂", "carbon dioxide", " ppm ", "air quality", "stuffy"]
        static let ventilate = ["ventilat", "open a window", "open the window", "air out", "air it", "fresh air", "stuffy"]
        static let count = ["how many", "how often", "number of", " times ", " count "]
        static let duration = ["how long", "how many hours", "how many minutes", "how much time", "for how long"]
        static let usual = ["usually", " usual ", "typical", "normally", "routine", "habit", "often", "tend to",
                            "schedule", "generally", "as a rule"]
        static let person = ["anyone", "anybody", "someone", "somebody", " people ", " person ", "sitting", "in there"]
        static let occupied = ["occupied", "in use", "empty"]
        static let motion = ["motion", "movement", " move", "moving", "walk", "activity", "stirring"]
        static let now = [" now ", "right now", "at the moment", "currently", "at present", " still "]
        /// Words that put a question in the past (so "is anyone there" does not apply).
        static let past = [" was ", " were ", "yesterday", "last night", "overnight", "earlier", " did "]
        static let observed = ["observed", "observation", "noticed", " notes ", " note ", "recent", "lately", " seen ",
                               "what s new", "latest"]

        /// Other names of a kind of room, by the room's id (a node's rooms match by their own
        /// name first; these only add to it).
        static let roomAliases: [String: [String]] = [
            "hallway": [" hall ", " corridor ", " entrance ", " entry ", " foyer ", "front door"],
            "living_room": [" lounge ", "sitting room", " den ", "family room", " front room "],
            "office": [" study room ", " workroom ", " work room "],
            "kitchen": [" cooking "],
            "bedroom": [" bed room "],
        ]

        /// Lower case, every character but letters, digits and ':' as a space, padded by a space.
        static func normalized(_ question: String) -> String {
            let mapped = question.lowercased().map { $0.isLetter || $0.isNumber || $0 == ":" ? $0 : " " }
            return " " + String(mapped).split(separator: " ").joined(separator: " ") + " "
        }

        /// The rooms among `known` a normalized question names, by id, spaced name or alias.
        static func rooms(in text: String, among known: Set<String>) -> Set<String> {
            known.filter { room in
                text.contains(" " + RulesAnswerer.roomName(room)) || text.contains(" " + room)
                    || (roomAliases[room] ?? []).contains { text.contains($0) }
            }
        }

        /// A time of day the question names: "at 03:00", "around 3 am", "at 7 pm", "about 15:30".
        static func clockTime(in text: String) -> (hour: Int, minute: Int)? {
            guard let match = text.firstMatch(of: #/ (?:at|around|about|near|by) (\d{1,2})(?::(\d{2}))? ?(am|pm|o clock)? /#)
            else { return nil }
            guard var hour = Int(match.1), hour < 24 else { return nil }
            let minute = match.2.flatMap { Int($0) } ?? 0
            guard match.2 != nil || match.3 != nil, minute < 60 else { return nil }
            if match.3 == "pm", hour < 12 { hour += 12 }
            if match.3 == "am", hour == 12 { hour = 0 }
            return (hour, minute)
        }
    }
}
