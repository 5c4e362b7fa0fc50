import Foundation
import Hummingbird
import NIOCore
import SXEvidenceCore
#if canImport(Glibc)
import Glibc
#endif

/// The consortium routes (sxevidence-consortium(5), HTTP API). Public reads first; the signed routes
/// sit behind `SignedRequestMiddleware` and decide access with `Access.allows` alone. Handlers throw;
/// `Responses` turns every error into its status.
extension ConsortiumService {
    static func proofLines(_ hashes: [[UInt8]]) -> Response { Responses.text(.ok, hashes.map { Base64.encode($0) + "\n" }.joined()) }

    static func range(_ req: Request) throws -> (start: Int64, max: Int64) {
        let start = req.uri.queryParameters.get("start", as: Int64.self) ?? 0
        let max = min(req.uri.queryParameters.get("max", as: Int64.self) ?? 5000, 100_000)
        guard start >= 0, max > 0 else { throw RequestRefusal(.badRequest, "bad range") }
        return (start, max)
    }

    static func within(_ node: ConsortiumNode, _ size: Int64) throws {
        guard size <= (try node.home.ledger.size()) else { throw EvidenceError.notFound(zh: "超出日志大小", en: "size beyond the log") }
    }

    func register(on router: Router<NodeRequestContext>) {
        registerPublic(on: router)
        registerWitness(on: router)
        let signed = router.group("v1").add(middleware: SignedRequestMiddleware(service: self))
        registerLogReads(on: signed)
        registerObjects(on: signed)
        signed.post("push") { req, ctx -> Response in
            let member = try ctx.requireMember()
            let body = try await self.signedBody(req, limit: self.limits.batchBytes)
            let batch = try EntryBatch.parse(body)
            guard batch.node == member.nodeID else { throw RequestRefusal(.forbidden, "a node may push only its own log") }
            let got = try await self.run { node in try node.receive(batch) }
            return Responses.text(.ok, got.cosignature.joined(), type: "text/x.tlog.cosignatures")
        }
    }

    func registerPublic(on router: Router<NodeRequestContext>) {
        router.get("v1/policy") { _, _ -> Response in
            let text = try await self.run { node -> String? in
                POSIXFile.exists(node.home.policyPath) ? try POSIXFile.readText(node.home.policyPath) : nil
            }
            guard let text else { throw RequestRefusal(.notFound, "no consortium policy") }
            return Responses.text(.ok, text)
        }
        router.get("v1/checkpoint") { _, _ -> Response in
            let note = try await self.run { node -> String in
                guard let cp = try node.home.ledger.checkpoint() else { return "" }
                return try node.home.ledger.cosignedNote(cp)
            }
            return Responses.text(.ok, note)
        }
        router.get("v1/proof/inclusion") { req, _ -> Response in
            guard let i = req.uri.queryParameters.get("index", as: Int64.self), let n = req.uri.queryParameters.get("size", as: Int64.self),
                  i >= 0, i < n else { throw RequestRefusal(.badRequest, "index and size required, index < size") }
            return Self.proofLines(try await self.run { node in try Self.within(node, n); return try node.home.ledger.inclusionProof(index: i, size: n) })
        }
        router.get("v1/proof/consistency") { req, _ -> Response in
            guard let a = req.uri.queryParameters.get("from", as: Int64.self), let b = req.uri.queryParameters.get("to", as: Int64.self),
                  a > 0, a <= b else { throw RequestRefusal(.badRequest, "from and to required, 0 < from <= to") }
            return Self.proofLines(try await self.run { node in try Self.within(node, b); return try node.home.ledger.consistencyProof(from: a, to: b) })
        }
    }

    /// c2sp.org/tlog-witness add-checkpoint: unsigned by design, limited per peer address.
    func registerWitness(on router: Router<NodeRequestContext>) {
        router.post("add-checkpoint") { req, ctx -> Response in
            guard self.witnessLimit.take(ctx.peer) else { throw RequestRefusal(.tooManyRequests, "too many unsigned requests; try again shortly") }
            let buffer: ByteBuffer
            do { buffer = try await req.body.collect(upTo: 64 * 1024) } catch { throw RequestRefusal(.contentTooLarge, "too large") }
            let body = Array(buffer.readableBytesView)
            let lines = try await self.run { node in try node.addCheckpoint(body: body) }
            return Responses.text(.ok, lines.joined())
        }
    }

