import SmollamaCore
import Testing

/// A section decoded over its defaults: synthesized `Codable`, unknown keys and checks by name.
@Suite struct ConfigDecodingTests {
    struct Inner: Codable, Sendable, Equatable, ConfigChecked {
        var limit = 5
        var label: String?
        func check() throws(ConfigProblem) {
            try ConfigProblem.require(limit >= 1, "limit", "must be at least 1")
        }
    }

    struct Section: ConfigSection, Equatable {
        var name = "a"
        var every = ConfigDuration.seconds(10)
        var inner = Inner()
        enum CodingKeys: String, CodingKey { case name, every, inner }
        static func defaults(given: ConfigGiven) -> Section {
            var section = Section()
            if given.section("inner").text("label") == "wide" { section.inner.limit = 50 }
            return section
        }
        func check() throws(ConfigProblem) { try inner.check(under: "inner") }
    }

    @Test func missingKeysTakeTheDefaults() throws {
        #expect(try ConfigDecoding.decode(Section.self, from: "") == Section())
        let given = try ConfigDecoding.decode(Section.self, from: "every: 1m\ninner: {label: x}")
        #expect(given.every == .minutes(1) && given.inner.label == "x" && given.inner.limit == 5 && given.name == "a")
        #expect(try ConfigDecoding.decode(Section.self, from: "inner: {label: wide}").inner.limit == 50,
                "defaults may follow keys that were given")
        #expect(try ConfigDecoding.decode(Section.self, from: "name: ~") == Section(), "null means not given")
    }

    @Test func unknownKeysAreNamedWithTheKeysAllowed() {
        do {
            _ = try ConfigDecoding.decode(Section.self, from: "inner: {limt: 3}")
            Issue.record("an unknown key must be refused")
        } catch let error as UnknownConfigKey {
            #expect(error.path == "inner.limt")
            #expect(Set(error.allowed) == ["limit"], "\(error.allowed)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func checksAndTypesNameTheKey() {
        func path(_ yaml: String) -> String? {
            do {
                _ = try ConfigDecoding.decode(Section.self, from: yaml)
                return nil
            } catch let DecodingError.dataCorrupted(context) {
                return context.codingPath.map(\.stringValue).joined(separator: ".")
            } catch let DecodingError.typeMismatch(_, context) {
                return context.codingPath.map(\.stringValue).joined(separator: ".")
            } catch {
                return "\(error)"
            }
        }
        #expect(path("inner: {limit: 0}") == "inner.limit")
        #expect(path("inner: {limit: lots}") == "inner.limit")
        #expect(path("every: soon") == "every")
    }
}
