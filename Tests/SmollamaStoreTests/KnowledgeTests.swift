import Foundation
import SmollamaCore
import SmollamaTesting
import Testing
@testable import SmollamaStore

@Suite struct KnowledgeTests {
    let nodeA = NodeID(hex: "0000000000000000000000000000000a")!
    let nodeB = NodeID(hex: "0000000000000000000000000000000b")!

    func stamp(_ ms: Int64) -> ClockStamp {
        .test(ms, bootID: "b")
    }

    func memory(_ text: String, parent: MemoryVersionRef? = nil) -> MemoryRecord {
        MemoryRecord(
            id: "m1", kind: "routine", subjects: ["hallway.motion"], text: text, confidence: 0.8, importance: 0.5,
            validFrom: 1_795_000_000_000, createdAt: 1_795_000_000_000, source: .reflection, parent: parent)
    }

    @Test func anObservationRepeatedWithMoreSupportKeepsOneRow() async throws {
        let store = try await TestStore()
        var observation = ObservationRecord(
            id: "o1", kind: "activity", subjects: ["hallway.motion"], text: "Motion 3 times.", evidenceIDs: ["f1"],
            importance: 0.4, generator: .rules, timeStart: 1_795_000_000_000, timeEnd: 1_795_000_900_000)
        try await store.database.knowledge.record(observation, origin: nodeA, stamp: stamp(1_795_000_900_000))
        observation.support = 2
        observation.timeEnd = 1_795_001_800_000
        try await store.database.knowledge.record(observation, origin: nodeA, stamp: stamp(1_795_001_800_000))

        let stored = try await store.database.knowledge.recentObservations(limit: 10)
        #expect(stored.map(\.record) == [observation])
        let events = try await store.database.events.fetch(origin: nodeA, stream: .observations)
        #expect(events.count == 2)
    }

    /// The memory's creator and the hub (through mem0) edit it concurrently; whichever order the
    /// versions arrive in, both stores show the same winner and keep both versions in the history.
    @Test func concurrentEditsConvergeWhateverTheArrivalOrder() async throws {
        let source = try await TestStore()
        try await source.database.meta.setHub(nodeB)
        let first = try await source.database.knowledge.record(memory("Motion 07:00-09:00."), origin: nodeA, stamp: stamp(1))
        let parent = MemoryVersionRef(origin: nodeA, seq: first.seq)
        let editA = try await source.database.knowledge.record(
            memory("Motion 07:00-09:30.", parent: parent), origin: nodeA, stamp: stamp(5))
        let otherStore = try await TestStore()
        try await otherStore.database.meta.setHub(nodeB)
        #expect(try await otherStore.database.events.apply(first) == .inserted)
        let editB = try await otherStore.database.knowledge.record(
            memory("Motion 06:30-09:00.", parent: parent), origin: nodeB, stamp: stamp(5))

        #expect(try await source.database.events.apply(editB) == .inserted)
        #expect(try await otherStore.database.events.apply(editA) == .inserted)

        let winnerHere = try #require(try await source.database.knowledge.memory(id: "m1"))
        let winnerThere = try #require(try await otherStore.database.knowledge.memory(id: "m1"))
        #expect(winnerHere == winnerThere)
        // Same hlc: the higher origin wins, deterministically.
        #expect(winnerHere.record.text == "Motion 06:30-09:00.")
        #expect(winnerHere.firstOrigin == nodeA)
        let history = try await source.database.knowledge.memoryVersions(id: "m1")
        #expect(history.map(\.record.text) == ["Motion 07:00-09:00.", "Motion 07:00-09:30.", "Motion 06:30-09:00."])
        #expect(history.filter { $0.record.parent == parent }.count == 2)
    }

