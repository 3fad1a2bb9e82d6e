/// Bosch's integer compensation for the BME280 (datasheet BST-BME280-DS002, section 4.2.3 and
/// appendix 8.2), transcribed with 64-bit arithmetic so no intermediate can overflow. Pure, so
/// the datasheet's example vector is a unit test.
public struct BME280Calibration: Hashable, Sendable {
    public var t1: UInt16, t2: Int16, t3: Int16
    public var p1: UInt16, p2: Int16, p3: Int16, p4: Int16, p5: Int16, p6: Int16, p7: Int16, p8: Int16, p9: Int16
    public var h1: UInt8, h2: Int16, h3: UInt8, h4: Int16, h5: Int16, h6: Int8

    public init(
        t1: UInt16, t2: Int16, t3: Int16,
        p1: UInt16, p2: Int16, p3: Int16, p4: Int16, p5: Int16, p6: Int16, p7: Int16, p8: Int16, p9: Int16,
        h1: UInt8 = 0, h2: Int16 = 0, h3: UInt8 = 0, h4: Int16 = 0, h5: Int16 = 0, h6: Int8 = 0
    ) {
        (self.t1, self.t2, self.t3) = (t1, t2, t3)
        (self.p1, self.p2, self.p3, self.p4, self.p5) = (p1, p2, p3, p4, p5)
        (self.p6, self.p7, self.p8, self.p9) = (p6, p7, p8, p9)
        (self.h1, self.h2, self.h3, self.h4, self.h5, self.h6) = (h1, h2, h3, h4, h5, h6)
    }

    /// Parses registers 0x88…0xA1 (26 bytes) and 0xE1…0xE7 (7 bytes).
    public init(block1 a: [UInt8], block2 e: [UInt8]) {
        precondition(a.count >= 26 && e.count >= 7, "BME280 calibration is 26 + 7 bytes")
        func u16(_ i: Int) -> UInt16 { UInt16(a[i]) | UInt16(a[i + 1]) << 8 }
        func s16(_ i: Int) -> Int16 { Int16(bitPattern: u16(i)) }
        self.init(
            t1: u16(0), t2: s16(2), t3: s16(4),
            p1: u16(6), p2: s16(8), p3: s16(10), p4: s16(12), p5: s16(14), p6: s16(16), p7: s16(18), p8: s16(20),
            p9: s16(22),
            h1: a[25],
            h2: Int16(bitPattern: UInt16(e[0]) | UInt16(e[1]) << 8),
            h3: e[2],
            // dig_H4 = 0xE4[7:0] << 4 | 0xE5[3:0]; dig_H5 = 0xE6[7:0] << 4 | 0xE5[7:4]; the MSB bytes are signed.
            h4: Int16(Int8(bitPattern: e[3])) * 16 | Int16(e[4] & 0x0F),
            h5: Int16(Int8(bitPattern: e[5])) * 16 | Int16(e[4] >> 4),
            h6: Int8(bitPattern: e[6]))
    }

    /// `t_fine`, shared by all three compensations.
    public func fineTemperature(adcT: Int32) -> Int64 {
        let adc = Int64(adcT)
        let t1 = Int64(self.t1), t2 = Int64(self.t2), t3 = Int64(self.t3)
        let var1 = (((adc >> 3) - (t1 << 1)) * t2) >> 11
        let var2 = (((((adc >> 4) - t1) * ((adc >> 4) - t1)) >> 12) * t3) >> 14
        return var1 + var2
    }

    /// Temperature in hundredths of °C ("5123" = 51.23 °C).
    public func temperatureCentiCelsius(tFine: Int64) -> Int64 {
        (tFine * 5 + 128) >> 8
    }

    /// Pressure in Pa as Q24.8 (divide by 256), from the 64-bit routine; nil if the divisor is 0.
    public func pressureQ24_8(adcP: Int32, tFine: Int64) -> UInt32? {
        var var1 = tFine - 128000
        var var2 = var1 * var1 * Int64(p6)
        var2 = var2 + ((var1 * Int64(p5)) << 17)
        var2 = var2 + (Int64(p4) << 35)
        var1 = ((var1 * var1 * Int64(p3)) >> 8) + ((var1 * Int64(p2)) << 12)
        var1 = (((Int64(1) << 47) + var1) * Int64(p1)) >> 33
        guard var1 != 0 else { return nil }
        var p = 1_048_576 - Int64(adcP)
        p = (((p << 31) - var2) * 3125) / var1
        var1 = (Int64(p9) * (p >> 13) * (p >> 13)) >> 25
        var2 = (Int64(p8) * p) >> 19
        p = ((p + var1 + var2) >> 8) + (Int64(p7) << 4)
        return UInt32(truncatingIfNeeded: p)
    }

    /// Relative humidity in %RH as Q22.10 (divide by 1024).
    public func humidityQ22_10(adcH: Int32, tFine: Int64) -> UInt32 {
        var v = tFine - 76800
        let adc = Int64(adcH)
        let part1 = ((adc << 14) - (Int64(h4) << 20) - (Int64(h5) * v) + 16384) >> 15
        let part2 = ((((((v * Int64(h6)) >> 10) * (((v * Int64(h3)) >> 11) + 32768)) >> 10) + 2_097_152) * Int64(h2) + 8192) >> 14
        v = part1 * part2
        v = v - (((((v >> 15) * (v >> 15)) >> 7) * Int64(h1)) >> 4)
        v = min(max(v, 0), 419_430_400)
        return UInt32(v >> 12)
    }
}

/// One compensated BME280 measurement.
public struct BME280Measurement: Hashable, Sendable {
    public var celsius: Double
    public var pascals: Double
    /// nil on a BMP280, which has no humidity sensor.
    public var relativeHumidity: Double?

    /// Compensates raw ADC values; a skipped channel (0x80000 / 0x8000) gives NaN, which the
    /// scheduler refuses.
    public init(calibration: BME280Calibration, adcT: Int32, adcP: Int32, adcH: Int32?) {
        let tFine = calibration.fineTemperature(adcT: adcT)
        celsius = adcT == 0x80000 ? .nan : Double(calibration.temperatureCentiCelsius(tFine: tFine)) / 100
        if adcP == 0x80000 {
            pascals = .nan
        } else {
            pascals = calibration.pressureQ24_8(adcP: adcP, tFine: tFine).map { Double($0) / 256 } ?? .nan
        }
        relativeHumidity = adcH.map { $0 == 0x8000 ? .nan : Double(calibration.humidityQ22_10(adcH: $0, tFine: tFine)) / 1024 }
    }
}
