import Testing
@testable import SmollamaCore

@Suite struct HybridLogicalClockTests {
    let now: Int64 = 1_795_000_000_000  // 2026-11-18, after the build floor
    let second: UInt64 = 1_000_000_000

    @Test func followsAGoodWallClock() {
        var clock = HybridLogicalClock(persisted: nil, monotonicNanoseconds: 0)
        let a = clock.tick(wallMilliseconds: now, monotonicNanoseconds: 0)
        let b = clock.tick(wallMilliseconds: now + 1500, monotonicNanoseconds: 1500 * 1_000_000)
        #expect(a.milliseconds == now)
        #expect(b.milliseconds == now + 1500)
        #expect(clock.quality == .synced)
    }

    @Test func sameMillisecondBumpsTheCounter() {
        var clock = HybridLogicalClock(persisted: nil, monotonicNanoseconds: 0)
        let a = clock.tick(wallMilliseconds: now, monotonicNanoseconds: 0)
        let b = clock.tick(wallMilliseconds: now, monotonicNanoseconds: 0)
        #expect(b > a)
        #expect(b.milliseconds == a.milliseconds && b.counter == a.counter + 1)
    }

    @Test func monotonicAcrossRestartEvenWhenTheWallClockIsBehind() {
        var first = HybridLogicalClock(persisted: nil, monotonicNanoseconds: 0)
        var issued = [first.tick(wallMilliseconds: now, monotonicNanoseconds: 0)]
        issued.append(first.tick(wallMilliseconds: now + 60_000, monotonicNanoseconds: 60 * second))
        // Restart: the store hands back the largest stamp; the wall clock is 10 minutes earlier.
        var second = HybridLogicalClock(persisted: issued.max(), monotonicNanoseconds: 5 * self.second)
        issued.append(second.tick(wallMilliseconds: now - 600_000, monotonicNanoseconds: 6 * self.second))
        issued.append(second.tick(wallMilliseconds: now - 599_000, monotonicNanoseconds: 7 * self.second))
        #expect(issued == issued.sorted())
        #expect(Set(issued).count == issued.count)
        #expect(second.quality == .unsynced)
    }

    @Test func a1970WallClockIsUntrustedAndTimeAdvancesByTheMonotonicClock() {
        let persisted = HLCTimestamp(milliseconds: now, counter: 3)
        var clock = HybridLogicalClock(persisted: persisted, monotonicNanoseconds: 10 * second)
        // A Pi without RTC boots at the epoch.
        let a = clock.tick(wallMilliseconds: 5_000, monotonicNanoseconds: 11 * second)
        #expect(clock.quality == .unsynced)
        let b = clock.tick(wallMilliseconds: 65_000, monotonicNanoseconds: 71 * second)
        #expect(a > persisted && b > a)
        #expect(a.milliseconds == now + 1000)
        #expect(b.milliseconds == now + 61_000)
        // NTP arrives with the real time: trusted again, still monotonic.
        let c = clock.tick(wallMilliseconds: now + 3_600_000, monotonicNanoseconds: 72 * second)
        #expect(clock.quality == .synced)
        #expect(c.milliseconds == now + 3_600_000)
    }

    @Test func a2099WallClockIsUntrustedAndCapped() {
        var clock = HybridLogicalClock(persisted: HLCTimestamp(milliseconds: now, counter: 0), monotonicNanoseconds: 0)
        let year2099: Int64 = 4_070_908_800_000
        let a = clock.tick(wallMilliseconds: year2099, monotonicNanoseconds: 2 * second)
        #expect(clock.quality == .unsynced)
        #expect(a.milliseconds == now + 2000)
        // When the wall clock comes back to sane values, stamps continue without going back.
        let b = clock.tick(wallMilliseconds: now + 3000, monotonicNanoseconds: 3 * second)
        #expect(b > a)
        #expect(clock.quality == .synced)
    }

    @Test func aFrozenWallClockBecomesUntrustedOnceTimeHasClearlyPassed() {
        var clock = HybridLogicalClock(persisted: nil, monotonicNanoseconds: 0)
        var stamps: [HLCTimestamp] = []
        for step in 0..<10 {
            stamps.append(clock.tick(wallMilliseconds: now, monotonicNanoseconds: UInt64(step) * second))
        }
        #expect(stamps == stamps.sorted() && Set(stamps).count == stamps.count)
        // Within tolerance the counter absorbs it; a frozen clock never moves stamps back.
        #expect(stamps.last!.milliseconds >= now)
    }

