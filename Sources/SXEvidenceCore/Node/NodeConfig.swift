import Foundation

public enum NodeRole: String, Codable, Sendable, CaseIterable {
    case city, county
}

/// `node.json` in a node home (sxevidence-ledger(5), NODE HOME).
public struct NodeConfig: Codable, Sendable, Equatable {
    public static let formatName = "sxevidence-node/1"

    public var format: String
    public var nodeID: String
    public var name: String
    public var role: NodeRole
    public var origin: String
    public var created: String
    /// Time-stamping authorities asked for a token on every new checkpoint (sxevidence-timestamp(5)).
    public var tsa: [TSAEntry]?
    /// Warn when a token's genTime and the local clock differ by more than this (default 60 s).
    public var timestampWarnSeconds: Int?

    public struct TSAEntry: Codable, Sendable, Equatable {
        public var url: String
        public var ca: String           // PEM file of the certificates trusted for it, relative to the home
        public var sm3: Bool?           // also ask for an SM3 imprint

        public init(url: String, ca: String, sm3: Bool?) {
            self.url = url
            self.ca = ca
            self.sm3 = sm3
        }
    }

    enum CodingKeys: String, CodingKey {
        case format, name, role, origin, created, tsa
        case nodeID = "node_id"
        case timestampWarnSeconds = "timestamp_warn_seconds"
    }

    public init(nodeID: String, name: String, role: NodeRole, origin: String, created: String) {
        self.format = Self.formatName
        self.nodeID = nodeID
        self.name = name
        self.role = role
        self.origin = origin
        self.created = created
    }

    /// Node IDs are six-digit GB/T 2260 administrative division codes (330603 = 柯桥区).
    public static func validateNodeID(_ id: String) throws {
        guard id.utf8.count == 6, id.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw EvidenceError(.usage, zh: "节点编号须为 6 位行政区划代码（如 330603）：\(id)",
                                en: "node ID must be a 6-digit administrative division code (e.g. 330603): \(id)")
        }
    }

    /// Origins (and so key names) must be non-empty with no spaces or '+', per c2sp.org/signed-note.
    public static func validateOrigin(_ o: String) throws {
        guard !o.isEmpty, !o.contains("+"), !o.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 }) else {
            throw EvidenceError(.usage, zh: "日志来源名不能为空，也不能含空格或“+”：\(o)",
                                en: "log origin must be non-empty without spaces or '+': \(o)")
        }
    }

    public static func defaultOrigin(nodeID: String) -> String { "sxevidence.shaoxing/\(nodeID)" }

    public func encoded() throws -> [UInt8] {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try enc.encode(self)) + [0x0A]
    }
}
