/// Hands a buffer view to the SM3 worker (ObjectStore.copyHashing). A raw pointer is not Sendable
/// and the compiler cannot see the guarantee that makes this safe: the ring's semaphore keeps the
/// buffer from being reused until the worker signals it is done with it.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ v: T) { value = v }
}
