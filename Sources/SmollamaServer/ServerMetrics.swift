import CoreMetrics
import SmollamaCore
import Foundation
import Prometheus
import SmollamaStore

/// `/metrics` in Prometheus text format. Values are read from the store when scraped (swift-metrics
/// gauges on a private Prometheus registry, so nothing global is bootstrapped by the library).
actor ServerMetrics {
    let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory
    let environment: DashboardEnvironment
    private var previous: (count: Int64, time: UTCMillis)?
    private var faultMetricGauges: [String: (faults: MetricGauge, rejected: MetricGauge)] = [:]
    private let databaseBytes, readings, ingestRate, events, rollupLag, faultySensors, liveSubscribers, scrapes: MetricGauge

    init(environment: DashboardEnvironment) {
        self.environment = environment
        factory = PrometheusMetricsFactory(registry: registry)
        databaseBytes = MetricGauge(label: "smollama_database_bytes", factory: factory)
        readings = MetricGauge(label: "smollama_readings_stored", factory: factory)
        ingestRate = MetricGauge(label: "smollama_ingest_readings_per_second", factory: factory)
        events = MetricGauge(label: "smollama_events_stored", factory: factory)
        rollupLag = MetricGauge(label: "smollama_rollup_lag_readings", factory: factory)
        faultySensors = MetricGauge(label: "smollama_sensors_faulty", factory: factory)
        liveSubscribers = MetricGauge(label: "smollama_http_live_subscribers", factory: factory)
        scrapes = MetricGauge(label: "smollama_metrics_scrapes", factory: factory)
    }

    private var scrapeCount = 0

    func render() async throws -> String {
        let now = environment.now()
        let store = try await environment.database.storeStatus()
        let sensors = try await environment.database.sensorSummaries(now: now)
        databaseBytes.record(environment.databasePath.map(SmollamaDatabase.fileSize(path:)) ?? 0)
        readings.record(store.readingCount)
        events.record(store.eventCount)
        rollupLag.record(store.rollupLag)
        faultySensors.record(sensors.filter { $0.status != "ok" }.count)
        liveSubscribers.record(await environment.publisher.subscriberCount)
        // Readings per second between two scrapes (retention deletes only hourly, so a drop means none).
        if let previous, now > previous.time {
            ingestRate.record(max(0, Double(store.readingCount - previous.count) / ((now - previous.time) / .seconds(1))))
        }
        previous = (store.readingCount, now)
        for sensor in sensors {
            let key = sensor.sensor.id.rawValue
            let gauges = faultMetricGauges[key] ?? (
                MetricGauge(label: "smollama_sensor_faults", dimensions: [("sensor", key)], factory: factory),
                MetricGauge(label: "smollama_sensor_rejected_values", dimensions: [("sensor", key)], factory: factory))
            faultMetricGauges[key] = gauges
            gauges.faults.record(sensor.faultCount)
            gauges.rejected.record(sensor.rejectedCount)
        }
        scrapeCount += 1
        scrapes.record(scrapeCount)
        return registry.emitToString()
    }
}

typealias MetricGauge = CoreMetrics.Gauge
