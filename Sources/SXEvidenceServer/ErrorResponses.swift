import Foundation
import Hummingbird
import NIOCore
import SXEvidenceCore

/// The one place where outcomes become HTTP statuses (sxevidence-consortium(5), HTTP API). The core
/// throws `EvidenceError`s (with a domain cause where the protocol needs one); the server's own
/// refusals of a request's form or size are `RequestRefusal`s. Handlers only throw.
enum Responses {
    static func text(_ status: HTTPResponse.Status, _ s: String, type: String = "text/plain; charset=utf-8") -> Response {
        Response(status: status, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: s)))
    }

    static func bytes(_ b: [UInt8], type: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: b)))
    }

    /// The status of a core error: by its domain cause first, else by its code.
    static func status(of e: EvidenceError) -> HTTPResponse.Status {
        if let w = e.cause(as: WitnessRefusal.self) {
            switch w {
            case .notAWitness, .unknownOrigin: return .notFound
            case .malformed: return .badRequest
            case .badSignature: return .forbidden
            case .conflict: return .conflict
            case .unverifiable, .fork: return .unprocessableContent
            }
        }
        if e.cause(as: StaleOldSize.self) != nil || e.cause(as: ForkDetected.self) != nil { return .conflict }
        switch e.code {
        case .denied: return .forbidden
        case .notFound: return .notFound
        case .dataError, .usage: return .badRequest
        case .verification: return .unprocessableContent
        case .unavailable: return .serviceUnavailable
        case .exists, .ioError, .internalError: return .internalServerError
        }
    }

    static func response(for e: EvidenceError) -> Response {
        let status = status(of: e)
        if case .conflict(let held)? = e.cause(as: WitnessRefusal.self) {
            return text(status, "\(held)\n", type: "text/x.tlog.size")
        }
        if let s = e.cause(as: StaleOldSize.self) { return text(status, "\(s.held)\n", type: "text/x.tlog.size") }
        if let f = e.cause(as: ForkDetected.self) {
            ServerLog.line("ALERT fork by node \(f.proof.node) (\(f.proof.origin)); proof stored, see `consortium alerts`")
            return bytes(f.proof.json, type: "application/json", status: status)
        }
        if case .fork(let why)? = e.cause(as: WitnessRefusal.self) {
            ServerLog.line("ALERT fork seen in add-checkpoint: \(why); proof stored, see `consortium alerts`")
        }
        if status == .forbidden { ServerLog.line("refused: \(e.en)") }
        return text(status, e.en + "\n")
    }
}

extension EvidenceError: HTTPResponseError {
    public var status: HTTPResponse.Status { Responses.status(of: self) }
    public func response(from request: Request, context: some RequestContext) throws -> Response { Responses.response(for: self) }
}

/// The server's refusal of a request's form, size or rate (before any core work).
struct RequestRefusal: HTTPResponseError {
    let status: HTTPResponse.Status
    let text: String

    init(_ status: HTTPResponse.Status, _ text: String) {
        self.status = status
        self.text = text
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Responses.text(status, text + "\n")
    }
}

/// Lines for the operator on the server's stderr (escaped: they may carry peer-supplied text).
enum ServerLog {
    static func line(_ s: String) {
        FileHandle.standardError.write(Data("sxevidence serve: \(Display.escape(s))\n".utf8))
    }
}
