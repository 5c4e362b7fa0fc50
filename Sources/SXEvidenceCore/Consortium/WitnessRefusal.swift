/// Why a witness refused an add-checkpoint request (c2sp.org/tlog-witness). Carried as the cause of
/// an `EvidenceError`; the node server maps each case to the status the protocol names.
public enum WitnessRefusal: Error, Sendable, Equatable {
    /// This node is not a cosigner of the consortium (404).
    case notAWitness
    /// The request body does not parse (400).
    case malformed(String)
    /// The checkpoint's origin is not another member (404).
    case unknownOrigin
    /// A signature of the member is missing or invalid (403).
    case badSignature
    /// The old size does not match the latest checkpoint this witness cosigned (409, body: that size).
    case conflict(held: Int64)
    /// The proof does not verify, or the entries were not pushed (422).
    case unverifiable(String)
    /// The checkpoint disagrees with what this witness holds: a fork, recorded as an alert with its proof (422).
    case fork(String)
}
