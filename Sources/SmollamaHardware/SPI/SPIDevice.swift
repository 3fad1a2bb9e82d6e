/// A full-duplex SPI device: every transfer clocks out `tx` and returns as many bytes clocked in.
public protocol SPIDevice: Sendable {
    var path: String { get }
    func transfer(_ tx: [UInt8]) throws -> [UInt8]
}

public struct SPIError: Error, Hashable, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}
