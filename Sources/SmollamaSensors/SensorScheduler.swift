public import Logging
public import ServiceLifecycle
import SmollamaCore
public import SmollamaStore

/// A configured driver with the scheduler's per-driver settings.
public struct ScheduledDriver: Sendable {
    public var driver: any SensorDriver
    /// Store a numeric value only when it changed or `heartbeat` passed. Binary sensors always
    /// store transitions only (plus the heartbeat), so one motion burst is one row, not hundreds.
    public var onChange: Bool
    public var heartbeat: Duration
    /// A read that takes longer counts as a fault.
    public var timeout: Duration

    public init(driver: any SensorDriver, onChange: Bool = false, heartbeat: Duration = .seconds(300),
                timeout: Duration = .seconds(30)) {
        self.driver = driver
        self.onChange = onChange
        self.heartbeat = heartbeat
        self.timeout = timeout
    }
}

/// Polls every driver at its own interval (and consumes pushed events), stamps samples with
/// the node clock, refuses impossible values, and hands the rest to the batched writer.
/// One driver failing, returning garbage or hanging never stops the others.
///
/// Intervals, back-off and read timeouts are measured on `timing` (a manual clock in tests);
/// sample times come from the node clock.
public struct SensorScheduler: Service {
    public struct Configuration: Sendable, Hashable {
        /// Consecutive failures after which a driver's sensors are marked faulty.
        public var faultThreshold: Int
        /// Longest wait between retries of a faulty driver.
        public var maxBackoff: Duration

        public init(faultThreshold: Int = 3, maxBackoff: Duration = .seconds(600)) {
            self.faultThreshold = faultThreshold
            self.maxBackoff = maxBackoff
        }
    }

    let drivers: [ScheduledDriver]
    let writer: ReadingWriter
    let clock: NodeClock
    let timing: ServiceClock
    let configuration: Configuration
    let logger: Logger
    /// Every stored reading is also offered here for live consumers (MQTT), if set.
    let feed: LiveReadingFeed?

    public init(drivers: [ScheduledDriver], writer: ReadingWriter, clock: NodeClock,
                configuration: Configuration = .init(), logger: Logger, feed: LiveReadingFeed? = nil,
                timing: some Clock<Duration> = ContinuousClock()) {
        self.timing = ServiceClock(timing)
        self.drivers = drivers
        self.writer = writer
        self.clock = clock
        self.configuration = configuration
        self.logger = logger
        self.feed = feed
    }

    public func run() async throws {
        let database = writer.database
        var lanes: [DriverLane] = []
        let lastStored = try await database.lastStoredValues()
        for scheduled in drivers {
            let registered = try await database.readings.registerSensors(
                scheduled.driver.sensors, driver: scheduled.driver.name, simulated: scheduled.driver.isSimulated,
                now: await clock.now())
            lanes.append(DriverLane(scheduled: scheduled, registered: registered, lastStored: lastStored,
                                    scheduler: self))
        }
        logger.info("sensor scheduler started", metadata: ["smollama.sensors.drivers": "\(lanes.count)"])
        let allLanes = lanes
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for lane in allLanes {
                    group.addTask { await lane.poll() }
                    if lane.scheduled.driver is any EventSensorDriver || lane.scheduled.driver is any LiveSensorDriver {
                        group.addTask { await lane.consumeEvents() }
                    }
                }
            }
        }
    }
}

