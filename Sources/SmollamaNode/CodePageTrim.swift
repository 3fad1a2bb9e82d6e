import Foundation
public import Logging
public import ServiceLifecycle
public import SmollamaCore
#if canImport(Glibc)
import Glibc
#endif

/// Gives back the code pages the daemon no longer runs.
///
/// The release binary is ~100 MB (the Swift runtime and Foundation linked in). Start-up runs
/// code once (argument parsing, migrations, config, the first page), and the kernel maps code in
/// 64 KiB windows around every page fault (fault-around), so after start ~40 MiB of the binary
/// stays mapped, though an idle node runs ~5 MiB of it in a minute. Those pages are clean and
/// only ever reclaimed under memory pressure. Two steps give them back now:
///
/// 1. `madvise(MADV_RANDOM)` then `madvise(MADV_PAGEOUT)` on the executable's own mappings: the
///    kernel reclaims the pages no other process maps (they leave the page cache too). It does
///    so for file pages only when the process owns the file or may write it (a side channel
///    otherwise): root running its own copy, not the packaged service (user `smollama`, binary
///    owned by root), where it changes nothing. `MADV_RANDOM` stops read-ahead on later faults
///    up to Linux 6.15; from 6.16 the kernel reads ahead around faults in executable mappings
///    anyway.
/// 2. `madvise(MADV_DONTNEED)` on every read-only private mapping of the executable or a shared
///    object that holds no anonymous (copied-on-write) page — their code and constants: their
///    pages are exactly the file's, so dropping them from this process's page tables loses
///    nothing; what the node runs next faults back in, from the page cache when the page is
///    still there (no disk read). This works for any user. Mappings with anonymous pages
///    (relocated data made read-only, `.data`) are never touched: dropping them would lose the
///    relocations.
///    The executable's `.rodata` shares a writable mapping with `.data` (the linker flags it
///    writable), so only its pages still identical to the file are dropped, one by one
///    (`/proc/self/pagemap`): for the service, ~6 MiB of ICU data read at start-up.
/// 3. `posix_fadvise(POSIX_FADV_DONTNEED)` on the executable: its pages no process maps leave
///    the page cache (what step 1 does for root), so fault-around maps fewer of them back.
///
/// What stays resident is what the node runs (rounded up to the fault-around windows). Linux ≥
/// 5.4; where a call fails nothing changes.
public enum CodePageTrim {
    /// One mapping of `/proc/self/smaps`: where it is, its permissions (`r-xp`), its file (empty
    /// for anonymous memory, `[heap]`-style names for the kernel's) and its anonymous (private,
    /// written) kilobytes.
    struct Mapping: Equatable {
        var start: UInt
        var length: Int
        var permissions: String
        var offset: UInt = 0
        var path: String
        var anonymousKilobytes: Int

        /// Read-only, private, backed by a file and never written: its pages are the file's,
        /// so `MADV_DONTNEED` loses nothing.
        var isUnwrittenFileCode: Bool {
            path.hasPrefix("/") && permissions.count == 4 && Array(permissions)[1] == "-"
                && permissions.hasSuffix("p") && anonymousKilobytes == 0
        }
    }

