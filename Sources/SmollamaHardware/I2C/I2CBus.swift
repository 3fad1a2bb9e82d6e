/// The byte-level I2C operations drivers need. The Linux implementation issues one `I2C_RDWR`
/// per transfer (write, repeated start, read); tests use a register-map fake.
public protocol I2CBus: Sendable {
    /// Where the bus lives, for messages (`/dev/i2c-1`).
    var path: String { get }
    /// Writes `write` (may be empty) then, with a repeated start, reads `readCount` bytes (may be 0).
    func transfer(address: UInt8, write: [UInt8], readCount: Int) throws -> [UInt8]
}

extension I2CBus {
    /// Reads `count` registers starting at `register` (auto-increment).
    public func readRegisters(address: UInt8, register: UInt8, count: Int) throws -> [UInt8] {
        let bytes = try transfer(address: address, write: [register], readCount: count)
        guard bytes.count == count else {
            throw I2CError(path: path, address: address, message: "short read: \(bytes.count) of \(count) bytes")
        }
        return bytes
    }

    public func writeRegister(address: UInt8, register: UInt8, value: UInt8) throws {
        _ = try transfer(address: address, write: [register, value], readCount: 0)
    }

    /// A bare command byte (BH1750 opcodes).
    public func writeCommand(address: UInt8, _ command: UInt8) throws {
        _ = try transfer(address: address, write: [command], readCount: 0)
    }

    /// A bare read with no register pointer (BH1750 results).
    public func read(address: UInt8, count: Int) throws -> [UInt8] {
        let bytes = try transfer(address: address, write: [], readCount: count)
        guard bytes.count == count else {
            throw I2CError(path: path, address: address, message: "short read: \(bytes.count) of \(count) bytes")
        }
        return bytes
    }
}

/// A failed I2C transfer, naming bus, address and cause.
public struct I2CError: Error, Hashable, Sendable, CustomStringConvertible {
    public var path: String
    public var address: UInt8
    public var message: String
    /// The errno, when the kernel reported one.
    public var code: Int32?

    public init(path: String, address: UInt8, message: String, code: Int32? = nil) {
        self.path = path
        self.address = address
        self.message = message
        self.code = code
    }

    public init(path: String, address: UInt8, _ error: OSError) {
        self.init(path: path, address: address, message: error.description, code: error.code)
    }

    public var description: String { "\(path) address 0x\(String(address, radix: 16)): \(message)" }
}

/// One chip on a bus, as a driver holds it: where it answers, the serial queue its blocking
/// transfers run on, and how it waits between steps (tests pass a pause that returns at once).
struct I2CChip: Sendable {
    let bus: any I2CBus
    let address: UInt8
    let io: BlockingIO
    let pause: @Sendable (_ microseconds: UInt32) -> Void

    init(bus: any I2CBus, address: UInt8, label: String, pause: @escaping @Sendable (UInt32) -> Void) {
        self.bus = bus
        self.address = address
        self.pause = pause
        io = BlockingIO(label: label)
    }
}
