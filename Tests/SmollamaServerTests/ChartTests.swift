import Foundation
import SmollamaCore
@testable import SmollamaServer
import Testing

@Suite struct ChartTests {
    @Test func coordinatesHaveOneDecimal() {
        #expect(Chart.f(0) == "0.0")
        #expect(Chart.f(12.34) == "12.3")
        #expect(Chart.f(12.35) == "12.4")
        #expect(Chart.f(-0.04) == "0.0")
        #expect(Chart.f(-3.26) == "-3.3")
        #expect(Chart.f(.nan) == "0.0")
    }

    @Test func gapsBreakTheLineAndEmptySeriesSaySo() {
        func point(_ start: UTCMillis) -> Series.Point {
            .init(start: start, count: 1, min: 1, max: 3, mean: 2, onDuration: 0, onCount: 0)
        }
        var series = Series(sensor: "a", name: "A <b>", kind: .numeric, unit: "°C", range: .day,
                            resolutionMilliseconds: 300_000, from: 0, to: 86_400_000,
                            points: [point(0), point(300_000), point(3_000_000), point(3_300_000)])
        #expect(Chart.runs(series).map(\.count) == [2, 2])
        let svg = Chart.svg(series).raw
        #expect(svg.components(separatedBy: "M").count - 1 >= 4)  // two runs in band and mean
        #expect(svg.contains("A &lt;b&gt;"))
        series.points = []
        #expect(Chart.svg(series).raw.contains("no data in this range"))
    }

    @Test func numbersReadWell() {
        #expect(Format.count(371_219) == "371,219")
        #expect(Format.count(12) == "12")
        #expect(Format.value(67_600_000_000, unit: "B") == "67.6 GB")
        #expect(Format.value(16.42, unit: "°C") == "16.4 °C")
        #expect(Format.value(nil, unit: "x") == "–")
        #expect(Format.age(1_000, now: 61_000) == "1 min ago")
    }
}