    /// Our own log (the city pulling) and the replicas, cosignatures and anchors we hold.
    func registerLogReads(on signed: RouterGroup<NodeRequestContext>) {
        signed.get("batch") { req, ctx -> Response in
            try Self.require(try ctx.requireMember(), .log(of: self.nodeID), "this log")
            let (start, max) = try Self.range(req)
            let b = try await self.run { node in try node.home.ledger.batch(old: start, max: max)?.serialized }
            guard let b else { return Response(status: .noContent) }
            return Responses.bytes(b, type: "application/x.sxevidence-batch")
        }
        signed.get("replicas/:node/checkpoint") { _, ctx -> Response in
            let id = ctx.parameters.get("node") ?? ""
            try Self.require(try ctx.requireMember(), .log(of: id), "the log of \(id)")
            let note = try await self.run { node -> String? in
                guard let m = try node.policy().member(id), node.hasReplica(id) else { return nil }
                return try node.replica(for: m).checkpoint()?.note
            }
            guard let note else { return Response(status: .noContent) }
            return Responses.text(.ok, note)
        }
        signed.get("replicas/:node/cosignature") { req, ctx -> Response in
            let id = ctx.parameters.get("node") ?? ""
            try Self.require(try ctx.requireMember(), .log(of: id), "the log of \(id)")
            guard let size = req.uri.queryParameters.get("size", as: Int64.self) else { throw RequestRefusal(.badRequest, "size required") }
            let lines = try await self.run { node -> [String]? in
                guard let m = try node.policy().member(id), let row = try node.home.ledger.cosigned(origin: m.origin, size: size) else { return nil }
                let n = try SignedNote.parse(row.note)
                return n.signatures.filter { $0.name == node.home.config.origin }.map(\.line)
            }
            guard let lines else { throw RequestRefusal(.notFound, "no cosignature for that size") }
            return Responses.text(.ok, lines.joined())
        }
        signed.get("replicas/:node/batch") { req, ctx -> Response in
            let id = ctx.parameters.get("node") ?? ""
            try Self.require(try ctx.requireMember(), .log(of: id), "the log of \(id)")
            let (start, max) = try Self.range(req)
            let b = try await self.run { node -> [UInt8]? in
                guard let m = try node.policy().member(id), node.hasReplica(id) else { return nil }
                return try node.replica(for: m).batch(old: start, max: max)?.serialized
            }
            guard let b else { return Response(status: .noContent) }
            return Responses.bytes(b, type: "application/x.sxevidence-batch")
        }
        // The anchor entry for a member's cosigned checkpoint, with its inclusion proof in our log
        // (sxevidence-bundle(5) puts both in court bundles).
        signed.get("anchors/:node") { req, ctx -> Response in
            let id = ctx.parameters.get("node") ?? ""
            try Self.require(try ctx.requireMember(), .log(of: id), "the log of \(id)")
            guard let size = req.uri.queryParameters.get("size", as: Int64.self), size > 0 else { throw RequestRefusal(.badRequest, "size required") }
            let answer = try await self.run { node -> [UInt8]? in
                guard let m = try node.policy().member(id), let row = try node.home.ledger.cosigned(origin: m.origin, size: size),
                      let idx = row.anchorIndex, let e = try node.home.ledger.entry(index: idx), let cp = try node.home.ledger.checkpoint() else { return nil }
                let proof = TlogProof(index: idx, hashes: try node.home.ledger.inclusionProof(index: idx, size: cp.size), checkpointNote: cp.note, extra: e.body)
                return Array(proof.serialized.utf8)
            }
            guard let answer else { throw RequestRefusal(.notFound, "no anchor for that checkpoint") }
            return Responses.bytes(answer, type: "text/x.tlog-proof")
        }
    }
}
