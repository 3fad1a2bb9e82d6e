import Foundation
import GRDB
public import SmollamaCore

extension KnowledgeStore {
    /// The end of the latest window this node observed (its observations' `time_end`), or nil
    /// before its first observation. The daemon back-fills the windows after it at start.
    public func lastObservedEnd(origin: NodeID) async throws -> UTCMillis? {
        try await reader.read { db in
            try UTCMillis.fetchOne(
                db, ObservationRow.filter(ObservationRow.Columns.origin == origin).select(max(ObservationRow.Columns.timeEnd)))
        }
    }
}