    /// Issue 18, finding 3: the winning version of a record was the highest (hlc, origin, seq)
    /// whoever sent it, so any enrolled node could rewrite another's memories and observations on
    /// every node. Now only the record's creator (and the hub, for memories) writes versions of it.
    @Test func anotherNodeCannotOverwriteAMemoryOrObservation() async throws {
        let hub = NodeID(hex: "000000000000000000000000000000ff")!
        func storeWithHub() async throws -> TestStore {
            let store = try await TestStore()
            try await store.database.meta.setHub(hub)
            return store
        }
        func event(_ body: EventBody, from origin: NodeID, seq: Int64, at ms: Int64) throws -> Event {
            try Event(origin: origin, seq: seq, stamp: stamp(ms), body: body)
        }
        // A memory whose id names node A.
        do {
            let id = nodeA.newRecordID()
            let store = try await storeWithHub()
            var original = memory("Motion 07:00-09:00.")
            original.id = id
            #expect(try await store.database.events.apply(event(.memoryVersion(original), from: nodeA, seq: 1, at: 1)) == .inserted)
            var forged = original
            forged.text = "Nobody is ever home."
            forged.parent = MemoryVersionRef(origin: nodeA, seq: 1)
            // Stamped later, so it would win on (hlc, origin, seq): kept in the log, changes nothing.
            #expect(try await store.database.events.apply(event(.memoryVersion(forged), from: nodeB, seq: 1, at: 9)) == .inserted)
            #expect(try await store.database.knowledge.memory(id: id)?.record.text == "Motion 07:00-09:00.")
            #expect(try await store.database.knowledge.memoryVersions(id: id).count == 1, "no forged history entry")
            // The hub's edit (mem0) counts.
            var edited = original
            edited.text = "Motion 07:00-09:30."
            #expect(try await store.database.events.apply(event(.memoryVersion(edited), from: hub, seq: 1, at: 5)) == .inserted)
            #expect(try await store.database.knowledge.memory(id: id)?.record.text == "Motion 07:00-09:30.")
            // Node A's own later edit counts too.
            edited.text = "Motion 06:45-09:30."
            #expect(try await store.database.events.apply(event(.memoryVersion(edited), from: nodeA, seq: 2, at: 7)) == .inserted)
            #expect(try await store.database.knowledge.memory(id: id)?.record.text == "Motion 06:45-09:30.")
        }
        let store = try await storeWithHub()
        // Observations: only their creator, not even the hub.
        let observation = ObservationRecord(
            id: nodeA.newRecordID(), kind: "activity", subjects: ["hallway.motion"], text: "Motion 3 times.",
            evidenceIDs: ["f1"], importance: 0.4, generator: .rules, timeStart: 1_795_000_000_000, timeEnd: 1_795_000_900_000)
        _ = try await store.database.events.apply(event(.observation(observation), from: nodeA, seq: 1, at: 1))
        var forged = observation
        forged.text = "A fire in the hallway."
        for (origin, at) in [(nodeB, Int64(9)), (hub, 10)] {
            _ = try await store.database.events.apply(event(.observation(forged), from: origin, seq: 1, at: at))
            #expect(try await store.database.knowledge.observation(id: observation.id)?.record.text == "Motion 3 times.")
        }
        // A forged version that arrives FIRST does not make the sender the creator of a new-style id.
        let later = ObservationRecord(
            id: nodeA.newRecordID(), kind: "activity", subjects: ["hallway.motion"], text: "Motion twice.",
            evidenceIDs: ["f1"], importance: 0.4, generator: .rules, timeStart: 1_795_000_900_000, timeEnd: 1_795_001_800_000)
        var early = later
        early.text = "A fire in the hallway."
        _ = try await store.database.events.apply(event(.observation(early), from: nodeB, seq: 2, at: 11))
        #expect(try await store.database.knowledge.observation(id: later.id) == nil)
        _ = try await store.database.events.apply(event(.observation(later), from: nodeA, seq: 2, at: 3))
        #expect(try await store.database.knowledge.observation(id: later.id)?.record.text == "Motion twice.")
    }

    @Test func aClosedMemoryLeavesTheCurrentListButStaysReadable() async throws {
        let store = try await TestStore()
        let first = try await store.database.knowledge.record(memory("Motion 07:00-09:00."), origin: nodeA, stamp: stamp(1))
        var closed = memory("Motion 07:00-09:00.", parent: MemoryVersionRef(origin: nodeA, seq: first.seq))
        closed.validTo = 1_795_100_000_000
        closed.expiredAt = 1_795_100_000_000
        try await store.database.knowledge.record(closed, origin: nodeA, stamp: stamp(2))

        #expect(try await store.database.knowledge.memories(currentOnly: true, limit: 10).isEmpty)
        #expect(try await store.database.knowledge.memories(currentOnly: false, limit: 10).map(\.record) == [closed])
    }

    @Test func aForeignEventWithAnUndecodablePayloadIsRefusedAndNothingChanges() async throws {
        let store = try await TestStore()
        // As a broken node would send it: a memory version whose payload is not a memory record.
        let payload = Data(#"{"id":"m1"}"#.utf8)
        let bad = Event(
            stored: nodeB, stream: .memories, seq: 1, stamp: stamp(1), type: EventBody.Kind.memoryVersion.rawValue,
            payload: payload,
            hash: Event.hash(origin: nodeB, stream: .memories, seq: 1, stamp: stamp(1), type: "memory.version",
                             payload: payload))
        #expect(bad.hashIsValid)
        await #expect(throws: StoreError.self) { try await store.database.events.apply(bad) }
        #expect(try await store.database.events.fetch(origin: nodeB, stream: .memories).isEmpty)
        #expect(try await store.database.knowledge.memory(id: "m1") == nil)
    }
}