    @Test func aWallClockJumpingBackIsNotFollowed() {
        var clock = HybridLogicalClock(persisted: nil, monotonicNanoseconds: 0)
        let a = clock.tick(wallMilliseconds: now, monotonicNanoseconds: 0)
        let b = clock.tick(wallMilliseconds: now - 3_600_000, monotonicNanoseconds: 5 * second)
        #expect(b.milliseconds == a.milliseconds + 5000)
        #expect(clock.quality == .unsynced)
    }

    @Test func counterExhaustionBorrowsTheNextMillisecond() {
        var clock = HybridLogicalClock(persisted: HLCTimestamp(milliseconds: now, counter: .max), monotonicNanoseconds: 0)
        let a = clock.tick(wallMilliseconds: now, monotonicNanoseconds: 0)
        #expect(a == HLCTimestamp(milliseconds: now + 1, counter: 0))
    }

    @Test func observingARemoteStampOrdersAfterIt() {
        var clock = HybridLogicalClock(persisted: nil, monotonicNanoseconds: 0)
        _ = clock.tick(wallMilliseconds: now, monotonicNanoseconds: 0)
        let remote = HLCTimestamp(milliseconds: now + 500, counter: 7)
        clock.observe(remote, monotonicNanoseconds: 0)
        #expect(clock.tick(wallMilliseconds: now, monotonicNanoseconds: 0) > remote)
        // A remote from 2099 is ignored.
        clock.observe(HLCTimestamp(milliseconds: 4_070_908_800_000, counter: 0), monotonicNanoseconds: 0)
        #expect(clock.last.milliseconds < now + 1000)
    }

    /// Issue 18, finding 1: a clock restarted from the last stamp of its range saturates there
    /// instead of trapping, and a remote stamp more than 10 minutes ahead does not move it.
    @Test func farFutureStampsSaturateAndDoNotMoveTheClock() {
        var end = HybridLogicalClock(persisted: HLCTimestamp(rawValue: .max), monotonicNanoseconds: 0)
        let first = end.tick(wallMilliseconds: now, monotonicNanoseconds: 5_000_000_000)
        let second = end.tick(wallMilliseconds: now, monotonicNanoseconds: 10_000_000_000)
        #expect(first.rawValue == .max && second.rawValue == .max)

        var clock = HybridLogicalClock(persisted: nil, monotonicNanoseconds: 0)
        _ = clock.tick(wallMilliseconds: now, monotonicNanoseconds: 0)
        clock.observe(HLCTimestamp(milliseconds: now + 11 * 60_000, counter: 0), monotonicNanoseconds: 0)
        #expect(clock.last.milliseconds == now, "a stamp 11 minutes ahead moved the clock")
        clock.observe(HLCTimestamp(milliseconds: now + 9 * 60_000, counter: 0), monotonicNanoseconds: 0)
        #expect(clock.last.milliseconds == now + 9 * 60_000)
    }

    @Test func packingRoundTrips() {
        let stamp = HLCTimestamp(milliseconds: now, counter: 513)
        #expect(stamp.milliseconds == now && stamp.counter == 513)
        #expect(HLCTimestamp(milliseconds: now, counter: 1) < HLCTimestamp(milliseconds: now + 1, counter: 0))
    }
}

/// "NTP on connect": an untrusted clock that adopted the hub's time stamps by it, trusted.
@Suite struct AdoptedHubTimeTests {
    let hub: Int64 = 1_796_000_000_000

    @Test func anUntrustedClockFollowsTheHubsTimeAndATrustedWallClockWinsAgain() {
        var clock = HybridLogicalClock(persisted: nil, monotonicNanoseconds: 1_000_000_000)
        _ = clock.tick(wallMilliseconds: 0, monotonicNanoseconds: 2_000_000_000)
        #expect(clock.quality == .unsynced)
        clock.adopt(referenceMilliseconds: hub, monotonicNanoseconds: 3_000_000_000)
        let stamp = clock.tick(wallMilliseconds: 0, monotonicNanoseconds: 4_000_000_000)
        #expect(clock.quality == .synced && clock.followsReference)
        #expect(stamp.milliseconds == hub + 1_000)
        let wall = hub + 5_000
        let next = clock.tick(wallMilliseconds: wall, monotonicNanoseconds: 5_000_000_000)
        #expect(next.milliseconds == wall && clock.quality == .synced && !clock.followsReference)
    }

    @Test func aReferenceBeforeTheBuildIsIgnored() {
        var clock = HybridLogicalClock(persisted: nil, monotonicNanoseconds: 1_000_000_000)
        clock.adopt(referenceMilliseconds: 1_000, monotonicNanoseconds: 1_000_000_000)
        _ = clock.tick(wallMilliseconds: 0, monotonicNanoseconds: 2_000_000_000)
        #expect(clock.reference == nil && clock.quality == .unsynced)
    }
}
