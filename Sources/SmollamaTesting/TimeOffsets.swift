public import SmollamaCore

/// Fixtures write offsets as milliseconds (`start + 10 * day`); only test code imports this.
extension UTCMillis {
    @_disfavoredOverload
    public static func + (lhs: UTCMillis, rhs: Int64) -> UTCMillis { UTCMillis(rawValue: lhs.rawValue + rhs) }
    @_disfavoredOverload
    public static func - (lhs: UTCMillis, rhs: Int64) -> UTCMillis { UTCMillis(rawValue: lhs.rawValue - rhs) }
    @_disfavoredOverload
    public static func += (lhs: inout UTCMillis, rhs: Int64) { lhs = lhs + rhs }
}

extension ClockStamp {
    @_disfavoredOverload
    public static func test(_ time: UTCMillis, bootID: String = "test", monotonicNanoseconds: UInt64 = 0) -> ClockStamp {
        test(time.rawValue, bootID: bootID, monotonicNanoseconds: monotonicNanoseconds)
    }
}
