import Foundation
import Testing
@testable import SmollamaHardware

@Suite struct GPIOChipLocatorTests {
    @Test(arguments: [
        ("pi3", BoardLayouts.pi3, "/dev/gpiochip0"),
        ("pi4", BoardLayouts.pi4, "/dev/gpiochip0"),
        ("pi5-recent", BoardLayouts.pi5Recent, "/dev/gpiochip0"),
        ("pi5-early", BoardLayouts.pi5Early, "/dev/gpiochip4"),
    ])
    func lineByNameFindsTheHeaderChipOnEveryBoard(board: String, chips: [GPIOChipInfo], expectedPath: String) throws {
        let location = try GPIOChipLocator.locate(.named("GPIO17"), in: chips)
        #expect(location.chip.path == expectedPath, "\(board)")
        #expect(location.offset == 17)
    }

    @Test(arguments: [BoardLayouts.pi3, BoardLayouts.pi4, BoardLayouts.pi5Recent, BoardLayouts.pi5Early])
    func bcmNumberUsesTheHeaderChipByLabel(chips: [GPIOChipInfo]) throws {
        let location = try GPIOChipLocator.locate(.headerNumber(4), in: chips)
        #expect(GPIOChipLocator.headerChipLabels.contains(location.chip.label))
        #expect(location.offset == 4)
    }

    @Test func pi5HeaderIsRP1NotTheSoCChips() throws {
        let chip = try GPIOChipLocator.headerChip(in: BoardLayouts.pi5Recent)
        #expect(chip.label == "pinctrl-rp1")
        #expect(BoardLayouts.pi5Recent.filter { $0.name.hasPrefix("gpiochip1") }.allSatisfy { $0.label.hasPrefix("gpio-brcmstb") })
    }

    @Test func headerChipIsPreferredForAmbiguousNames() throws {
        var chips = BoardLayouts.pi4
        chips.insert(GPIOChipInfo(path: "/dev/gpiochip2", name: "gpiochip2", label: "mcp23017", lineCount: 16,
            lineNames: ["GPIO17"] + Array(repeating: "", count: 15)), at: 0)
        let location = try GPIOChipLocator.locate(.named("GPIO17"), in: chips)
        #expect(location.chip.label == "pinctrl-bcm2711")
    }

    @Test func namedLinesOnOtherChipsAreFound() throws {
        let location = try GPIOChipLocator.locate(.named("CAM_GPIO"), in: BoardLayouts.pi4)
        #expect(location.chip.label == "raspberrypi-exp-gpio")
        #expect(location.offset == 5)
    }

    @Test func explicitChipLabelOverridesTheHeader() throws {
        let location = try GPIOChipLocator.locate(.headerNumber(3), in: BoardLayouts.pi4, chipLabel: "raspberrypi-exp-gpio")
        #expect(location.chip.name == "gpiochip1")
    }

    @Test func errorsNameWhatIsPresent() {
        #expect {
            try GPIOChipLocator.locate(.named("GPIO99"), in: BoardLayouts.pi5Recent)
        } throws: { error in
            "\(error)".contains("no GPIO line named 'GPIO99'") && "\(error)".contains("gpiochip0 'pinctrl-rp1'")
        }
        #expect {
            try GPIOChipLocator.locate(.headerNumber(60), in: BoardLayouts.pi4)
        } throws: { error in "\(error)".contains("GPIO60 is not a line of pinctrl-bcm2711") }
        #expect {
            try GPIOChipLocator.locate(.headerNumber(17), in: [])
        } throws: { error in "\(error)".contains("no GPIO chip labelled pinctrl-rp1 or pinctrl-bcm2711 or pinctrl-bcm2835") }
    }

    @Test func lineSpecDecodesNamesAndNumbers() throws {
        let decoder = JSONDecoder()
        #expect(try decoder.decode([GPIOLineSpec].self, from: Data(#"["GPIO17", 17, "22"]"#.utf8))
            == [.named("GPIO17"), .headerNumber(17), .headerNumber(22)])
    }

    @Test func outputAllowlistIsEmptyByDefaultAndMatchesNumbersAndNames() {
        #expect(!GPIOOutputAllowlist().permits(.named("GPIO27")))
        let allowlist = GPIOOutputAllowlist(lines: [.headerNumber(27)])
        #expect(allowlist.permits(.named("GPIO27")))
        #expect(allowlist.permits(.headerNumber(27)))
        #expect(!allowlist.permits(.headerNumber(17)))
    }
}
