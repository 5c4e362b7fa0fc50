import Hummingbird
import NIOCore
import SXEvidenceCore

/// The request context of the node server: Hummingbird's core context, the peer's address (the
/// per-peer limit on unsigned routes is keyed by it, sxevidence-consortium(5) WITNESS) and, on signed
/// routes, the member `SignedRequestMiddleware` authenticated.
public struct NodeRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    public internal(set) var member: ConsortiumPolicy.Member?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        member = nil
    }

    /// The peer's IP address (without the port), or "-" when unknown (an in-process channel).
    public var peer: String { remoteAddress?.ipAddress ?? "-" }
}