    /// The mappings of `smaps` (`/proc/self/smaps` text; `/proc/self/maps` text gives the same
    /// mappings with no anonymous kilobytes).
    static func mappings(inSmaps smaps: String) -> [Mapping] {
        var found: [Mapping] = []
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            let bounds = fields.first?.split(separator: "-") ?? []
            if fields.count >= 5, bounds.count == 2, let start = UInt(bounds[0], radix: 16),
               let end = UInt(bounds[1], radix: 16), end > start {
                let path = fields.count == 6 ? fields[5].trimmingCharacters(in: .whitespaces) : ""
                found.append(Mapping(start: start, length: Int(end - start), permissions: String(fields[1]),
                                     offset: UInt(fields[2], radix: 16) ?? 0, path: path, anonymousKilobytes: 0))
            } else if fields.count >= 2, fields[0] == "Anonymous:", let kilobytes = Int(fields[1]), !found.isEmpty {
                found[found.count - 1].anonymousKilobytes = kilobytes
            }
        }
        return found
    }

    /// The start and length of each mapping of `executable` in `maps`.
    static func mappings(of executable: String, in maps: String) -> [(start: UInt, length: Int)] {
        mappings(inSmaps: maps).filter { $0.path == executable }.map { ($0.start, $0.length) }
    }

    /// Trims this process's code: pages out its executable's mappings, then drops every
    /// unwritten file mapping's pages. Returns the bytes advised (0 where the kernel refused or
    /// this is not Linux).
    @discardableResult
    public static func trimExecutable() -> Int {
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return 0 }
        // Code only: the executable and shared objects. A data file mapped private (a locale
        // archive, a file Foundation maps) could be truncated on disk, and a page dropped from
        // it would then fault with SIGBUS instead of reading the old bytes.
        return trim(pagingOut: executable, dropping: { mapping in
            mapping.path == executable || mapping.path.split(separator: "/").last.map { $0.contains(".so") } == true
        }, sections: [".rodata"])
    }

    /// Pages out this process's mappings of `file`, drops the pages of the mappings `dropping`
    /// picks (never one with anonymous pages, whatever it says), then evicts `file`'s unmapped
    /// pages from the page cache; returns the bytes advised.
    @discardableResult
    static func trim(pagingOut file: String, dropping: (Mapping) -> Bool, sections: [String] = []) -> Int {
        #if os(Linux)
        // Read to the end: procfs files report size 0, and `String(contentsOfFile:)` stops short
        // of a long one.
        guard let data = try? FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/smaps")).readToEnd() else { return 0 }
        let mappings = mappings(inSmaps: String(decoding: data, as: UTF8.self))
        var advised = 0
        for mapping in mappings where mapping.path == file {
            guard let address = UnsafeMutableRawPointer(bitPattern: mapping.start) else { continue }
            // Random first: a page the node needs again is read alone, not with its neighbours
            // (kernels before 6.16; see the type's note).
            _ = madvise(address, mapping.length, MADV_RANDOM)
            if madvise(address, mapping.length, MADV_PAGEOUT) == 0 { advised += mapping.length }
        }
        for mapping in mappings where mapping.isUnwrittenFileCode && dropping(mapping) {
            guard let address = UnsafeMutableRawPointer(bitPattern: mapping.start) else { continue }
            if madvise(address, mapping.length, MADV_DONTNEED) == 0, mapping.path != file { advised += mapping.length }
        }
        // Constants the linker put in a writable segment (`.rodata` beside `.data`): page by page.
        if !sections.isEmpty, let load = mappings.first(where: { $0.path == file && $0.offset == 0 }) {
            for name in sections {
                guard let section = ELFSections.range(of: name, inFile: file) else { continue }
                let bias = ELFSections.isPositionIndependent(file) ? load.start : 0
                advised += dropUnwrittenPages(in: (section.lowerBound + bias)..<(section.upperBound + bias))
            }
        }
        // The file's pages nobody maps now leave the page cache too (any reader may ask), so
        // fault-around, which maps the cached neighbours of a faulting page, finds fewer.
        let descriptor = open(file, O_RDONLY | O_CLOEXEC)
        if descriptor >= 0 {
            _ = posix_fadvise(descriptor, 0, 0, POSIX_FADV_DONTNEED)
            close(descriptor)
        }
        return advised
        #else
        return 0
        #endif
    }
}

extension CodePageTrim {
    /// Drops the whole pages of `range` that are still the file's: present and not copied on
    /// write (`/proc/self/pagemap` bit 61); pages written to, partial pages at the ends and
    /// pages not present are left alone. Returns the bytes dropped. For read-only data only:
    /// a page first written between the scan and the drop would lose that write.
    static func dropUnwrittenPages(in range: Range<UInt>) -> Int {
        #if os(Linux)
        let page = UInt(sysconf(Int32(_SC_PAGESIZE)))
        let first = (range.lowerBound + page - 1) / page, end = range.upperBound / page
        guard end > first else { return 0 }
        let descriptor = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return 0 }
        defer { close(descriptor) }
        var entries = [UInt64](repeating: 0, count: Int(end - first))
        let wanted = entries.count * 8
        let read = entries.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, wanted, off_t(first * 8)) }
        guard read == wanted else { return 0 }
        var dropped = 0
        var runStart: UInt?
        for index in 0...entries.count {
            let unwritten = index < entries.count && entries[index] >> 63 & 1 == 1 && entries[index] >> 61 & 1 == 1
            if unwritten, runStart == nil { runStart = first + UInt(index) }
            if !unwritten, let start = runStart {
                let length = Int((first + UInt(index) - start) * page)
                if let address = UnsafeMutableRawPointer(bitPattern: start * page), madvise(address, length, MADV_DONTNEED) == 0 {
                    dropped += length
                }
                runStart = nil
            }
        }
        return dropped
        #else
        return 0
        #endif
    }
}

