import Foundation
import Hummingbird
import NIOCore
import SXEvidenceCore
#if canImport(Glibc)
import Glibc
#endif

/// Object transfer routes (sxevidence-consortium(5), OBJECTS): reads by holders and the city,
/// uploads only of objects an entry of the uploader names.
extension ConsortiumService {
    func registerObjects(on signed: RouterGroup<NodeRequestContext>) {
        signed.get("objects/:sha") { _, ctx -> Response in
            let member = try ctx.requireMember()
            guard let sha = ctx.parameters.get("sha"), Ledger.isDigest(sha) else { throw RequestRefusal(.badRequest, "bad digest") }
            // Access.allows: the city, or the member that delivered these bytes itself.
            let opened = try await self.run { node -> (Int32, Int64)?? in
                guard try node.mayRead(object: sha, requester: member) else { return .none }
                return .some(node.home.store.openObject(sha256: sha))
            }
            guard let found = opened else { throw Self.denied(member, "this object") }
            guard let (fd, size) = found else { throw RequestRefusal(.notFound, "no such object") }
            return Response(status: .ok, headers: [.contentType: "application/octet-stream"],
                            body: ResponseBody(contentLength: Int(size)) { writer in
                                defer { close(fd) }
                                var buf = [UInt8](repeating: 0, count: 1 << 20)
                                while true {
                                    let n = buf.withUnsafeMutableBytes { POSIXFile.readSome(fd, into: $0) }
                                    // A read error must not pass for the end of the object: the body is cut short, not completed.
                                    if n < 0 { throw EvidenceError.ioError(zh: "读取证据文件失败", en: "cannot read the object: \(POSIXFile.errnoText())") }
                                    if n == 0 { break }
                                    try await writer.write(ByteBuffer(bytes: buf[0..<n]))
                                }
                                try await writer.finish(nil)
                            })
        }
        signed.post("objects/missing") { req, ctx -> Response in
            let member = try ctx.requireMember()
            let body = try await self.signedBody(req, limit: 8 << 20)
            let digests = String(decoding: body, as: UTF8.self).split(separator: "\n").map(String.init)
            guard digests.allSatisfy(Ledger.isDigest) else { throw RequestRefusal(.badRequest, "bad digest list") }
            // Only about the member's own objects: which it has not delivered (not what we hold from others).
            let missing = try await self.run { node in try node.undelivered(digests, by: member.nodeID) }
            return Responses.text(.ok, missing.map { $0 + "\n" }.joined())
        }
        signed.post("objects") { req, ctx -> Response in
            let member = try ctx.requireMember()
            let body = try await self.signedBody(req, limit: self.limits.bundleBytes)
            guard let items = ObjectBundle.parse(body) else { throw RequestRefusal(.badRequest, "malformed object bundle") }
            let n = try await self.run { node -> Int in
                try node.receiveObjects(items, holder: member.nodeID, entryOf: member)
                try node.home.store.sync()
                return items.count
            }
            return Responses.text(.ok, "\(n)\n")
        }
        signed.put("objects/:sha") { req, ctx -> Response in
            let member = try ctx.requireMember()
            guard let sha = ctx.parameters.get("sha"), Ledger.isDigest(sha),
                  sha == Self.header(req, "SX-Content-SHA256") else { throw RequestRefusal(.badRequest, "bad digest") }
            let tmp = try await self.run { node in node.temporaryObjectPath() }
            try await self.receiveUpload(req, into: tmp)
            try await self.run { node in
                try node.receiveObject(tmpPath: tmp, expectedSHA256: sha, holder: member.nodeID, entryOf: member)
                try node.home.store.sync()
            }
            return Responses.text(.ok, "1\n")
        }
    }

    /// Stream an upload into a new temporary file, within the object limit; nothing is left on failure.
    func receiveUpload(_ req: Request, into tmp: String) async throws {
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw RequestRefusal(.internalServerError, "cannot write") }
        defer { close(fd) }
        var total: Int64 = 0
        do {
            for try await chunk in req.body {
                total += Int64(chunk.readableBytes)
                if total > limits.objectBytes { throw RequestRefusal(.contentTooLarge, "object too large") }
                let ok = chunk.withUnsafeReadableBytes { POSIXFile.writeAll(fd, $0) }
                if !ok { throw RequestRefusal(HTTPResponse.Status(code: 507), "cannot store the object") }
            }
        } catch let r as RequestRefusal {
            unlink(tmp)
            throw r
        } catch {
            unlink(tmp)
            throw RequestRefusal(.badRequest, "upload broke off")
        }
    }
}
