import Hummingbird
import SXEvidenceCore

/// Authentication of the signed consortium routes (sxevidence-request/2, sxevidence-consortium(5)
/// AUTHENTICATION): the signature, key, time, nonce and target are checked against the policy before
/// the handler runs or the body is read; the member is put in the request context. A refusal is 403.
struct SignedRequestMiddleware: RouterMiddleware {
    typealias Context = NodeRequestContext
    let service: ConsortiumService

    func handle(_ req: Request, context: NodeRequestContext,
                next: (Request, NodeRequestContext) async throws -> Response) async throws -> Response {
        var context = context
        context.member = try await service.authenticate(req)
        return try await next(req, context)
    }
}

extension NodeRequestContext {
    /// The member the middleware authenticated (every signed route runs behind it).
    func requireMember() throws -> ConsortiumPolicy.Member {
        guard let member else { throw RequestRefusal(.forbidden, "this route needs a signed request") }
        return member
    }
}
