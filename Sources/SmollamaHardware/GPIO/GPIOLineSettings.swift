/// How one requested line is configured: the parts of `struct gpio_v2_line_config` we use.
public struct GPIOLineSettings: Hashable, Sendable {
    public enum Direction: Hashable, Sendable {
        case input
        /// An output starting at this level. Only for allowlisted lines (see `GPIOOutputAllowlist`).
        case output(initial: Bool)
    }

    public var direction: Direction
    /// Inputs only: ask the kernel for rising and falling edge events.
    public var edgeEvents: Bool
    public var bias: GPIOBias
    public var activeLow: Bool
    /// Kernel debounce (`GPIO_V2_LINE_ATTR_ID_DEBOUNCE`); nil or 0 leaves it off.
    public var debounceMicroseconds: UInt32?

    public init(
        direction: Direction = .input, edgeEvents: Bool = true, bias: GPIOBias = .asIs, activeLow: Bool = false,
        debounceMicroseconds: UInt32? = nil
    ) {
        self.direction = direction
        self.edgeEvents = edgeEvents
        self.bias = bias
        self.activeLow = activeLow
        self.debounceMicroseconds = debounceMicroseconds
    }

    /// `gpio_v2_line_config.flags` for these settings.
    public var flags: UInt64 {
        var flags: UInt64 = 0
        switch direction {
        case .input:
            flags |= GPIOUAPI.flagInput
            if edgeEvents { flags |= GPIOUAPI.flagEdgeRising | GPIOUAPI.flagEdgeFalling }
            switch bias {
            case .pullUp: flags |= GPIOUAPI.flagBiasPullUp
            case .pullDown: flags |= GPIOUAPI.flagBiasPullDown
            case .none: flags |= GPIOUAPI.flagBiasDisabled
            case .asIs: break
            }
        case .output:
            flags |= GPIOUAPI.flagOutput
        }
        if activeLow { flags |= GPIOUAPI.flagActiveLow }
        return flags
    }
}

/// Encodes `struct gpio_v2_line_request` for `GPIO_V2_GET_LINE_IOCTL`.
public enum GPIOLineRequestEncoder {
    /// The request for `offsets` on one chip, all with the same settings. Returns the 592 bytes
    /// the ioctl takes; after the call the kernel has written the line fd at `fdOffset`.
    public static func encode(
        offsets: [UInt32], settings: GPIOLineSettings, consumer: String, eventBufferSize: UInt32 = 0
    ) -> [UInt8] {
        precondition(!offsets.isEmpty && offsets.count <= GPIOUAPI.linesMax, "1 to 64 lines per request")
        var request = StructBytes(size: GPIOUAPI.lineRequestSize)
        for (index, offset) in offsets.enumerated() { request.set32(offset, at: 4 * index) }
        request.setString(consumer, at: GPIOUAPI.requestConsumerOffset, size: GPIOUAPI.maxNameSize)

        let config = GPIOUAPI.requestConfigOffset
        request.set64(settings.flags, at: config)
        var attributes: [(id: UInt32, value: UInt64)] = []
        if case .output(let initial) = settings.direction, initial {
            attributes.append((GPIOUAPI.attrIDOutputValues, (UInt64(1) << UInt64(offsets.count)) - 1))
        }
        if case .input = settings.direction, let debounce = settings.debounceMicroseconds, debounce > 0 {
            attributes.append((GPIOUAPI.attrIDDebounce, UInt64(debounce)))
        }
        let allLines: UInt64 = offsets.count == 64 ? .max : (UInt64(1) << UInt64(offsets.count)) - 1
        request.set32(UInt32(attributes.count), at: config + GPIOUAPI.configNumAttrsOffset)
        for (index, attribute) in attributes.enumerated() {
            let base = config + GPIOUAPI.configAttrsOffset + index * GPIOUAPI.lineConfigAttributeSize
            request.set32(attribute.id, at: base)
            request.set64(attribute.value, at: base + 8)
            request.set64(allLines, at: base + 16)
        }
        request.set32(UInt32(offsets.count), at: GPIOUAPI.requestNumLinesOffset)
        request.set32(eventBufferSize, at: GPIOUAPI.requestEventBufferSizeOffset)
        return request.bytes
    }

    public static var fdOffset: Int { GPIOUAPI.requestFDOffset }

    /// Encodes `struct gpio_v2_line_values` setting every line in `mask` to the bits in `bits`.
    public static func encodeValues(bits: UInt64, mask: UInt64) -> [UInt8] {
        var values = StructBytes(size: GPIOUAPI.lineValuesSize)
        values.set64(bits, at: 0)
        values.set64(mask, at: 8)
        return values.bytes
    }
}