/// One driver's loop and its state: failures, last stored values.
actor DriverLane {
    let scheduled: ScheduledDriver
    /// The driver's sensors: those it declared at start plus any a live driver adopted since.
    private(set) var sensors: [SensorID: RegisteredSensor]
    let scheduler: SensorScheduler
    private let inFlight = InFlight()
    private var consecutiveFailures = 0
    private var lastStored: [SensorID: (value: Double, time: UTCMillis)]
    private var rejections: [SensorID: Int] = [:]
    /// When a refused payload was last logged per sensor (at most once a minute each).
    private var lastRefusalLog: [SensorID: (time: UTCMillis, quiet: Int)] = [:]
    /// Sensors a live driver reported unavailable (faulty until it says they are back).
    private var unavailable: Set<SensorID> = []

    init(scheduled: ScheduledDriver, registered: [RegisteredSensor],
         lastStored: [SensorID: (value: Double, time: UTCMillis)], scheduler: SensorScheduler) {
        self.scheduled = scheduled
        let sensors = Dictionary(uniqueKeysWithValues: registered.map { ($0.descriptor.id, $0) })
        self.sensors = sensors
        // Resume from what is stored, so a restart neither repeats a binary change nor logs it twice
        // (kept whole: a live driver may adopt a stored sensor again later).
        self.lastStored = lastStored
        self.scheduler = scheduler
    }

    private var name: String { scheduled.driver.name }
    private var logger: Logger { scheduler.logger }

    func poll() async {
        let driver = scheduled.driver
        while !Task.isCancelled {
            let now = await scheduler.clock.now()
            if inFlight.isRunning {
                await failed(reason: "previous read has still not returned", now: now)
            } else {
                do {
                    let samples = try await withDeadline(scheduled.timeout, clock: scheduler.timing, inFlight: inFlight) {
                        try await driver.read(now: now)
                    }
                    await succeeded()
                    for sample in samples { await ingest(sample) }
                } catch is CancellationError {
                    return
                } catch {
                    await failed(reason: "\(error)", now: now)
                }
            }
            do { try await scheduler.timing.sleep(for: nextDelay()) } catch { return }
        }
    }

    func consumeEvents() async {
        do {
            if let live = scheduled.driver as? any LiveSensorDriver {
                for try await update in live.updates() { await apply(update) }
            } else if let driver = scheduled.driver as? any EventSensorDriver {
                for try await sample in driver.events() { await ingest(sample) }
            }
        } catch is CancellationError {
        } catch {
            await failed(reason: "event stream ended: \(error)", now: await scheduler.clock.now())
        }
    }

    /// One update from a live driver: values and refusals per sensor, sensors coming and going.
    func apply(_ update: SensorUpdate) async {
        switch update {
        case .sample(let sample):
            guard !unavailable.contains(sample.sensor) else { return }
            await ingest(sample)
        case .rejected(let sensor, let reason):
            await refusePayload(sensor, reason: reason)
        case .adopted(let descriptor):
            do {
                let registered = try await scheduler.writer.database.readings.registerSensors(
                    [descriptor], driver: name, simulated: scheduled.driver.isSimulated, now: await scheduler.clock.now())
                let isNew = sensors[descriptor.id] == nil
                for sensor in registered { sensors[sensor.descriptor.id] = sensor }
                if isNew {
                    // Healthy until its device says otherwise (a fault stored by an earlier run,
                    // e.g. the device was offline then, is not this run's news).
                    try await scheduler.writer.database.readings.recordRecovery(sensorRowIDs: registered.map(\.rowID))
                    logger.info("sensor adopted", metadata: ["smollama.sensor.driver": "\(name)",
                                                             "smollama.sensor.id": "\(descriptor.id)"])
                }
            } catch {
                logger.error("could not register an adopted sensor",
                             metadata: ["smollama.sensor.id": "\(descriptor.id)", "smollama.error": "\(error)"])
            }
        case .unavailable(let sensor, let reason):
            guard let registered = sensors[sensor], !unavailable.contains(sensor) else { return }
            unavailable.insert(sensor)
            logger.warning("sensor unavailable", metadata: ["smollama.sensor.id": "\(sensor)", "smollama.reason": "\(reason)"])
            do {
                try await scheduler.writer.database.readings.recordFailure(
                    sensorRowIDs: [registered.rowID], reason: reason, now: await scheduler.clock.now(), markFaulty: true)
            } catch {
                logger.error("could not record sensor failure", metadata: ["smollama.error": "\(error)"])
            }
            await notice(.sensorFault(Notice.SensorFault(sensor: sensor, reason: reason, consecutiveFailures: 1)))
        case .available(let sensor):
            guard let registered = sensors[sensor], unavailable.remove(sensor) != nil else { return }
            logger.notice("sensor available again", metadata: ["smollama.sensor.id": "\(sensor)"])
            do {
                try await scheduler.writer.database.readings.recordRecovery(sensorRowIDs: [registered.rowID])
            } catch {
                logger.error("could not record sensor recovery", metadata: ["smollama.error": "\(error)"])
            }
            await notice(.sensorRecovered(Notice.SensorFault(sensor: sensor, reason: "available", consecutiveFailures: 0)))
        case .removed(let sensor):
            guard sensors.removeValue(forKey: sensor) != nil else { return }
            unavailable.remove(sensor)
            logger.notice("sensor removed by its announcement; it takes no more values",
                          metadata: ["smollama.sensor.driver": "\(name)", "smollama.sensor.id": "\(sensor)"])
        }
    }

    /// Counts a payload that gave a sensor no value (with the reason, for `sensors` and `status`)
    /// and logs it at most once a minute per sensor, with how many went unlogged in between.
    private func refusePayload(_ sensor: SensorID, reason: String) async {
        guard let registered = sensors[sensor] else { return }
        let now = await scheduler.clock.now()
        if let last = lastRefusalLog[sensor], now - last.time < .seconds(60) {
            lastRefusalLog[sensor]?.quiet += 1
        } else {
            logger.warning("payload refused", metadata: [
                "smollama.sensor.id": "\(sensor)", "smollama.reason": "\(reason)",
                "smollama.sensor.unlogged": "\(lastRefusalLog[sensor]?.quiet ?? 0)",
            ])
            lastRefusalLog[sensor] = (now, 0)
        }
        do {
            try await scheduler.writer.database.readings.recordRejection(sensorRowID: registered.rowID, reason: reason, now: now)
        } catch {
            logger.error("could not record refused payload", metadata: ["smollama.error": "\(error)"])
        }
    }

    /// The driver's interval while healthy; doubling back-off once it is faulty.
    private func nextDelay() -> Duration {
        let threshold = scheduler.configuration.faultThreshold
        guard consecutiveFailures >= threshold else { return scheduled.driver.interval }
        let doublings = min(consecutiveFailures - threshold + 1, 16)
        return min(scheduled.driver.interval * (1 << doublings), scheduler.configuration.maxBackoff)
    }

    private func succeeded() async {
        guard consecutiveFailures > 0 else { return }
        let wasFaulty = consecutiveFailures >= scheduler.configuration.faultThreshold
        consecutiveFailures = 0
        do {
            try await scheduler.writer.database.readings.recordRecovery(sensorRowIDs: sensors.values.map(\.rowID))
        } catch {
            logger.error("could not record sensor recovery", metadata: ["smollama.error": "\(error)"])
        }
        guard wasFaulty else { return }
        logger.notice("sensor driver recovered", metadata: ["smollama.sensor.driver": "\(name)"])
        for sensor in sensors.keys.sorted() {
            await notice(.sensorRecovered(Notice.SensorFault(sensor: sensor, reason: "recovered", consecutiveFailures: 0)))
        }
    }

    private func failed(reason: String, now: UTCMillis) async {
        consecutiveFailures += 1
        let threshold = scheduler.configuration.faultThreshold
        let faulty = consecutiveFailures >= threshold
        // Warn until the driver is declared faulty (logged once as an error); then stay quiet.
        logger.log(
            level: consecutiveFailures > threshold ? .debug : .warning,
            "sensor read failed",
            metadata: [
                "smollama.sensor.driver": "\(name)", "smollama.sensor.failures": "\(consecutiveFailures)",
                "smollama.error": "\(reason)",
            ])
        do {
            try await scheduler.writer.database.readings.recordFailure(
                sensorRowIDs: sensors.values.map(\.rowID), reason: reason, now: now, markFaulty: faulty)
        } catch {
            logger.error("could not record sensor failure", metadata: ["smollama.error": "\(error)"])
        }
        if consecutiveFailures == threshold {
            logger.error("sensor driver marked faulty; retrying with back-off",
                         metadata: ["smollama.sensor.driver": "\(name)"])
            for sensor in sensors.keys.sorted() {
                await notice(.sensorFault(
                    Notice.SensorFault(sensor: sensor, reason: reason, consecutiveFailures: consecutiveFailures)))
            }
        }
    }

    private func ingest(_ sample: SensorSample) async {
        guard let registered = sensors[sample.sensor] else {
            logger.warning("driver reported an undeclared sensor; ignored",
                           metadata: ["smollama.sensor.driver": "\(name)", "smollama.sensor.id": "\(sample.sensor)"])
            return
        }
        let descriptor = registered.descriptor
        let (stamp, qualityChanged, wall) = await scheduler.clock.stamp()
        if qualityChanged {
            await notice(.clockQuality(Notice.ClockQualityChanged(
                quality: stamp.quality, wallMilliseconds: wall, issuedMilliseconds: stamp.hlc.milliseconds)), stamp: stamp)
        }
        let time = stamp.hlc.time
        if let rejection = SampleRejection.check(sample.value, for: descriptor) {
            rejections[sample.sensor, default: 0] += 1
            let count = rejections[sample.sensor]!
            // First refusal and then every 100th: a broken sensor at 1 Hz must not flood the log.
            if count == 1 || count % 100 == 0 {
                logger.warning("sensor value refused",
                               metadata: ["smollama.sensor.id": "\(sample.sensor)", "smollama.reason": "\(rejection)",
                                          "smollama.sensor.refused": "\(count)"])
            }
            do {
                try await scheduler.writer.database.readings.recordRejection(sensorRowID: registered.rowID, reason: "\(rejection)", now: time)
            } catch {
                logger.error("could not record refused value", metadata: ["smollama.error": "\(error)"])
            }
            return
        }
        let previous = lastStored[sample.sensor]
        let suppress = descriptor.kind == .binary || scheduled.onChange
        if suppress, let previous, previous.value == sample.value,
           time - previous.time < scheduled.heartbeat {
            return
        }
        if descriptor.kind == .binary, previous?.value != sample.value {
            await notice(.binaryChanged(Notice.BinaryChanged(sensor: sample.sensor, value: sample.value, time: time)),
                         stamp: stamp)
        }
        lastStored[sample.sensor] = (sample.value, time)
        await scheduler.writer.submit(PendingReading(sensorRowID: registered.rowID, value: sample.value, stamp: stamp))
        await scheduler.feed?.publish(LiveReading(sensor: descriptor, value: sample.value, time: time))
    }

    private func notice(_ body: EventBody, stamp: ClockStamp? = nil) async {
        let stampToUse: ClockStamp
        if let stamp { stampToUse = stamp } else { stampToUse = await scheduler.clock.stamp().stamp }
        do {
            await scheduler.writer.submit(notice: try PendingNotice(body, stamp: stampToUse))
        } catch {
            logger.error("could not encode notice", metadata: ["smollama.error": "\(error)"])
        }
    }
}
