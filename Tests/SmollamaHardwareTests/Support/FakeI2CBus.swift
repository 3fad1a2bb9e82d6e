import Foundation
import Synchronization
@testable import SmollamaHardware

#if canImport(Glibc)
import Glibc
#endif

/// A register-map I2C bus: each address holds 256 registers with an auto-incrementing pointer,
/// the way BME280-style chips behave at the byte level. Every transfer is logged.
final class FakeI2CBus: I2CBus {
    struct Transfer: Hashable {
        var address: UInt8
        var write: [UInt8]
        var readCount: Int
    }

    struct Device {
        var registers = [UInt8](repeating: 0, count: 256)
        var pointer: UInt8 = 0
        /// Replies to reads without a register pointer (BH1750 results), consumed in order; the last repeats.
        var plainReads: [[UInt8]] = []
        /// Values a register returns before falling back to the map (status polling).
        var scripted: [UInt8: [UInt8]] = [:]
        /// Every transfer fails with this errno (EBUSY for a kernel-owned address).
        var failure: Int32?
    }

    let path: String
    private let state: Mutex<(devices: [UInt8: Device], log: [Transfer])>

    init(path: String = "/dev/i2c-1", devices: [UInt8: Device]) {
        self.path = path
        state = Mutex((devices, []))
    }

    var log: [Transfer] { state.withLock { $0.log } }

    func registers(of address: UInt8) -> [UInt8] { state.withLock { $0.devices[address]?.registers ?? [] } }

    func update(_ address: UInt8, _ change: @Sendable (inout Device) -> Void) {
        state.withLock { state in
            if var device = state.devices[address] {
                change(&device)
                state.devices[address] = device
            }
        }
    }

    func remove(_ address: UInt8) { state.withLock { _ = $0.devices.removeValue(forKey: address) } }

    func transfer(address: UInt8, write: [UInt8], readCount: Int) throws -> [UInt8] {
        try state.withLock { state in
            state.log.append(Transfer(address: address, write: write, readCount: readCount))
            guard var device = state.devices[address] else {
                throw I2CError(path: path, address: address, OSError(code: EREMOTEIO))
            }
            if let failure = device.failure { throw I2CError(path: path, address: address, OSError(code: failure)) }
            if let register = write.first {
                device.pointer = register
                for (index, byte) in write.dropFirst().enumerated() {
                    device.registers[Int(register &+ UInt8(index))] = byte
                }
            }
            var reply: [UInt8] = []
            if readCount > 0 {
                if write.isEmpty, !device.plainReads.isEmpty {
                    reply = device.plainReads.count > 1 ? device.plainReads.removeFirst() : device.plainReads[0]
                } else {
                    for index in 0..<readCount {
                        let register = device.pointer &+ UInt8(index)
                        if var queue = device.scripted[register], !queue.isEmpty {
                            reply.append(queue.removeFirst())
                            device.scripted[register] = queue
                        } else {
                            reply.append(device.registers[Int(register)])
                        }
                    }
                }
            }
            state.devices[address] = device
            return reply
        }
    }
}

/// An SPI device answering each 3-byte MCP3008 command with a code per channel.
final class FakeMCP3008: SPIDevice {
    let path = "/dev/spidev0.0"
    private let state: Mutex<(codes: [Int], sent: [[UInt8]])>

    init(codes: [Int]) { state = Mutex((codes, [])) }

    var sent: [[UInt8]] { state.withLock { $0.sent } }

    func transfer(_ tx: [UInt8]) throws -> [UInt8] {
        try state.withLock { state in
            state.sent.append(tx)
            // The chip decodes start bit, SGL/DIFF and D2..D0 from the first two bytes.
            guard tx.count == 3, tx[0] == 0x01, tx[1] & 0x80 != 0 else {
                throw SPIError(path: path, message: "malformed command \(tx)")
            }
            let channel = Int(tx[1] >> 4) & 0x07
            let code = state.codes[channel]
            // Byte 1 carries a null bit and B9..B8; the bits above are don't-care (driven high here).
            return [0xFF, 0xF8 | UInt8(code >> 8), UInt8(code & 0xFF)]
        }
    }
}
