import Foundation
#if canImport(Glibc)
import Glibc
#endif
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

    /// Resident bytes of this process's mappings of `file` (smaps `Rss:`).
    func resident(_ file: String) throws -> Int {
        var inFile = false
        var kilobytes = 0
        // Read to the end: procfs files report size 0.
        let smaps = try #require(try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/smaps")).readToEnd())
        for line in String(decoding: smaps, as: UTF8.self).split(separator: "\n") {
            if let first = line.first, first.isHexDigit, line.contains("-"), line.split(separator: " ").count >= 5 {
                inFile = line.hasSuffix(" " + file)
            } else if inFile, line.hasPrefix("Rss:") {
                kilobytes += Int(line.split(separator: " ")[1]) ?? 0
            }
        }
        return kilobytes * 1024
    }

    /// A file mapped as the executable's code is (private, read-only) and read through: trimming
    /// its mappings gives its pages back. (The test binary itself runs other suites' code at the
    /// same time, so its own resident size is not a stable measure.)
    @Test func trimmingGivesBackResidentPages() throws {
        let folder = try TemporaryDirectory("code-trim")
        let size = 8 << 20
        #expect(FileManager.default.createFile(atPath: folder.path + "/code",
                                               contents: Data((0..<size).map { UInt8(truncatingIfNeeded: $0 / 4096) })))
        // As /proc/self/maps names it.
        let path = try #require(realpath(folder.path + "/code", nil).map { pointer in
            defer { free(pointer) }
            return String(cString: pointer)
        })
        let descriptor = open(path, O_RDONLY)
        #expect(descriptor >= 0)
        defer { close(descriptor) }
        #expect(fsync(descriptor) == 0, "clean pages, as a binary's are")
        let mapped: UnsafeMutableRawPointer? = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0)
        let base = try #require(mapped.flatMap { $0 == MAP_FAILED ? nil : $0 }, "mmap failed: errno \(errno)")
        defer { munmap(base, size) }
        var sum = 0
        for page in stride(from: 0, to: size, by: 4096) { sum &+= Int(base.load(fromByteOffset: page, as: UInt8.self)) }
        let before = try resident(path)
        #expect(before > size / 2, "read through: \(before) of \(size) bytes resident (sum \(sum))")
        let advised = CodePageTrim.trim(mappingsOf: path)
        let after = try resident(path)
        #expect(advised == size, "the whole mapping is advised")
        #expect(after < size / 8, "resident went from \(before) to \(after) bytes")
    }

    @Test func theExecutableItselfIsTrimmed() {
        #expect(CodePageTrim.trimExecutable() > 1 << 20, "every mapping of the test binary is advised")
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
