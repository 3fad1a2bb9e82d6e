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

/// Issue 17's idle-RSS budget: the daemon gives back the code pages it ran once (start-up) or
/// that fault-around mapped, after start-up and then every few hours. Serialized: the whole
/// process's trim would drop the other tests' mappings while they measure them.
@Suite(.serialized) struct CodePageTrimTests {
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

    /// Resident bytes of this process's mappings of `file` (smaps `Rss:`), or only of the one
    /// that starts `at`.
    func resident(_ file: String, at start: UnsafeMutableRawPointer? = nil) throws -> Int {
        var inFile = false
        var kilobytes = 0
        // Read to the end: procfs files report size 0.
        let smaps = try #require(try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/smaps")).readToEnd())
        for line in String(decoding: smaps, as: UTF8.self).split(separator: "\n") {
            if let first = line.first, first.isHexDigit, line.contains("-"), line.split(separator: " ").count >= 5 {
                inFile = line.hasSuffix(" " + file)
                    && (start.map { line.hasPrefix(String(UInt(bitPattern: $0), radix: 16) + "-") } ?? true)
            } else if inFile, line.hasPrefix("Rss:") {
                kilobytes += Int(line.split(separator: " ")[1]) ?? 0
            }
        }
        return kilobytes * 1024
    }

