import SmollamaCore
import SmollamaMind
import Testing

/// The fresh-install case of issue 15: on the first window after `scripts/setup --run`, the model
/// returned two `fault` observations whose text was the window's own evidence line, each citing
/// `f0` four times, with no fault in the evidence. Each refusal below starts from that reply.
@Suite struct VerifierRefusalTests {
    /// Sunday 10:45–11:00 on a fresh node: the window and a quiet hallway, nothing unusual.
    static let packet = EvidencePacket(
        windowStart: HouseTime.tuesday + .milliseconds(-2 * HouseTime.day + 10 * HouseTime.hour + 45 * HouseTime.minute),
        windowEnd: HouseTime.tuesday + .milliseconds(-2 * HouseTime.day + 11 * HouseTime.hour),
        facts: [
            EvidenceFact(id: "f0", key: "window", kind: .window, sensor: nil, values: [
                EvidenceValue(name: "from", value: 10.45, unit: "time", decimals: 2),
                EvidenceValue(name: "to", value: 11.00, unit: "time", decimals: 2),
                EvidenceValue(name: "length", value: 15, unit: "min", decimals: 0),
            ], level: .ordinary, note: "Sunday"),
            EvidenceFact(id: "f1", key: "hallway.motion/activity", kind: .binary, sensor: "hallway.motion", values: [
                EvidenceValue(name: "activations", value: 0, unit: "times", decimals: 0),
                EvidenceValue(name: "on", value: 0, unit: "min", decimals: 0),
            ], level: .ordinary),
        ],
        sensors: [
            "hallway.motion": SensorDescriptor(id: "hallway.motion", name: "Hallway motion", kind: .binary,
                                               deviceClass: "motion"),
        ])

    static let echoed = "f0 window Sunday: from 10:45, to 11:00, length 15 min"

    static func draft(_ text: String = echoed, kind: String = "fault", ids: [String] = ["f0", "f0", "f0", "f0"],
                      subjects: [String] = []) -> ObservationDraft {
        ObservationDraft(kind: kind, subjects: subjects, text: text, evidenceIDs: ids, importance: 0.9)
    }

    func verify(_ draft: ObservationDraft) -> VerificationFailure? {
        ObservationVerifier().verify(draft, against: Self.packet)
    }

    @Test func theFreshInstallReplyIsRefusedWhole() {
        let results = ObservationVerifier().verify(reply: [Self.draft(), Self.draft()], against: Self.packet)
        #expect(results.count == 2)
        #expect(results.allSatisfy { $0.failure != nil })
        #expect(results[0].failure == .repeatedEvidence("f0"))
    }

    @Test func repeatedEvidenceIDs() {
        #expect(verify(Self.draft("The hallway stayed quiet from 10:45 to 11:00.", kind: "summary"))
                == .repeatedEvidence("f0"))
        #expect(verify(Self.draft("The hallway stayed quiet from 10:45 to 11:00.", kind: "summary", ids: ["f0", "f1", "f0"]))
                == .repeatedEvidence("f0"))
    }

    @Test func evidenceIDTokensInText() {
        // The reply's text as it was, cited once: the id at its head is the first thing refused.
        #expect(verify(Self.draft(kind: "summary", ids: ["f0"])) == .evidenceIDInText("f0"))
        #expect(verify(Self.draft("The hallway (f1) stayed quiet from 10:45 to 11:00.", kind: "summary", ids: ["f1"]))
                == .evidenceIDInText("f1"))
    }

    @Test func echoesOfTheEvidenceLine() {
        // Without its id the line is still a copy, not a sentence.
        let copy = String(Self.echoed.dropFirst(3))
        #expect(verify(Self.draft(copy, kind: "summary", ids: ["f0"])) == .echoesEvidence(id: "f0"))
        #expect(verify(Self.draft("Hallway quiet: activations 0 times, on 0 min.", kind: "summary", ids: ["f1"]))
                == .echoesEvidence(id: "f1"))
        // The same numbers said in words pass.
        #expect(verify(Self.draft("No motion in the hallway from 10:45 to 11:00.", kind: "summary", ids: ["f1"])) == nil)
    }

    @Test func rawSensorIDsInText() {
        #expect(verify(Self.draft("hallway.motion stayed quiet from 10:45 to 11:00.", kind: "summary", ids: ["f1"]))
                == .sensorIDInText("hallway.motion"))
        // An id the node does not have is still named as unknown.
        #expect(verify(Self.draft("garage.motion stayed quiet from 10:45 to 11:00.", kind: "summary", ids: ["f1"]))
                == .unknownSensor("garage.motion"))
    }

    @Test func kindsTheEvidenceDoesNotSupport() {
        #expect(verify(Self.draft("The hallway stayed quiet from 10:45 to 11:00.", ids: ["f0"]))
                == .unsupportedKind(kind: "fault", needs: "a sensor fault"))
        #expect(verify(Self.draft("The hallway stayed quiet from 10:45 to 11:00.", kind: "anomaly", ids: ["f1"]))
                == .unsupportedKind(kind: "anomaly", needs: "an UNUSUAL fact"))
        // With a fault fact cited, `fault` is what it is.
        var faulty = Self.packet
        faulty.facts.append(EvidenceFact(
            id: "f2", key: "hallway.motion/fault", kind: .notable, sensor: "hallway.motion",
            values: [EvidenceValue(name: "failed reads", value: 12, unit: "times", decimals: 0)], level: .strong,
            note: EvidenceFact.faultNote))
        let fault = Self.draft("The hallway motion sensor failed 12 reads in a row.", ids: ["f2"])
        #expect(ObservationVerifier().verify(fault, against: faulty) == nil)
    }

    @Test func twoIdenticalTextsFromOneReply() {
        let quiet = Self.draft("No motion in the hallway from 10:45 to 11:00.", kind: "summary", ids: ["f1"])
        var shouted = quiet
        shouted.text = "no motion in the  hallway from 10:45 to 11:00"
        let results = ObservationVerifier().verify(reply: [quiet, shouted], against: Self.packet)
        #expect(results[0].failure == nil)
        #expect(results[1].failure == .duplicateText(shouted.text))
    }
}
