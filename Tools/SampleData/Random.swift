/// A small deterministic random number generator (SplitMix64), seeded from a
/// string, so the same flags give the same sample data on every machine.
public struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: String) {
        // FNV-1a of the seed string.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in seed.utf8 {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        state = h
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// A whole number from `low` to `high`, both included.
    public mutating func int(_ low: Int, _ high: Int) -> Int {
        precondition(low <= high)
        return low + Int(next() % UInt64(high - low + 1))
    }

    public mutating func chance(_ p: Double) -> Bool { unit() < p }

    public mutating func pick<T>(_ items: [T]) -> T { items[int(0, items.count - 1)] }

    /// One of `items`, chosen with the given relative weights.
    public mutating func pick<T>(_ items: [T], weights: [Double]) -> T {
        let total = weights.reduce(0, +)
        var x = unit() * total
        for (item, w) in zip(items, weights) {
            if x < w { return item }
            x -= w
        }
        return items[items.count - 1]
    }

    /// `k` distinct items, in random order.
    public mutating func sample<T>(_ items: [T], _ k: Int) -> [T] {
        var pool = items
        var out: [T] = []
        for _ in 0..<min(k, pool.count) { out.append(pool.remove(at: int(0, pool.count - 1))) }
        return out
    }
}
