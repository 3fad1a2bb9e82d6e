import Foundation
public import Logging
public import ServiceLifecycle
public import SmollamaCore
#if canImport(Glibc)
import Glibc
#endif

/// Gives back the executable's code pages the daemon no longer runs.
///
/// The release binary is ~97 MB (the Swift runtime and Foundation linked in). Start-up runs
/// code once (argument parsing, migrations, config, the first page) and the kernel maps code
/// in 64 KiB windows around every page fault (fault-around), so after start ~45 MiB of the
/// binary stays resident, though an idle node runs ~6 MiB of it in a minute. Those pages are
/// clean and only ever reclaimed under memory pressure. `madvise(MADV_PAGEOUT)` on the
/// executable's own mappings reclaims them now; what the node runs next faults back in from
/// the SD card (reads, which do not wear it), one page at a time (`MADV_RANDOM`), so what
/// stays resident is the code the node runs. Pages other processes map
/// too are left alone by the kernel. Linux ≥ 5.4; on older kernels the call fails and nothing
/// changes.
public enum CodePageTrim {
    /// The start and length of each mapping of `executable` in `maps` (`/proc/self/maps` text).
    static func mappings(of executable: String, in maps: String) -> [(start: UInt, length: Int)] {
        maps.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count == 6, fields[5].trimmingCharacters(in: .whitespaces) == executable else { return nil }
            let bounds = fields[0].split(separator: "-")
            guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16),
                  end > start else { return nil }
            return (start, Int(end - start))
        }
    }

    /// Pages out this process's mappings of its own executable; returns the bytes advised (0
    /// where the kernel refused or this is not Linux).
    @discardableResult
    public static func trimExecutable() -> Int {
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return 0 }
        return trim(mappingsOf: executable)
    }

    /// Pages out this process's mappings of `file`; returns the bytes advised.
    @discardableResult
    static func trim(mappingsOf file: String) -> Int {
        #if os(Linux)
        // Read to the end: procfs files report size 0, and `String(contentsOfFile:)` stops short
        // of a long one.
        guard let data = try? FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/maps")).readToEnd() else { return 0 }
        let maps = String(decoding: data, as: UTF8.self)
        var advised = 0
        for mapping in mappings(of: file, in: maps) {
            guard let address = UnsafeMutableRawPointer(bitPattern: mapping.start) else { continue }
            // Random first: a page the node needs again is read alone, not with its neighbours
            // (readahead would bring them back into the page cache, and fault-around would map
            // them again).
            _ = madvise(address, mapping.length, MADV_RANDOM)
            if madvise(address, mapping.length, MADV_PAGEOUT) == 0 { advised += mapping.length }
        }
        return advised
        #else
        return 0
        #endif
    }
}

/// Trims the executable's code pages once start-up is over (`first`), then every `interval`
/// (a daily digest or a backup leaves its code behind too). The clock is a `ServiceClock`, so
/// tests advance time instead of waiting for it.
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
