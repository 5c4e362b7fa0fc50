/// The request methods sxevidence sends (evidence fetches, node-to-node calls, RFC 3161 requests,
/// and what a browser asks the recording proxy for: CORS preflights, REST calls).
public enum HTTPMethod: String, Sendable, CaseIterable {
    case get = "GET"
    case post = "POST"
    case put = "PUT"
    case head = "HEAD"
    case delete = "DELETE"
    case options = "OPTIONS"
    case patch = "PATCH"
}
