/// Where the body of a response goes, chunk by chunk as it arrives, so that no response has to be
/// held whole in memory. `MemorySink` keeps small answers (with a cap), `FileSink` streams to a
/// file descriptor, and a caller with its own needs (the capture: temporary file and digests)
/// implements the protocol itself.
public protocol HTTPBodySink: AnyObject {
    /// One chunk of the body as received; `head` is the response head it belongs to. Returning
    /// false stops the transfer (`HTTPResponse.Failure.stoppedBySink`).
    func receive(_ chunk: UnsafeRawBufferPointer, head: [UInt8]) -> Bool
    /// Why the sink stopped the transfer, when that is an error (a cap exceeded, a failed write).
    var failure: EvidenceError? { get }
}
