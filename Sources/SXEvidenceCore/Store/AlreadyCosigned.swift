/// The cause of the error `ReplicaStore.insertCosigned` throws when a `cosigned` row for this origin
/// and size exists already: another process (or connection) cosigned the same checkpoint first.
/// This, and only this, is what `ConsortiumNode` reads as "use the other's cosignature".
public struct AlreadyCosigned: Error, Sendable {
    public let origin: String
    public let size: Int64
}
