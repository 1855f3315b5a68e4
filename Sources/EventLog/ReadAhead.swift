import Foundation

/// A sequence whose elements are made on a thread of their own while the caller
/// works through the ones before: an import parses its lines ahead while the
/// log checks, writes and syncs the batch before them; a rebuild reads and
/// decodes streams ahead while it folds the ones before.
///
/// Elements come in the source's order; `transform` returning nil drops one.
/// The producer runs at most ``batch`` × ``batchesAhead`` elements in front of
/// the consumer, and stops as soon as the consumer's iterator is gone, so an
/// import that stops at line 10 of a large file does not read the rest of it.
/// The source is iterated on the producer's thread only.
public struct ReadAhead<Source: Sequence & Sendable, Element: Sendable>: Sequence {
    /// Elements handed over at a time.
    public let batch: Int
    /// Batches the producer may be ahead.
    public let batchesAhead: Int

    let source: Source
    let transform: @Sendable (Source.Element) -> Element?

    /// - Parameters:
    ///   - batch: elements handed over at a time (an import's lines: 256; a
    ///     rebuild's elements are large, a chunk of streams each).
    ///   - batchesAhead: batches the producer may be ahead.
    public init(_ source: Source, batch: Int = 256, batchesAhead: Int = 8,
                transform: @escaping @Sendable (Source.Element) -> Element?) {
        precondition(batch > 0 && batchesAhead > 0)
        self.source = source
        self.batch = batch
        self.batchesAhead = batchesAhead
        self.transform = transform
    }

    public func makeIterator() -> Iterator {
        let channel = Channel<Element>(capacity: batchesAhead)
        let (source, transform, size) = (source, transform, batch)
        let thread = Thread {
            var batch: [Element] = []
            batch.reserveCapacity(size)
            for input in source {
                if let element = transform(input) { batch.append(element) }
                if batch.count == size {
                    guard channel.put(batch) else { return }
                    batch.removeAll(keepingCapacity: true)
                }
            }
            if !batch.isEmpty { _ = channel.put(batch) }
            channel.finish()
        }
        thread.stackSize = 8 << 20  // the JSON parser recurses, as on the main thread
        thread.start()
        return Iterator(channel: channel)
    }

    public final class Iterator: IteratorProtocol {
        private let channel: Channel<Element>
        private var current: [Element] = []
        private var index = 0

        init(channel: Channel<Element>) {
            self.channel = channel
        }

        deinit { channel.cancel() }

        public func next() -> Element? {
            if index == current.count {
                guard let batch = channel.take() else { return nil }
                current = batch
                index = 0
            }
            defer { index += 1 }
            return current[index]
        }
    }
}

/// Batches from one producer thread to one consumer, at most `capacity` waiting.
final class Channel<Element: Sendable>: @unchecked Sendable {
    // Every stored property below is read and written only with `condition` locked.
    private let condition = NSCondition()
    private var batches: [[Element]] = []
    private var finished = false
    private var cancelled = false
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Waits for room, then hands `batch` over; false when the consumer is gone.
    func put(_ batch: [Element]) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while batches.count >= capacity && !cancelled { condition.wait() }
        if cancelled { return false }
        batches.append(batch)
        condition.broadcast()
        return true
    }

    /// No more batches will come.
    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// The next batch, waiting for it; nil when the producer has finished and
    /// everything was taken.
    func take() -> [Element]? {
        condition.lock()
        defer { condition.unlock() }
        while batches.isEmpty && !finished { condition.wait() }
        if batches.isEmpty { return nil }
        let batch = batches.removeFirst()
        condition.broadcast()
        return batch
    }

    /// The consumer is gone: the producer stops at its next hand-over.
    func cancel() {
        condition.lock()
        cancelled = true
        batches.removeAll()
        condition.broadcast()
        condition.unlock()
    }
}
