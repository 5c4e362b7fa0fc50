import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A parameter of a DevTools command. Strings go through the canonical writer's escaping;
/// numbers may be fractional (paper sizes, scales), which canonical JSON does not allow.
public indirect enum DevToolsParam: Sendable {
    case s(String)
    case i(Int)
    case b(Bool)
    case d(Double)
    case o([String: DevToolsParam])
    case a([DevToolsParam])

    func write(into out: inout [UInt8]) {
        switch self {
        case .s(let v): out += CanonicalValue.string(v).canonicalBytes
        case .i(let v): out += Array(String(v).utf8)
        case .b(let v): out += Array((v ? "true" : "false").utf8)
        case .d(let v): out += Array((v.isFinite ? String(v) : "0").utf8)
        case .a(let items):
            out.append(0x5B)
            for (k, item) in items.enumerated() {
                if k > 0 { out.append(0x2C) }
                item.write(into: &out)
            }
            out.append(0x5D)
        case .o(let members):
            out.append(0x7B)
            for (k, (name, value)) in members.sorted(by: { $0.key < $1.key }).enumerated() {
                if k > 0 { out.append(0x2C) }
                out += CanonicalValue.string(name).canonicalBytes
                out.append(0x3A)
                value.write(into: &out)
            }
            out.append(0x7D)
        }
    }
}

/// The Chrome DevTools protocol over `--remote-debugging-pipe` (sxevidence-capture(5), BROWSER
/// CAPTURE): JSON messages separated by a NUL byte, commands written to the browser's fd 3,
/// replies and events read from its fd 4. No port is opened, so nothing else on the machine can
/// drive the capture's browser. Replies are matched by id; events go to `onEvent` on the reader
/// thread, which must not wait for a reply (use `send`).
public final class DevTools: @unchecked Sendable {
    /// Largest message accepted from the browser (a full-page screenshot in base64).
    public static let maxMessage = 768 << 20

    private let writeFD: Int32
    private let readFD: Int32
    private let cond = NSCondition()
    private var nextID = 0
    private var replies: [Int: MiniJSON] = [:]
    /// Ids whose caller is still waiting; a reply that comes after its caller gave up is dropped.
    private var waiting: Set<Int> = []
    private var closed = false
    private let writeLock = NSLock()
    private let handlerLock = NSLock()
    private var handler: (@Sendable (String, String?, MiniJSON) -> Void)?

    init(writeFD: Int32, readFD: Int32) {
        self.writeFD = writeFD
        self.readFD = readFD
        let t = Thread { self.readLoop() }
        t.name = "sxevidence devtools"
        t.start()
    }

    deinit {
        close(writeFD)
        close(readFD)
    }

    /// Called for every event: method, session id, params.
    public func onEvent(_ h: @escaping @Sendable (String, String?, MiniJSON) -> Void) {
        handlerLock.withLock { handler = h }
    }

    public var isClosed: Bool { cond.withLock { closed } }

    private func readLoop() {
        var message: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        defer {
            cond.withLock {
                closed = true
                cond.broadcast()
            }
        }
        while true {
            let n = buf.withUnsafeMutableBytes { POSIXFile.readSome(readFD, into: $0) }
            guard n > 0 else { return }
            var start = 0
            for k in 0..<n where buf[k] == 0 {
                message += buf[start..<k]
                dispatch(message)
                message.removeAll(keepingCapacity: true)
                start = k + 1
            }
            message += buf[start..<n]
            guard message.count <= Self.maxMessage else { return }
        }
    }

    private func dispatch(_ bytes: [UInt8]) {
        guard let m = try? MiniJSON.parse(bytes, duplicateKeys: .firstWins, fractions: true) else { return }
        if let id = m["id"]?.int {
            cond.withLock {
                guard waiting.contains(Int(id)) else { return }
                replies[Int(id)] = m
                cond.broadcast()
            }
        } else if let method = m["method"]?.string {
            let h = handlerLock.withLock { handler }
            h?(method, m["sessionId"]?.string, m["params"] ?? .object([]))
        }
    }

    @discardableResult
    private func write(_ method: String, _ params: [String: DevToolsParam], session: String?, awaited: Bool = false) -> Int? {
        let id: Int = cond.withLock {
            nextID += 1
            if awaited { waiting.insert(nextID) }
            return nextID
        }
        var fields: [String: DevToolsParam] = ["id": .i(id), "method": .s(method), "params": .o(params)]
        if let session { fields["sessionId"] = .s(session) }
        var out: [UInt8] = []
        DevToolsParam.o(fields).write(into: &out)
        out.append(0)
        let ok = writeLock.withLock { out.withUnsafeBytes { POSIXFile.writeAll(writeFD, $0) } }
        if !ok && awaited { cond.withLock { _ = waiting.remove(id) } }
        return ok ? id : nil
    }

    /// Send a command without waiting for its reply (from an event handler: screencast acks).
    public func send(_ method: String, _ params: [String: DevToolsParam] = [:], session: String? = nil) {
        write(method, params, session: session)
    }

    /// Send a command and wait for its result; a protocol error, a closed browser or the
    /// timeout is thrown.
    @discardableResult
    public func call(_ method: String, _ params: [String: DevToolsParam] = [:], session: String? = nil,
                     timeout: Double = 30) throws -> MiniJSON {
        guard let id = write(method, params, session: session, awaited: true) else { throw Self.gone(method) }
        let deadline = Date().addingTimeInterval(timeout)
        cond.lock()
        defer {
            waiting.remove(id)
            cond.unlock()
        }
        while replies[id] == nil {
            if closed { throw Self.gone(method) }
            if !cond.wait(until: deadline) {
                throw EvidenceError.unavailable(zh: "浏览器在 \(Int(timeout)) 秒内未答复 \(method)",
                                                en: "the browser did not answer \(method) within \(Int(timeout)) s")
            }
        }
        let reply = replies.removeValue(forKey: id)!
        if let e = reply["error"] {
            let msg = Display.escape(e["message"]?.string ?? "error")
            throw EvidenceError.unavailable(zh: "浏览器拒绝 \(method)：\(msg)", en: "the browser refused \(method): \(msg)")
        }
        return reply["result"] ?? .object([])
    }

    static func gone(_ method: String) -> EvidenceError {
        .unavailable(zh: "浏览器已退出（\(method) 未完成）", en: "the browser has gone away (\(method) did not complete)")
    }
}
