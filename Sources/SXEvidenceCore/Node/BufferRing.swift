/// The read buffers of one copy (ObjectStore.copyHashing): `count` buffers of `size` bytes, reused in
/// turn; a semaphore in the caller keeps a buffer from being refilled while the SM3 worker reads it.
final class BufferRing {
    let buffers: [UnsafeMutableRawBufferPointer]
    var count: Int { buffers.count }

    init(count: Int, size: Int) {
        buffers = (0..<count).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64) }
    }

    func deallocate() { buffers.forEach { $0.deallocate() } }
}
