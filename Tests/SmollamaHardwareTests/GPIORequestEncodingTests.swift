import CLinuxIO
import Testing
@testable import SmollamaHardware

/// Encoded requests, read back through the C struct the kernel will see.
@Suite struct GPIORequestEncodingTests {
    func asCStruct(_ bytes: [UInt8]) -> gpio_v2_line_request {
        #expect(bytes.count == MemoryLayout<gpio_v2_line_request>.size)
        return bytes.withUnsafeBytes { $0.loadUnaligned(as: gpio_v2_line_request.self) }
    }

    @Test func inputWithBothEdgesPullUpAndDebounce() {
        let settings = GPIOLineSettings(direction: .input, edgeEvents: true, bias: .pullUp, debounceMicroseconds: 5_000)
        let request = asCStruct(GPIOLineRequestEncoder.encode(offsets: [17], settings: settings, consumer: "smollama-door"))
        #expect(request.offsets.0 == 17)
        #expect(request.num_lines == 1)
        let consumer = withUnsafeBytes(of: request.consumer) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        #expect(consumer == "smollama-door")
        let expectedFlags = UInt64(CLINUXIO_GPIO_V2_LINE_FLAG_INPUT) | UInt64(CLINUXIO_GPIO_V2_LINE_FLAG_EDGE_RISING)
            | UInt64(CLINUXIO_GPIO_V2_LINE_FLAG_EDGE_FALLING) | UInt64(CLINUXIO_GPIO_V2_LINE_FLAG_BIAS_PULL_UP)
        #expect(request.config.flags == expectedFlags)
        #expect(request.config.num_attrs == 1)
        let attribute = request.config.attrs.0
        #expect(attribute.attr.id == CLINUXIO_GPIO_V2_LINE_ATTR_ID_DEBOUNCE)
        #expect(attribute.attr.debounce_period_us == 5_000)
        #expect(attribute.mask == 1)
        #expect(request.fd == 0)
    }

    @Test func inputWithoutDebounceHasNoAttributes() {
        let settings = GPIOLineSettings(direction: .input, edgeEvents: false, bias: .asIs, activeLow: true)
        let request = asCStruct(GPIOLineRequestEncoder.encode(offsets: [4], settings: settings, consumer: "x"))
        #expect(request.config.flags == UInt64(CLINUXIO_GPIO_V2_LINE_FLAG_INPUT) | UInt64(CLINUXIO_GPIO_V2_LINE_FLAG_ACTIVE_LOW))
        #expect(request.config.num_attrs == 0)
    }

    @Test func outputStartingHighSetsOutputValues() {
        let settings = GPIOLineSettings(direction: .output(initial: true), edgeEvents: true, bias: .pullDown)
        let request = asCStruct(GPIOLineRequestEncoder.encode(offsets: [23], settings: settings, consumer: "relay"))
        // An output never asks for edges or bias.
        #expect(request.config.flags == UInt64(CLINUXIO_GPIO_V2_LINE_FLAG_OUTPUT))
        #expect(request.config.num_attrs == 1)
        #expect(request.config.attrs.0.attr.id == CLINUXIO_GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES)
        #expect(request.config.attrs.0.attr.values == 1)
        #expect(request.config.attrs.0.mask == 1)
    }

    @Test func longConsumerIsTruncatedAndTerminated() {
        let bytes = GPIOLineRequestEncoder.encode(
            offsets: [1], settings: GPIOLineSettings(), consumer: String(repeating: "a", count: 40))
        let consumer = Array(bytes[GPIOUAPI.requestConsumerOffset..<(GPIOUAPI.requestConsumerOffset + 32)])
        #expect(consumer.prefix(31).allSatisfy { $0 == UInt8(ascii: "a") })
        #expect(consumer[31] == 0)
    }

    @Test func lineValuesEncoding() {
        let bytes = GPIOLineRequestEncoder.encodeValues(bits: 1, mask: 1)
        let values = bytes.withUnsafeBytes { $0.loadUnaligned(as: gpio_v2_line_values.self) }
        #expect(values.bits == 1)
        #expect(values.mask == 1)
    }
}
