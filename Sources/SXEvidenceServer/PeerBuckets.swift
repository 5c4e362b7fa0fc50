import Foundation
import Synchronization

/// Token buckets, one per peer: `take(peer)` succeeds while that peer has tokens; they refill at
/// `rate` a second up to `burst`. At most 10,000 peers are tracked; full buckets are dropped first.
final class PeerBuckets: Sendable {
    private let state = Mutex<[String: (tokens: Double, last: Double)]>([:])
    let rate: Double, burst: Double

    init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = burst
    }

    func take(_ peer: String, now: Double = Date().timeIntervalSince1970) -> Bool {
        state.withLock { all in
            if all.count > 10_000 { all = all.filter { min(burst, $0.value.tokens + (now - $0.value.last) * rate) < burst } }
            var b = all[peer] ?? (burst, now)
            b.tokens = min(burst, b.tokens + max(0, now - b.last) * rate)
            b.last = now
            guard b.tokens >= 1 else { all[peer] = b; return false }
            b.tokens -= 1
            all[peer] = b
            return true
        }
    }
}
