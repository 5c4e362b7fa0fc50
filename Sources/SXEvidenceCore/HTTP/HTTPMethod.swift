/// The request methods sxevidence sends (evidence fetches, node-to-node calls, RFC 3161 requests).
public enum HTTPMethod: String, Sendable, CaseIterable {
    case get = "GET"
    case post = "POST"
    case put = "PUT"
    case head = "HEAD"
}
