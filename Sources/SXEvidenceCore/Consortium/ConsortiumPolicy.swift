/// The consortium policy (sxevidence-consortium(5), POLICY): who the members are, their keys and
/// endpoints, and who must cosign. It travels as a C2SP signed note whose text is the header line
/// `sxevidence-consortium/1` and one line of canonical JSON, signed by the city node's two keys.
public struct ConsortiumPolicy: Sendable, Equatable {
    public static let header = "sxevidence-consortium/1"

    public struct Member: Sendable, Equatable {
        public var nodeID: String
        public var name: String
        public var role: NodeRole
        public var origin: String
        public var ed25519: [UInt8]     // 32-byte public key
        public var sm2: [UInt8]         // 65-byte uncompressed point
        public var endpoint: String     // http(s)://host:port, or "" when the node serves nothing

        public init(nodeID: String, name: String, role: NodeRole, origin: String, ed25519: [UInt8], sm2: [UInt8], endpoint: String) {
            self.nodeID = nodeID
            self.name = name
            self.role = role
            self.origin = origin
            self.ed25519 = ed25519
            self.sm2 = sm2
            self.endpoint = endpoint
        }

        public func noteVerifiers() throws -> [NoteVerifier] {
            [try Ed25519NoteVerifier(name: origin, publicKey: ed25519), try SM2NoteVerifier(name: origin, publicPoint: sm2)]
        }

        public func cosignatureVerifier() throws -> Cosignature.Verifier {
            try Cosignature.Verifier(name: origin, ed25519Public: ed25519, sm2Point: sm2)
        }
    }

    public var version: Int64
    public var city: String
    public var created: String
    public var members: [Member]
    public var cosigners: [String]
    /// SHA-256 (lowercase hex) of the DER of each TSA root certificate the consortium trusts; a
    /// bundle's time stamps are confirmed only against these (or roots the verifier is given).
    public var tsaRoots: [String]

    public init(version: Int64, city: String, created: String, members: [Member], cosigners: [String], tsaRoots: [String] = []) {
        self.version = version
        self.city = city
        self.created = created
        self.members = members
        self.cosigners = cosigners
        self.tsaRoots = tsaRoots
    }

    public func member(_ id: String) -> Member? { members.first { $0.nodeID == id } }
    public func member(origin: String) -> Member? { members.first { $0.origin == origin } }
    public var cityMember: Member? { member(city) }

    /// The note text: header line, canonical JSON line.
    public var text: String {
        var w = CanonicalJSONWriter(capacity: 512 + members.count * 400)
        w.beginObject()
        w.member("city", city)
        w.key("cosigners")
        w.beginArray()
        for c in cosigners { w.string(c) }
        w.endArray()
        w.member("created", created)
        w.key("members")
        w.beginArray()
        for m in members {
            w.beginObject()
            w.member("ed25519", Base64.encode(m.ed25519))
            w.member("endpoint", m.endpoint)
            w.member("name", m.name)
            w.member("node_id", m.nodeID)
            w.member("origin", m.origin)
            w.member("role", m.role.rawValue)
            w.member("sm2", Base64.encode(m.sm2))
            w.endObject()
        }
        w.endArray()
        if !tsaRoots.isEmpty {
            w.key("tsa_roots")
            w.beginArray()
            for r in tsaRoots { w.string(r) }
            w.endArray()
        }
        w.member("version", version)
        w.endObject()
        return Self.header + "\n" + String(decoding: w.bytes, as: UTF8.self) + "\n"
    }

    static func bad(_ zh: String, _ en: String) -> EvidenceError {
        EvidenceError.dataError(zh: "联盟策略格式错误：\(zh)", en: "malformed consortium policy: \(en)")
    }

    /// Parse the note text (signatures are checked by `verify`).
    public static func parse(text: String) throws -> ConsortiumPolicy {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count == 3, lines[0] == header, lines[2] == "" else { throw bad("首行或行数不对", "header or line count") }
        // The strict reader: integers in Int64, duplicate keys refused; the canonical comparison
        // below refuses everything else that is not exactly what we would write.
        guard let obj = try? MiniJSON.parse(Array(lines[1].utf8)), obj.members != nil else { throw bad("JSON 无法解析", "JSON") }
        func str(_ o: MiniJSON, _ k: String) throws -> String {
            guard let v = o[k]?.string else { throw bad("缺少字段 \(k)", "missing field \(k)") }
            return v
        }
        guard let version = obj["version"]?.int, version >= 1 else { throw bad("version", "version") }
        guard let ms = obj["members"]?.array, !ms.isEmpty, ms.allSatisfy({ $0.members != nil }) else { throw bad("members", "members") }
        guard let cos = obj["cosigners"]?.strings else { throw bad("cosigners", "cosigners") }
        var tsaRoots: [String] = []
        if let t = obj["tsa_roots"] {
            guard let list = t.strings, !list.isEmpty, list.allSatisfy(Ledger.isDigest), Set(list).count == list.count else {
                throw bad("tsa_roots", "tsa_roots (a non-empty list of distinct SHA-256 digests)")
            }
            tsaRoots = list
        }
        var members: [Member] = []
        for m in ms {
            guard let role = NodeRole(rawValue: try str(m, "role")) else { throw bad("role", "role") }
            guard let ed = Base64.decode(try str(m, "ed25519")), ed.count == 32 else { throw bad("ed25519", "ed25519 key") }
            guard let sm = Base64.decode(try str(m, "sm2")), sm.count == 65, sm[0] == 4 else { throw bad("sm2", "sm2 key") }
            let id = try str(m, "node_id")
            let origin = try str(m, "origin")
            do {
                try NodeConfig.validateNodeID(id)
                try NodeConfig.validateOrigin(origin)
            } catch let e as EvidenceError {
                throw bad(e.zh, e.en)
            }
            members.append(Member(nodeID: id, name: try str(m, "name"), role: role, origin: origin, ed25519: ed, sm2: sm,
                                  endpoint: try str(m, "endpoint")))
        }
        let p = ConsortiumPolicy(version: version, city: try str(obj, "city"), created: try str(obj, "created"),
                                 members: members, cosigners: cos, tsaRoots: tsaRoots)
        // Canonical form only: what was signed must be exactly what we would write.
        guard p.text == text else { throw bad("不是规范编码", "not in canonical form") }
        guard Set(members.map(\.nodeID)).count == members.count, Set(members.map(\.origin)).count == members.count else {
            throw bad("成员重复", "duplicate member")
        }
        guard let c = p.cityMember, c.role == .city else { throw bad("缺少市级节点", "city node is not a city member") }
        guard cos.allSatisfy({ p.member($0) != nil }) else { throw bad("联署节点不是成员", "a cosigner is not a member") }
        return p
    }

