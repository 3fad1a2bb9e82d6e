/// A proleptic Gregorian date from a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`): dates without a `Calendar`, for the digest's "Tuesday 24 November" and
/// ISO 8601 times.
public struct CivilDate: Sendable, Hashable {
    public var year: Int64
    public var month: Int
    public var day: Int

    public init(day index: Int64) {
        let z = index + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
        month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    public static let monthNames = ["January", "February", "March", "April", "May", "June", "July", "August",
                                    "September", "October", "November", "December"]
    public var monthName: String { Self.monthNames[month - 1] }
}
