public import SmollamaCore

/// The hub's time, as `POST /sync/v1/time` gives it, believed only when the enrolled hub signed
/// it (`smollama doctor` checks reachability and identity this way).
public enum HubTimeProbe {
    public enum Failure: Error, CustomStringConvertible, Sendable {
        case status(Int)
        case unreadable(String)
        case notTheEnrolledHub

        public var description: String {
            switch self {
            case .status(let status): "the hub answered HTTP \(status)"
            case .unreadable(let detail): "the hub's answer is unreadable (\(detail)); is the URL a smollama hub?"
            case .notTheEnrolledHub: "the answer is not signed by the hub this node enrolled with"
            }
        }
    }

    public static func hubTime(transport: some SyncTransport, hub: HubInfo) async throws -> UTCMillis {
        let response = try await transport.send(SyncHTTPRequest(path: SyncProtocol.Path.time, headers: [:], body: []))
        guard response.status == 200 else { throw Failure.status(response.status) }
        let time: TimeResponse
        do {
            time = try SyncJSON.decode(TimeResponse.self, response.body)
        } catch {
            throw Failure.unreadable(SyncJSON.describe(error))
        }
        guard time.hubNode == hub.hubNode, let key = [UInt8](hexString: hub.hubPublicKey),
            let signature = [UInt8](hexString: time.signature),
            SyncSigning.verify(
                publicKey: key, signature: signature,
                message: SyncSigning.timeMessage(hubNode: time.hubNode, hubTime: time.hubTime))
        else { throw Failure.notTheEnrolledHub }
        return time.hubTime
    }
}
