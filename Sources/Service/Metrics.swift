import Application
import EventLog
import Foundation
import Metrics
import ProjectionKit
import Prometheus
import Synchronization

/// The service's metrics, in Prometheus' text format at `/metrics`: requests
/// by route and status, append latency, commits and events per commit, the
/// read models' lag behind the log, the store's size. Never personal data:
/// routes are their templates (`/v1/cases/{stream}`), never a path.
final class ServiceMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory
    let store: EventStore
    let context: ReportContext
    private let requests = Mutex<[String: Metrics.Counter]>([:])
    let appendLatency: Metrics.Timer
    let commits: Metrics.Counter
    let eventsPerCommit: Metrics.Recorder
    let lag: Metrics.Gauge
    let storeBytes: Metrics.Gauge

    init(store: EventStore, context: ReportContext) {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(20),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
        ]
        factory.defaultValueHistogramBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048]
        self.factory = factory
        self.store = store
        self.context = context
        appendLatency = Metrics.Timer(label: "iplog_append_duration_seconds", factory: factory)
        commits = Metrics.Counter(label: "iplog_commits_total", factory: factory)
        eventsPerCommit = Metrics.Recorder(label: "iplog_events_per_commit", aggregate: true, factory: factory)
        lag = Metrics.Gauge(label: "iplog_read_model_lag_events", factory: factory)
        storeBytes = Metrics.Gauge(label: "iplog_store_bytes", factory: factory)
    }

    func request(route: String, method: String, status: Int) {
        let key = "\(method) \(route) \(status)"
        let counter = requests.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Metrics.Counter(label: "iplog_http_requests_total",
                                  dimensions: [("method", method), ("route", route), ("status", String(status))], factory: factory)
            counters[key] = counter
            return counter
        }
        counter.increment()
    }

    /// A group commit: how many events, for how many requests, in how long.
    @Sendable func committed(events: Int, requests: Int, seconds: Double) {
        commits.increment()
        eventsPerCommit.record(events)
    }

    /// The metrics now, as Prometheus reads them: the gauges are read from the store first.
    func text() throws -> [UInt8] {
        let statistics = try store.statistics()
        storeBytes.record(statistics.fileBytes)
        let behind = try ReportContext.projectionNames.map { statistics.head.position - min(statistics.head.position, try context.views.checkpoint($0).position) }
        lag.record(behind.max() ?? 0)
        return registry.emitToBuffer()
    }
}
