import Hummingbird
import NIOCore

/// The request context of the node server: Hummingbird's core context and the peer's address,
/// which the per-peer limit on unsigned routes is keyed by (sxevidence-consortium(5), WITNESS).
public struct NodeRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The peer's IP address (without the port), or "-" when unknown (an in-process channel).
    public var peer: String { remoteAddress?.ipAddress ?? "-" }
}
