import Foundation
import Hummingbird
import NIOCore
import SXEvidenceCore

/// The node server (sxevidence(1) serve; protocols in sxevidence-timestamp(5) and
/// sxevidence-consortium(5)). Built as plain functions so tests can drive the router without a
/// port; `sxevidence serve` runs it on an address.
public enum NodeServer {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var tsa: TimeStampAuthority?
        public var nodeID: String
        public var consortium: ConsortiumService?
        public var maxRequestBytes = 64 * 1024
        /// A connection that delivers no complete request head, and no further body part, for this
        /// long is closed (Hummingbird's HTTP/1 idle timeout): slow-header and stalled-body clients
        /// cannot hold connections open. A handler that is still answering is not cut off.
        public var readTimeoutSeconds: Int64 = 60

        public init(host: String, port: Int, tsa: TimeStampAuthority?, nodeID: String, consortium: ConsortiumService? = nil) {
            self.host = host
            self.port = port
            self.tsa = tsa
            self.nodeID = nodeID
            self.consortium = consortium
        }
    }

    public static func buildRouter(_ config: Configuration) -> Router<NodeRequestContext> {
        let router = Router(context: NodeRequestContext.self)
        router.get("health") { _, _ -> Response in
            let body = "{\"consortium\":\(config.consortium != nil),\"node\":\"\(config.nodeID)\",\"status\":\"ok\",\"tsa\":\(config.tsa != nil)}\n"
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        router.post("tsa") { request, _ -> Response in
            guard let tsa = config.tsa else { return Response(status: .notFound) }
            guard request.headers[.contentType]?.lowercased().hasPrefix("application/timestamp-query") == true else {
                return Response(status: .unsupportedMediaType)
            }
            let buffer: ByteBuffer
            do {
                buffer = try await request.body.collect(upTo: config.maxRequestBytes)
            } catch {
                return Response(status: .contentTooLarge)
            }
            let reply = try tsa.respond(Array(buffer.readableBytesView))
            return Response(status: .ok, headers: [.contentType: "application/timestamp-reply"],
                            body: .init(byteBuffer: ByteBuffer(bytes: reply)))
        }
        config.consortium?.register(on: router)
        return router
    }

    /// `onListening` gets the port actually bound (useful with port 0).
    public static func buildApplication(_ config: Configuration, onListening: @escaping @Sendable (Int) -> Void = { _ in }) -> some ApplicationProtocol {
        Application(router: buildRouter(config),
                    server: .http1(configuration: .init(idleTimeout: .seconds(config.readTimeoutSeconds))),
                    configuration: .init(address: .hostname(config.host, port: config.port), serverName: "sxevidence"),
                    onServerRunning: { channel in onListening(channel.localAddress?.port ?? config.port) })
    }
}