/// Reads an ELF file's section headers (64-bit, little-endian: the platforms we build for).
enum ELFSections {
    /// The virtual address range of section `name` in the ELF file at `path` (before the load
    /// bias of a position-independent executable), or nil.
    static func range(of name: String, inFile path: String) -> Range<UInt>? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        func bytes(at offset: UInt64, count: Int) -> [UInt8]? {
            guard (try? handle.seek(toOffset: offset)) != nil, let data = try? handle.read(upToCount: count),
                  data.count == count else { return nil }
            return [UInt8](data)
        }
        func integer(_ bytes: [UInt8], at offset: Int, size: Int) -> UInt64 {
            (0..<size).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
        }
        guard let header = bytes(at: 0, count: 64), Array(header[0..<4]) == [0x7F, 0x45, 0x4C, 0x46], header[4] == 2,
              header[5] == 1 else { return nil }
        let tableOffset = integer(header, at: 0x28, size: 8), entrySize = Int(integer(header, at: 0x3A, size: 2))
        let count = Int(integer(header, at: 0x3C, size: 2)), namesIndex = Int(integer(header, at: 0x3E, size: 2))
        guard entrySize >= 64, count > 0, namesIndex < count,
              let table = bytes(at: tableOffset, count: entrySize * count) else { return nil }
        let namesHeader = namesIndex * entrySize
        guard let names = bytes(at: integer(table, at: namesHeader + 0x18, size: 8),
                                count: Int(integer(table, at: namesHeader + 0x20, size: 8))) else { return nil }
        for index in 0..<count {
            let entry = index * entrySize
            let nameOffset = Int(integer(table, at: entry, size: 4))
            guard nameOffset < names.count else { continue }
            let nameEnd = names[nameOffset...].firstIndex(of: 0) ?? names.count
            guard String(decoding: names[nameOffset..<nameEnd], as: UTF8.self) == name else { continue }
            let address = UInt(integer(table, at: entry + 0x10, size: 8)), size = UInt(integer(table, at: entry + 0x20, size: 8))
            return address > 0 && size > 0 ? address..<(address + size) : nil
        }
        return nil
    }

    /// Whether the ELF file at `path` is position-independent (`ET_DYN`): its addresses are
    /// offsets from where it was loaded.
    static func isPositionIndependent(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path), let header = try? handle.read(upToCount: 18),
              header.count == 18 else { return false }
        try? handle.close()
        return header[16] == 3 && header[17] == 0
    }
}

/// Trims the code pages once start-up is over (`first`), then every `interval` (a daily digest
/// or a backup leaves its code behind too). The clock is a `ServiceClock`, so tests advance time
/// instead of waiting for it.
public struct CodePageTrimService: Service {
    let clock: ServiceClock
    let first: Duration
    let interval: Duration
    let trim: @Sendable () -> Int
    let logger: Logger

    public init(clock: ServiceClock = .continuous, first: Duration = .seconds(120), interval: Duration = .seconds(6 * 3600),
                trim: @escaping @Sendable () -> Int = { CodePageTrim.trimExecutable() }, logger: Logger) {
        self.clock = clock
        self.first = first
        self.interval = interval
        self.trim = trim
        self.logger = logger
    }

    public func run() async throws {
        await clock.repeating(first: first, every: interval) {
            let advised = trim()
            logger.debug("code pages trimmed", metadata: ["smollama.trim.bytes": "\(advised)"])
        }
    }
}
