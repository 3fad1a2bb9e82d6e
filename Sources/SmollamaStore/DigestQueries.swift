import Foundation
import GRDB
public import SmollamaCore

/// Migration `v7-digest-confidence`: observations carry a confidence computed from their evidence
/// (NULL for those written before). Nothing else changes; the recall view still ranks
/// observations by importance alone.
enum DigestSchema {
    static let v7 = """
        ALTER TABLE observations ADD COLUMN confidence REAL;
        """
}

extension KnowledgeStore {
    /// This node's observations whose span starts in `[from, to)`, oldest first: what a daily
    /// digest reads about its day.
    public func observations(origin: NodeID, startingFrom from: UTCMillis, to: UTCMillis) async throws
        -> [StoredObservation]
    {
        try await reader.read { db in
            try ObservationRow
                .filter(ObservationRow.Columns.origin == origin && ObservationRow.Columns.timeStart >= from
                    && ObservationRow.Columns.timeStart < to)
                .order(ObservationRow.Columns.timeStart, ObservationRow.Columns.id)
                .fetchAll(db).map(\.stored)
        }
    }
}
