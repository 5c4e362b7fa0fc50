import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A node home: node.json, keys/, ledger.db, objects/ (sxevidence-ledger(5), NODE HOME).
public final class NodeHome {
    public let path: String
    public let config: NodeConfig
    public let ledger: Ledger
    public let store: ObjectStore

    public var keysDir: String { path + "/keys" }

    /// `--home`, else `$SXEVIDENCE_HOME`, else `~/.sxevidence`.
    public static func resolve(_ explicit: String?, env: [String: String]) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let h = env["SXEVIDENCE_HOME"], !h.isEmpty { return h }
        return (env["HOME"] ?? NSHomeDirectory()) + "/.sxevidence"
    }

    public static func open(_ path: String) throws -> NodeHome {
        let cfgPath = path + "/node.json"
        guard POSIXFile.exists(cfgPath) else {
            throw EvidenceError(.notFound, zh: "\(path) 不是节点目录（缺少 node.json）；请先运行 sxevidence init",
                                en: "\(path) is not a node home (no node.json); run sxevidence init first")
        }
        let data = try POSIXFile.readAll(cfgPath)
        let cfg: NodeConfig
        do {
            cfg = try JSONDecoder().decode(NodeConfig.self, from: Data(data))
        } catch {
            throw EvidenceError(.dataError, zh: "node.json 无法解析：\(error)", en: "cannot parse node.json: \(error)")
        }
        guard cfg.format == NodeConfig.formatName else {
            throw EvidenceError(.dataError, zh: "node.json 格式版本不支持：\(cfg.format)", en: "unsupported node.json format: \(cfg.format)")
        }
        let ledger = try Ledger(path: path + "/ledger.db", nodeID: cfg.nodeID, origin: cfg.origin)
        return NodeHome(path: path, config: cfg, ledger: ledger, store: ObjectStore(root: path + "/objects"))
    }

    init(path: String, config: NodeConfig, ledger: Ledger, store: ObjectStore) {
        self.path = path
        self.config = config
        self.ledger = ledger
        self.store = store
    }

    /// Create a new home. Everything is built in a sibling folder and renamed into place, so a failed
    /// init leaves nothing behind; an existing non-empty home is never touched.
    public static func create(at rawPath: String, config: NodeConfig, keys given: (Ed25519Key, SM2Key)? = nil) throws -> NodeHome {
        var path = rawPath
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        try NodeConfig.validateNodeID(config.nodeID)
        try NodeConfig.validateOrigin(config.origin)
        if POSIXFile.exists(path) {
            let contents = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? ["?"]
            if !POSIXFile.isDirectory(path) || !contents.isEmpty {
                throw EvidenceError(.exists, zh: "\(path) 已存在且非空，拒绝覆盖", en: "\(path) already exists and is not empty; refusing to touch it")
            }
        }
        let parent = POSIXFile.parent(path)
        try POSIXFile.mkdirs(parent)
        let staging = "\(path).init-\(getpid())"
        try? FileManager.default.removeItem(atPath: staging)
        do {
            try POSIXFile.mkdirs(staging, mode: 0o700)
            try POSIXFile.mkdirs(staging + "/keys", mode: 0o700)
            try POSIXFile.mkdirs(staging + "/objects/sha256")
            try POSIXFile.mkdirs(staging + "/objects/tmp")
            let ed = try given?.0 ?? Ed25519Key.generate()
            let sm2 = try given?.1 ?? SM2Key.generate()
            try POSIXFile.writeAtomically(staging + "/keys/ed25519.pem", Array(try ed.privatePEM().utf8), mode: 0o600)
            try POSIXFile.writeAtomically(staging + "/keys/sm2.pem", Array(try sm2.privatePEM().utf8), mode: 0o600)
            try POSIXFile.writeAtomically(staging + "/keys/ed25519.pub.pem", Array(try ed.publicPEM().utf8))
            try POSIXFile.writeAtomically(staging + "/keys/sm2.pub.pem", Array(try sm2.publicPEM().utf8))
            try POSIXFile.writeAtomically(staging + "/node.json", try config.encoded())
            let ledger = try Ledger(path: staging + "/ledger.db", nodeID: config.nodeID, origin: config.origin, create: true)
            let keys = NodeKeys(ed25519: ed, sm2: sm2, name: config.origin)
            _ = try ledger.ensureCheckpoint(sign: keys.sign)
            // Rename works onto an empty directory too.
            guard rename(staging, path) == 0 else { throw POSIXFile.ioError("rename", path) }
            try POSIXFile.fsyncDirectory(parent)
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            throw error
        }
        return try open(path)
    }

    /// Add (or replace) a TSA in node.json; its trusted certificates are kept in `tsa/`.
    public func addTSA(url: String, caPEM: String, sm3: Bool) throws {
        try POSIXFile.mkdirs(path + "/tsa")
        let name = "tsa/trust-" + Hex.encode(Hashing.sha256(Array(url.utf8)).prefix(6)) + ".pem"
        try POSIXFile.writeAtomically(path + "/" + name, Array(caPEM.utf8))
        var cfg = config
        cfg.tsa = (cfg.tsa ?? []).filter { $0.url != url } + [NodeConfig.TSAEntry(url: url, ca: name, sm3: sm3 ? true : nil)]
        try POSIXFile.writeAtomically(path + "/node.json", try cfg.encoded())
    }

    /// Private keys from a backup folder (ed25519.pem and sm2.pem, as in keys/).
    public static func readKeys(from dir: String) throws -> (Ed25519Key, SM2Key) {
        for f in ["ed25519.pem", "sm2.pem"] where !POSIXFile.exists(dir + "/" + f) {
            throw EvidenceError(.notFound, zh: "密钥目录 \(dir) 缺少 \(f)", en: "key folder \(dir) has no \(f)")
        }
        return (try Ed25519Key.fromPEM(try POSIXFile.readText(dir + "/ed25519.pem")),
                try SM2Key.fromPEM(try POSIXFile.readText(dir + "/sm2.pem")))
    }

    public func loadKeys() throws -> NodeKeys {
        let ed = try Ed25519Key.fromPEM(try POSIXFile.readText(keysDir + "/ed25519.pem"))
        let sm2 = try SM2Key.fromPEM(try POSIXFile.readText(keysDir + "/sm2.pem"))
        return NodeKeys(ed25519: ed, sm2: sm2, name: config.origin)
    }

    /// Public keys only (keys/*.pub.pem), for verification; no private key is read.
    public func verifiers() throws -> [NoteVerifier] {
        let ed = try Ed25519Key.fromPEM(try POSIXFile.readText(keysDir + "/ed25519.pub.pem"))
        let sm2 = try SM2Key.fromPEM(try POSIXFile.readText(keysDir + "/sm2.pub.pem"))
        return [try Ed25519NoteVerifier(name: config.origin, publicKey: ed.publicKey),
                try SM2NoteVerifier(name: config.origin, publicPoint: sm2.publicPoint)]
    }
}
