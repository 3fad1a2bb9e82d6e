import SmollamaCore

// The JSON API's largest and most requested bodies, written by `JSONWriter` (a 720-point series
// or a 200-entry observation list spent most of its time in `JSONEncoder`). Each writes the
// members its `Codable` form encodes, keys in sorted order; `JSONWriterTests` holds the bytes
// equal to `JSONEncoder`'s.

/// `/api/v1/log`.
struct LogBody: JSONWritable {
    var entries: [LogEntry]
    var estimatedBytes: Int { 32 + entries.count * 600 }

    func write(to json: inout JSONWriter) throws {
        try json.object { json in
            json.key("entries")
            try json.array(entries) { try $1.write(to: &$0) }
        }
    }
}

/// `/api/v1/observations`, `/api/v1/nodes/ID/observations`.
struct ObservationsBody: JSONWritable {
    var observations: [LogEntry]
    var estimatedBytes: Int { 32 + observations.count * 600 }

    func write(to json: inout JSONWriter) throws {
        try json.object { json in
            json.key("observations")
            try json.array(observations) { try $1.write(to: &$0) }
        }
    }
}

/// `/api/v1/memories`, `/api/v1/nodes/ID/memories`.
struct MemoriesBody: JSONWritable {
    var memories: [LogEntry]
    var estimatedBytes: Int { 32 + memories.count * 600 }

    func write(to json: inout JSONWriter) throws {
        try json.object { json in
            json.key("memories")
            try json.array(memories) { try $1.write(to: &$0) }
        }
    }
}

extension LogEntry {
    /// As `encode(to:)` encodes it: the observation without `confidence` (`ContractObservation`).
    func write(to json: inout JSONWriter) throws {
        try json.object { json in
            json.key("clockQuality")
            json.string(clockQuality.rawValue)
            json.key("hlc")
            json.int(hlc.rawValue)
            json.key("message")
            json.string(message)
            if let record = observation {
                json.key("observation")
                try json.object { json in
                    json.key("evidenceIDs")
                    json.strings(record.evidenceIDs)
                    json.key("generator")
                    json.string(record.generator.rawValue)
                    json.key("id")
                    json.string(record.id)
                    json.key("importance")
                    try json.double(record.importance)
                    json.key("kind")
                    json.string(record.kind)
                    json.key("subjects")
                    json.strings(record.subjects)
                    json.key("support")
                    json.int(record.support)
                    json.key("text")
                    json.string(record.text)
                    json.key("timeEnd")
                    json.int(record.timeEnd.rawValue)
                    json.key("timeStart")
                    json.int(record.timeStart.rawValue)
                }
            }
            json.key("stream")
            json.string(stream.rawValue)
            json.key("subject")
            json.string(subject)
            json.key("time")
            json.int(time.rawValue)
            json.key("type")
            json.string(type)
        }
    }
}

/// `/api/v1/series`, `/api/v1/nodes/ID/series`: the series itself.
struct SeriesBody: JSONWritable {
    var series: Series
    var estimatedBytes: Int { 256 + series.points.count * 120 }

    func write(to json: inout JSONWriter) throws { try series.write(to: &json) }
}

extension Series {
    func write(to json: inout JSONWriter) throws {
        try json.object { json in
            json.key("from")
            json.int(from.rawValue)
            json.key("kind")
            json.string(kind.rawValue)
            json.key("name")
            json.string(name)
            json.key("points")
            try json.array(points) { try $1.write(to: &$0) }
            json.key("range")
            json.string(range.rawValue)
            json.key("resolutionMilliseconds")
            json.int(resolutionMilliseconds)
            json.key("sensor")
            json.string(sensor.rawValue)
            json.key("to")
            json.int(to.rawValue)
            json.key("unit")
            json.string(unit)
        }
    }
}

extension Series.Point {
    /// An empty bucket has no min, max or mean: the keys are absent, as `Codable` leaves them.
    func write(to json: inout JSONWriter) throws {
        try json.object { json in
            json.key("count")
            json.int(count)
            if let max {
                json.key("max")
                try json.double(max)
            }
            if let mean {
                json.key("mean")
                try json.double(mean)
            }
            if let min {
                json.key("min")
                try json.double(min)
            }
            json.key("onCount")
            json.int(onCount)
            json.key("onDuration")
            json.int(onDuration)
            json.key("start")
            json.int(start.rawValue)
        }
    }
}
