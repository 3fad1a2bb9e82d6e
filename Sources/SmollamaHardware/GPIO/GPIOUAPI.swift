/// The GPIO character-device uAPI v2 (`<linux/gpio.h>`) as plain Swift values and byte layouts.
/// The structs are encoded by hand into little-endian bytes with the header's offsets, so the
/// encoding is testable anywhere; the tests check every number here against the C shim, which
/// takes them from the installed kernel header.
public enum GPIOUAPI {
    // enum gpio_v2_line_flag
    public static let flagUsed: UInt64 = 1 << 0
    public static let flagActiveLow: UInt64 = 1 << 1
    public static let flagInput: UInt64 = 1 << 2
    public static let flagOutput: UInt64 = 1 << 3
    public static let flagEdgeRising: UInt64 = 1 << 4
    public static let flagEdgeFalling: UInt64 = 1 << 5
    public static let flagBiasPullUp: UInt64 = 1 << 8
    public static let flagBiasPullDown: UInt64 = 1 << 9
    public static let flagBiasDisabled: UInt64 = 1 << 10

    // enum gpio_v2_line_attr_id
    public static let attrIDFlags: UInt32 = 1
    public static let attrIDOutputValues: UInt32 = 2
    public static let attrIDDebounce: UInt32 = 3

    // enum gpio_v2_line_event_id
    public static let eventRisingEdge: UInt32 = 1
    public static let eventFallingEdge: UInt32 = 2

    public static let linesMax = 64
    public static let numAttrsMax = 10
    public static let maxNameSize = 32

    // sizeof(...)
    public static let chipInfoSize = 68
    public static let lineInfoSize = 256
    public static let lineRequestSize = 592
    public static let lineConfigSize = 272
    public static let lineConfigAttributeSize = 24
    public static let lineEventSize = 48
    public static let lineValuesSize = 16

    // offsetof(struct gpio_v2_line_request, ...)
    static let requestConsumerOffset = 256
    static let requestConfigOffset = 288
    static let requestNumLinesOffset = 560
    static let requestEventBufferSizeOffset = 564
    static let requestFDOffset = 588
    // offsetof(struct gpio_v2_line_config, ...)
    static let configNumAttrsOffset = 8
    static let configAttrsOffset = 32
    // offsetof(struct gpio_v2_line_info, ...)
    static let lineInfoOffsetOffset = 64
    static let lineInfoFlagsOffset = 72
    // offsetof(struct gpiochip_info, ...)
    static let chipInfoLabelOffset = 32
    static let chipInfoLinesOffset = 64
}

/// Little-endian field access on a byte buffer shaped like a kernel struct.
struct StructBytes {
    var bytes: [UInt8]

    init(size: Int) { bytes = [UInt8](repeating: 0, count: size) }
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func set32(_ value: UInt32, at offset: Int) {
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
    }

    mutating func set64(_ value: UInt64, at offset: Int) {
        for i in 0..<8 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }

    /// Writes a NUL-terminated string into a fixed `char[size]` field, truncating if needed.
    mutating func setString(_ text: String, at offset: Int, size: Int) {
        let utf8 = Array(text.utf8.prefix(size - 1))
        for i in 0..<size { bytes[offset + i] = i < utf8.count ? utf8[i] : 0 }
    }

    func get32(at offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
    }

    func get64(at offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }

    func getString(at offset: Int, size: Int) -> String {
        let field = bytes[offset..<(offset + size)]
        let end = field.firstIndex(of: 0) ?? field.endIndex
        return String(decoding: field[offset..<end], as: UTF8.self)
    }
}