    /// Sign with the city's keys.
    public func signed(with keys: NodeKeys) throws -> SignedNote {
        try SignedNote.sign(text: text, with: keys.signers)
    }

    /// Parse a signed policy and check both city signatures against the city key it names — and,
    /// when `trustedCity` is given, that this is the city key we already trust.
    public static func verify(_ serialized: String, trustedCity: Member? = nil) throws -> (ConsortiumPolicy, SignedNote) {
        let note = try SignedNote.parse(serialized)
        let p = try parse(text: note.text)
        guard let city = p.cityMember else { throw bad("缺少市级节点", "no city member") }
        if let t = trustedCity {
            guard t.ed25519 == city.ed25519, t.sm2 == city.sm2, t.origin == city.origin else {
                throw EvidenceError.verification(zh: "联盟策略中的市级节点公钥与已信任的不同", en: "the policy's city keys differ from the city keys already trusted")
            }
        }
        let results = note.check(with: try city.noteVerifiers())
        guard results.count == 2, results.allSatisfy(\.ok) else {
            throw EvidenceError.verification(zh: "联盟策略的市级节点签名（Ed25519 与 SM2）无效或缺失",
                                en: "the policy lacks a valid city signature (Ed25519 and SM2)")
        }
        return (p, note)
    }
}

extension NodeHome {
    public var policyPath: String { path + "/consortium.policy" }

    /// The TSA roots a city names in the policy it signs: its own TSA's root (`tsa/ca.pem`, from
    /// `tsa init`) and the root of every TSA it trusts (`timestamp trust`), by fingerprint.
    public func tsaRootFingerprints() throws -> [String] {
        var files = [path + "/tsa/ca.pem"]
        for t in config.tsa ?? [] { files.append(t.ca.hasPrefix("/") ? t.ca : path + "/" + t.ca) }
        var out = Set<String>()
        for f in files where POSIXFile.exists(f) {
            for b in X509Certificate.pemBlocks(try POSIXFile.readText(f)) { out.insert(b.fingerprint) }
        }
        return out.sorted()
    }

    /// The policy this node holds, verified; nil when the node has none yet.
    public func policy() throws -> ConsortiumPolicy? {
        guard POSIXFile.exists(policyPath) else { return nil }
        return try ConsortiumPolicy.verify(try POSIXFile.readText(policyPath)).0
    }

    public func requirePolicy() throws -> ConsortiumPolicy {
        guard let p = try policy() else {
            throw EvidenceError.notFound(zh: "本节点还没有联盟策略（consortium init 或 consortium import）",
                                en: "this node has no consortium policy yet (consortium init or consortium import)")
        }
        return p
    }

    /// Accept a signed policy: valid city signatures, the city key already trusted (or given), a higher version.
    @discardableResult
    public func importPolicy(_ serialized: String, trustCity: [UInt8]? = nil) throws -> ConsortiumPolicy {
        let current = try policy()
        let (p, _) = try ConsortiumPolicy.verify(serialized, trustedCity: current?.cityMember)
        if let current {
            guard p.version > current.version else {
                throw EvidenceError.verification(zh: "联盟策略版本 \(p.version) 不高于已有的 \(current.version)，拒绝",
                                    en: "policy version \(p.version) is not newer than the held version \(current.version); refused")
            }
        } else if config.role != .city || p.city != config.nodeID {
            // First policy on a county: the operator must name the city key they were given separately.
            guard let trustCity, trustCity == p.cityMember?.ed25519 else {
                throw EvidenceError.verification(zh: "首次导入须用 --city-key 给出另行获得的市级节点 Ed25519 公钥，且须与策略一致",
                                    en: "a first import needs --city-key with the city's Ed25519 key obtained separately, matching the policy")
            }
        }
        if let me = p.member(config.nodeID) {
            let v = try verifiers()
            guard let ed = v.first as? Ed25519NoteVerifier, ed.publicKey == me.ed25519,
                  let sm = v.last as? SM2NoteVerifier, sm.publicPoint == me.sm2, me.origin == config.origin else {
                throw EvidenceError.verification(zh: "策略中本节点（\(config.nodeID)）的公钥或来源名与本机不符",
                                    en: "the policy lists this node (\(config.nodeID)) with keys or origin that are not ours")
            }
        }
        try POSIXFile.writeAtomically(policyPath, Array(serialized.utf8))
        return p
    }
}