    @Test func readsPermissionsAndAnonymousPagesFromSmaps() {
        let smaps = """
            55d0c0000000-55d0c2000000 r-xp 00000000 fe:01 123 /opt/smollama/bin/smollama
            Rss:               15736 kB
            Anonymous:             0 kB
            55d0c2000000-55d0c2100000 r--p 02000000 fe:01 123 /opt/smollama/bin/smollama
            Anonymous:          1528 kB
            55d0c2100000-55d0c2200000 rw-p 02100000 fe:01 123 /opt/smollama/bin/smollama
            Anonymous:           592 kB
            7f0000000000-7f0000100000 r--p 00000000 fe:01 456 /usr/lib/x86_64-linux-gnu/libc.so.6
            Anonymous:             0 kB
            7f0000100000-7f0000200000 r--s 00000000 fe:01 457 /var/lib/smollama/store.db-shm
            Anonymous:             0 kB
            7f0000200000-7f0000300000 rw-p 00000000 00:00 0
            Anonymous:          5628 kB
            7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0                          [vdso]
            Anonymous:             0 kB
            """
        let found = CodePageTrim.mappings(inSmaps: smaps)
        #expect(found.map(\.permissions) == ["r-xp", "r--p", "rw-p", "r--p", "r--s", "rw-p", "r-xp"])
        #expect(found.map(\.anonymousKilobytes) == [0, 1528, 592, 0, 0, 5628, 0])
        #expect(found.map(\.length) == [0x200_0000, 0x10_0000, 0x10_0000, 0x10_0000, 0x10_0000, 0x10_0000, 0x2000])
        #expect(found.filter(\.isUnwrittenFileCode).map(\.path)
                    == ["/opt/smollama/bin/smollama", "/usr/lib/x86_64-linux-gnu/libc.so.6"],
                "code and constants only: not relocated data, writable or shared mappings, anonymous memory or the vDSO")
    }

    /// A file created in a temporary folder, synced (clean pages, as a binary's are), by the
    /// path /proc/self/maps gives it.
    func codeFile(_ folder: TemporaryDirectory, name: String = "code", size: Int) throws -> String {
        #expect(FileManager.default.createFile(atPath: folder.path + "/" + name,
                                               contents: Data((0..<size).map { UInt8(truncatingIfNeeded: $0 / 4096) })))
        let path = try #require(realpath(folder.path + "/" + name, nil).map { pointer in
            defer { free(pointer) }
            return String(cString: pointer)
        })
        let descriptor = open(path, O_RDONLY)
        defer { close(descriptor) }
        #expect(descriptor >= 0 && fsync(descriptor) == 0)
        return path
    }

    /// `path` mapped private with `protection`, read through.
    func mapReadThrough(_ path: String, size: Int, protection: Int32 = PROT_READ | PROT_EXEC) throws -> UnsafeMutableRawPointer {
        let descriptor = open(path, O_RDONLY)
        defer { close(descriptor) }
        let mapped: UnsafeMutableRawPointer? = mmap(nil, size, protection, MAP_PRIVATE, descriptor, 0)
        let base = try #require(mapped.flatMap { $0 == MAP_FAILED ? nil : $0 }, "mmap failed: errno \(errno)")
        var sum = 0
        for page in stride(from: 0, to: size, by: 4096) { sum &+= Int(base.load(fromByteOffset: page, as: UInt8.self)) }
        #expect(sum >= 0)
        return base
    }

    /// A file mapped as the executable's code is (private, read and execute) and read through:
    /// trimming gives its pages back. (The test binary itself runs other suites' code at the
    /// same time, so its own resident size is not a stable measure.)
    @Test func trimmingGivesBackResidentPages() throws {
        let folder = try TemporaryDirectory("code-trim")
        let size = 8 << 20
        let path = try codeFile(folder, size: size)
        let base = try mapReadThrough(path, size: size)
        defer { munmap(base, size) }
        let before = try resident(path)
        #expect(before > size / 2, "read through: \(before) of \(size) bytes resident")
        let advised = CodePageTrim.trim(pagingOut: path) { $0.path == path }
        let after = try resident(path)
        #expect(advised == size, "the whole mapping is advised")
        #expect(after < size / 8, "resident went from \(before) to \(after) bytes")
    }

    /// `MADV_PAGEOUT` leaves a file page alone when another process maps it too (a `smollama`
    /// command beside the daemon, a library every process maps), and all file pages of a binary
    /// the process may not write (the packaged service's, owned by root): dropping the mapping's
    /// pages takes them out of its resident set all the same. Here nothing is paged out (as for
    /// the service), and only the chosen one of two mappings of the file is dropped.
    @Test func droppingTakesPagesOutWherePagingOutDoesNot() throws {
        let folder = try TemporaryDirectory("code-trim-drop")
        let size = 4 << 20
        let path = try codeFile(folder, size: size)
        let base = try mapReadThrough(path, size: size)
        defer { munmap(base, size) }
        let other = try mapReadThrough(path, size: size)
        defer { munmap(other, size) }
        let before = try resident(path, at: base)
        #expect(before > size / 2)
        let advised = CodePageTrim.trim(pagingOut: folder.path + "/not-mapped") { $0.start == UInt(bitPattern: base) }
        #expect(advised == size)
        let after = try resident(path, at: base)
        #expect(after < size / 8, "resident went from \(before) to \(after) bytes")
        let kept = try resident(path, at: other)
        #expect(kept > size / 2, "the other mapping keeps its pages: \(kept) bytes resident")
        #expect(base.load(fromByteOffset: 4096 * 9, as: UInt8.self) == 9, "a dropped page reads as the file again")
    }

    /// The executable's pages no process maps leave the page cache (read here with read(2), as
    /// `cp` or a finished `smollama` command leave them), so fault-around cannot map them back.
    @Test func unmappedPagesOfTheFileLeaveThePageCache() throws {
        let folder = try TemporaryDirectory("code-trim-cache")
        let size = 4 << 20
        let path = try codeFile(folder, name: "cached", size: size)
        let read = try #require(FileHandle(forReadingAtPath: path)).readDataToEndOfFile()
        #expect(read.count == size)
        let descriptor = open(path, O_RDONLY)
        defer { close(descriptor) }
        let mapped: UnsafeMutableRawPointer? = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0)
        let base = try #require(mapped.flatMap { $0 == MAP_FAILED ? nil : $0 })
        defer { munmap(base, size) }
        func cached() -> Int {
            var vector = [UInt8](repeating: 0, count: size / 4096)
            #expect(mincore(base, size, &vector) == 0)
            return vector.filter { $0 & 1 == 1 }.count * 4096
        }
        let before = cached()
        #expect(before > size / 2, "read through: \(before) of \(size) bytes in the page cache")
        CodePageTrim.trim(pagingOut: path) { _ in false }
        let after = cached()
        #expect(after < size / 8, "in the page cache: \(before) bytes before the trim, \(after) after")
    }

    /// Constants in a writable mapping: only the pages still the file's are dropped; a written
    /// page keeps what was written.
    @Test func unwrittenPagesOfAWritableMappingAreDroppedOneByOne() throws {
        let folder = try TemporaryDirectory("code-trim-rodata")
        let size = 2 << 20
        let path = try codeFile(folder, name: "rodata", size: size)
        let base = try mapReadThrough(path, size: size, protection: PROT_READ | PROT_WRITE)
        defer { munmap(base, size) }
        base.storeBytes(of: 0x5A, toByteOffset: 4096 * 7 + 1, as: UInt8.self)
        // Read through again: a write into a large page-cache folio mapped whole unmaps the rest.
        var sum = 0
        for page in stride(from: 0, to: size, by: 4096) { sum &+= Int(base.load(fromByteOffset: page, as: UInt8.self)) }
        let before = try resident(path, at: base)
        #expect(before > size / 2, "read through: \(before) bytes resident (sum \(sum))")
        let start = UInt(bitPattern: base)
        let dropped = CodePageTrim.dropUnwrittenPages(in: (start + 100)..<(start + UInt(size)))
        #expect(dropped == size - 2 * 4096, "all but the partial first page and the written one")
        let after = try resident(path, at: base)
        #expect(after <= 2 * 4096, "resident went from \(before) to \(after) bytes")
        #expect(base.load(fromByteOffset: 4096 * 7 + 1, as: UInt8.self) == 0x5A, "the written byte survives")
        #expect(base.load(fromByteOffset: 4096 * 8, as: UInt8.self) == 8, "a dropped page reads as the file again")
    }

    @Test func findsSectionsInTheExecutable() throws {
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let text = try #require(ELFSections.range(of: ".text", inFile: executable))
        let rodata = try #require(ELFSections.range(of: ".rodata", inFile: executable))
        #expect(text.count > 1 << 20 && rodata.count > 0 && !text.overlaps(rodata))
        #expect(ELFSections.range(of: ".no-such-section", inFile: executable) == nil)
        #expect(ELFSections.range(of: ".text", inFile: "/proc/self/status") == nil, "not an ELF file")
        // The section's bytes in memory are the file's at its offset: the addresses are right.
        let maps = try #require(try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/maps")).readToEnd())
        let mapped = try #require(CodePageTrim.mappings(inSmaps: String(decoding: maps, as: UTF8.self))
            .first { $0.path == executable && $0.offset == 0 })
        let bias = ELFSections.isPositionIndependent(executable) ? mapped.start : 0
        let inMemory = try #require(UnsafeRawPointer(bitPattern: text.lowerBound + bias))
        let handle = try #require(FileHandle(forReadingAtPath: executable))
        defer { try? handle.close() }
        // .text is in the first load segment, whose file offsets equal its addresses.
        try handle.seek(toOffset: UInt64(text.lowerBound))
        let onDisk = try #require(try handle.read(upToCount: 64))
        #expect(Array(onDisk) == Array(UnsafeRawBufferPointer(start: inMemory, count: 64)))
    }

    /// A private mapping written to and then made read-only (as the loader does with relocated
    /// data) holds the only copy of what was written: the trim must not drop it.
    @Test func writtenPagesAreNeverDropped() throws {
        let folder = try TemporaryDirectory("code-trim-relocated")
        let size = 1 << 20
        let path = try codeFile(folder, name: "relocated", size: size)
        let base = try mapReadThrough(path, size: size, protection: PROT_READ | PROT_WRITE)
        defer { munmap(base, size) }
        base.storeBytes(of: 0xA5, toByteOffset: 4096 * 3 + 7, as: UInt8.self)
        #expect(mprotect(base, size, PROT_READ) == 0)
        CodePageTrim.trim(pagingOut: path) { $0.path == path }
        #expect(base.load(fromByteOffset: 4096 * 3 + 7, as: UInt8.self) == 0xA5, "the written byte survives the trim")
        #expect(base.load(fromByteOffset: 4096 * 5, as: UInt8.self) == 5, "unwritten pages read as the file")
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
