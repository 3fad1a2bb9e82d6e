import Foundation
import Logging
import Synchronization
import SmollamaCore
import SmollamaTesting
import Testing
@testable import SmollamaNode

/// Issue 17's idle-RSS budget: the daemon gives back the executable's code pages it ran once
/// (start-up) or that fault-around mapped, after start-up and then every few hours.
struct CodePageTrimTests {
    @Test func findsEveryMappingOfTheExecutableAndNothingElse() {
        let maps = """
            55d0c0000000-55d0c0400000 r--p 00000000 fe:01 123 /opt/smollama/bin/smollama
            55d0c0400000-55d0c2000000 r-xp 00400000 fe:01 123 /opt/smollama/bin/smollama
            55d0c2000000-55d0c2100000 rw-p 02000000 fe:01 123 /opt/smollama/bin/smollama
            7f0000000000-7f0000100000 r-xp 00000000 fe:01 456 /usr/lib/x86_64-linux-gnu/libsqlite3.so.0.8.6
            7f0000200000-7f0000300000 rw-p 00000000 00:00 0
            7f0000400000-7f0000500000 r--p 00000000 fe:01 789 /opt/smollama/bin/smollama (deleted)
            7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]
            """
        let found = CodePageTrim.mappings(of: "/opt/smollama/bin/smollama", in: maps)
        #expect(found.map(\.start) == [0x55d0_c000_0000, 0x55d0_c040_0000, 0x55d0_c200_0000])
        #expect(found.map(\.length) == [0x40_0000, 0x1C0_0000, 0x10_0000])
        #expect(CodePageTrim.mappings(of: "/opt/smollama/bin/smollama (deleted)", in: maps).count == 1,
                "a path with a space is read whole")
        #expect(CodePageTrim.mappings(of: "/usr/bin/other", in: maps).isEmpty)
    }

    /// Resident bytes of this process's mappings of its own executable (smaps `Rss:`).
    func residentExecutableBytes() throws -> Int {
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        var inExecutable = false
        var kilobytes = 0
        for line in try String(contentsOfFile: "/proc/self/smaps", encoding: .utf8).split(separator: "\n") {
            if let first = line.first, first.isHexDigit, line.contains("-"), line.split(separator: " ").count >= 5 {
                inExecutable = line.hasSuffix(" " + executable)
            } else if inExecutable, line.hasPrefix("Rss:") {
                kilobytes += Int(line.split(separator: " ")[1]) ?? 0
            }
        }
        return kilobytes * 1024
    }

    @Test func trimmingGivesBackResidentCodePages() throws {
        let before = try residentExecutableBytes()
        #expect(before > 1 << 20, "the test binary runs from more than 1 MiB of its code")
        let advised = CodePageTrim.trimExecutable()
        let after = try residentExecutableBytes()
        #expect(advised > before, "every mapping of the executable is advised: \(advised) bytes")
        #expect(after < before / 2, "resident code went from \(before) to \(after) bytes")
    }

    @Test func trimsAfterStartUpAndThenOnItsInterval() async throws {
        let clock = ManualClock()
        let trims = Mutex(0)
        let service = CodePageTrimService(
            clock: ServiceClock(clock), first: .seconds(120), interval: .seconds(3600),
            trim: { trims.withLock { $0 += 1 }; return 4096 }, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let task = Task { try await service.run() }
        defer { task.cancel() }
        #expect(try await clock.waitForSleepers())
        clock.advance(by: .seconds(119))
        try await Task.sleep(for: .milliseconds(100))
        #expect(trims.withLock { $0 } == 0, "not before start-up is over")
        clock.advance(by: .seconds(1))
        #expect(try await eventually { trims.withLock { $0 } == 1 && clock.sleepers == 1 })
        clock.advance(by: .seconds(3600))
        #expect(try await eventually { trims.withLock { $0 } == 2 && clock.sleepers == 1 })
    }
}
