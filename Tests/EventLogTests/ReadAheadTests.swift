import Foundation
import Synchronization
import Testing
@testable import EventLog

/// `ReadAhead` makes an import's items on a second thread: the consumer must
/// see exactly the source's elements, in order, and the producer must stop
/// when the consumer stops early.
struct ReadAheadTests {
    @Test(arguments: [0, 1, 255, 256, 257, 256 * 8, 256 * 9 + 1, 20_000])
    func yieldsEveryElementInOrder(count: Int) {
        let elements = Array(ReadAhead(0..<count) { $0 })
        #expect(elements == Array(0..<count))
    }

    @Test(arguments: [(1, 1), (7, 2), (1_000, 1)])
    func yieldsEveryElementInOrderWithOtherBatchSizes(batch: Int, ahead: Int) {
        for count in [0, 1, batch - 1, batch, batch + 1, batch * ahead + 1, 5_003] where count >= 0 {
            #expect(Array(ReadAhead(0..<count, batch: batch, batchesAhead: ahead) { $0 }) == Array(0..<count))
        }
    }

    @Test func dropsWhatTheTransformDrops() {
        let odd = Array(ReadAhead(0..<5_000) { $0 % 2 == 1 ? $0 : nil })
        #expect(odd == Array(stride(from: 1, to: 5_000, by: 2)))
        #expect(Array(ReadAhead(0..<5_000) { _ -> Int? in nil }).isEmpty)
    }

    @Test func iteratesTwiceFromTheStart() {
        let sequence = ReadAhead(0..<1_000) { $0 * 2 }
        #expect(Array(sequence) == Array(sequence))
        #expect(Array(sequence.prefix(3)) == [0, 2, 4])
    }

    @Test func stopsReadingWhenTheConsumerStops() throws {
        let source = CountingSource(limit: 10_000_000)
        let sequence = ReadAhead(source, batch: 100, batchesAhead: 3) { $0 }
        do {
            let iterator = sequence.makeIterator()
            for expected in 0..<10 { #expect(iterator.next() == expected) }
        }  // the iterator is gone: the producer stops at its next hand-over
        #expect(source.finished.wait(timeout: .now() + 30) == .success, "the producer thread did not stop")
        let read = source.pulled.withLock { $0 }
        // Ten taken, at most the batches ahead and the one being made besides.
        #expect(read <= 10 + sequence.batch * (sequence.batchesAhead + 2))
        #expect(read < 10_000_000)
    }
}

/// 0, 1, 2, … up to `limit`, counting what the producer pulled and signalling
/// when its iterator is released (the producer thread has returned).
final class CountingSource: Sequence, Sendable {
    let limit: Int
    let pulled = Mutex(0)
    let finished = DispatchSemaphore(value: 0)

    init(limit: Int) { self.limit = limit }

    func makeIterator() -> Iterator { Iterator(source: self) }

    final class Iterator: IteratorProtocol {
        let source: CountingSource
        var current = 0
        init(source: CountingSource) { self.source = source }
        deinit { source.finished.signal() }

        func next() -> Int? {
            guard current < source.limit else { return nil }
            defer { current += 1 }
            source.pulled.withLock { $0 += 1 }
            return current
        }
    }
}
