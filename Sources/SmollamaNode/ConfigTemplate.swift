public import SmollamaHardware
public import SmollamaLLM

/// The commented config `smollama init` writes. Every key is shown with its default, so the
/// file documents itself; a test checks that it decodes to exactly the defaults.
public enum ConfigTemplate {
    /// A YAML double-quoted scalar: a hostname or a name typed by a person may hold `#`, `: `
    /// or quotes, which would otherwise change the meaning of the file.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\x" + (hex.count < 2 ? "0" + hex : hex)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// What the `sensors.drivers` list starts with.
    public enum Sensors: Sendable, Hashable {
        /// The simulated house (`init --demo`): a lively node on a machine with no sensors.
        case demo
        /// The devices `sensors detect` found (those it can configure; the rest as comments).
        case detected([DetectedDevice])
    }

    /// `mem0Keys`: the hub's generated mem0 API and admin keys (`init --role llama`).
    /// `backend`: the LLM backend; its URL and model names stay unwritten, so they follow it.
    public static func render(
        name: String, role: NodeConfig.Role, sensors: Sensors, backend: LLMBackend = .openai,
        mem0Keys: (api: String, admin: String)? = nil
    ) -> String {
        """
        # Smollama node configuration.
        # Every key is optional: delete a line to use its default (shown here).
        # Environment variables override this file: SMOLLAMA_<SECTION>_<KEY>, e.g. SMOLLAMA_STORE_BATCH_SIZE=500.
        # Command-line flags override both: --set store.batch_size=500.
        # Durations: 500ms, 10s, 5m, 1h, 7d.

        node:
          name: \(quoted(name))          # display name; the node's identity is its id, not this name
          role: \(role.rawValue)             # alpaca (edge node) or llama (hub)
          data_dir: data           # relative to SMOLLAMA_HOME
          # timezone: Europe/Berlin  # IANA name for local times (baselines, sentences, logs); default: the system's

        store:
          flush_interval: 1s       # readings wait at most this long before a commit (the most a crash can lose)
          batch_size: 1000         # ...or until this many wait
          max_queued: 200000       # readings held in memory while the disk refuses writes
          raw_retention: 30d       # raw readings older than this are deleted once rolled up (and synced)
          rollup_interval: 10s     # how often 5-minute and hourly rollups are brought up to date
          retention_interval: 1h   # how often retention runs

        clock:
          max_forward_jump: 732d   # a wall clock further ahead than this is not believed
          tolerance: 2s            # a wall clock stepping back more than this is not believed

        sensors:
          fault_threshold: 3       # failed reads in a row before a driver's sensors are marked faulty
          max_backoff: 10m         # longest wait between retries of a faulty driver
          # Each driver: `driver: KIND` plus its own keys. Every entry may also set
          #   enabled: true, on_change: false (store numbers only when they change),
          #   heartbeat: 5m (store unchanged values this often), timeout: 30s (a slower read is a fault).
        \(drivers(sensors))

        sync:                      # `smollama enroll --hub URL --token T` sets enabled and hub
          enabled: false           # when true, raw readings are kept until the hub acknowledged them
          hub: ""                  # the hub's URL, e.g. http://hub.local:8080
          raw_readings: true       # send raw readings too (last, oldest first); false: events only (no charts on the hub)
          interval: 60s            # time between sync rounds while the hub is reachable
          max_backoff: 30s         # longest wait between retries while the hub is unreachable
          min_free_mb: 256         # below this free disk, unsynced raw readings are compacted to rollups (0: never)
          pull_observations: false # also pull other nodes' observations (memories are always pulled)

        hub:                       # a hub (role llama) only: what it keeps of other nodes' readings
          raw_retention: 30d       # their raw readings older than this are deleted once rolled up
          rollup_retention: 90d    # their 5-minute rollups (24 h charts); hourly ones are kept forever

        mdns:                      # a hub only: `smollama enroll --token T` on a node finds it without --hub
          announce: true           # announce _smollama._tcp on the local network (UDP 5353) while running

        log:
          level: info              # trace, debug, info, notice, warning, error, critical

        backup:                    # scheduled backups (`smollama backup FILE` by hand); off by default:
          interval: 0s             # e.g. 1d; a backup on the store's own SD card saves neither card nor Pi
          keep: 7                  # this node's newest backups kept in dir
          dir: backups             # put it on another device, e.g. /mnt/usb/smollama (relative: under the home)

        http:                      # the dashboard and JSON API
          host: 127.0.0.1          # loopback only; any other address requires a token
          port: 8080               # 0 picks a free port (the URL served is logged)
          token: ""                # secret; required off loopback (e.g. `openssl rand -hex 24`)

        # The local LLM. Defaults run what scripts/setup-llm.sh installs: llama-server (started and
        # supervised by smollama) with SmolLM2-135M for chat and all-MiniLM-L6-v2 for embeddings.
        # On a Pi with Ollama: backend: ollama, runtime: external (url and models then default to
        # http://127.0.0.1:11434, qwen2.5:0.5b and all-minilm).
        llm:
          backend: \(backend.rawValue)          # openai (llama-server, LM Studio, vLLM) or ollama
          runtime: \(backend == .ollama ? "external" : "managed")         # managed (smollama runs it) or external (only health-checked)
          # The URLs and model names follow the backend unless set here (uncomment to change):
          #   openai: url http://127.0.0.1:8081, embedding_url http://127.0.0.1:8082,
          #           chat_model smollm2-135m-instruct, embedding_model all-minilm-l6-v2
          #   ollama: url and embedding_url http://127.0.0.1:11434, chat_model qwen2.5:0.5b,
          #           embedding_model all-minilm
          # url: \(LLMConfig(backend: backend).url)
          # embedding_url: \(LLMConfig(backend: backend).embeddingURL)
          # chat_model: \(LLMConfig(backend: backend).chatModel)
          # embedding_model: \(LLMConfig(backend: backend).embeddingModel)
          num_ctx: 2048            # context size each model is served with
          keep_alive: 30m          # Ollama: how long a model stays loaded
          cache_directory: ~/.cache/smollama   # where setup puts llama-server and the models
          # api_key: ""            # bearer token for servers that want one (secret)
          managed:
            # llama_server: ~/.cache/smollama/llama.cpp/llama-server
            # chat_model_file: ~/.cache/smollama/models/SmolLM2-135M-Instruct.Q4_1.gguf
            # embedding_model_file: ~/.cache/smollama/models/all-minilm-l6-v2-f32.gguf
            ollama: ollama
            threads: 0             # CPU threads per llama-server (0: its own choice)
            parallel: 1
            extra_args: []
          timeouts:
            request: 2m
            startup: 2m
            health_interval: 15s
          retry:
            attempts: 4
            base_delay: 250ms
            max_delay: 30s

        mqtt:
          broker: ""               # "" = off; host:port of an existing broker; managed = run mosquitto here (hub)
          managed_listen: 127.0.0.1:1883   # where a managed broker listens (0.0.0.0:1883 for other nodes; set a password)
          username: ""
          password: ""             # secret: prefer SMOLLAMA_MQTT_PASSWORD
          tls: false
          tls_ca_file: ""          # empty = the system's CA certificates
          tls_cert_file: ""        # client certificate, if the broker wants one
          tls_key_file: ""
          tls_insecure: false      # skip hostname checks (self-signed test brokers only)
          client_id_prefix: smollama   # client id = <prefix>-<node id>, stable so the broker keeps the session
          topic_prefix: smollama   # topics: smollama/<node name>/status, .../sensors/<sensor>, .../observations
          publish_interval: 1s     # at most one message per sensor per interval (the newest value wins)
          queue_size: 1000         # messages kept while the broker is unreachable (the oldest are dropped first)
          keepalive: 30s
          reconnect_max: 30s       # longest wait between reconnect attempts
          discovery: true          # Home Assistant MQTT discovery
          discovery_prefix: homeassistant

        # Observations: every interval the node computes evidence from its rollups (stats, changes,
        # hour-of-day baselines, notable events), lets the model phrase it, verifies every number,
        # and falls back to template sentences when the model is down or wrong.
        observe:
          enabled: true
          interval: 15m            # one observation window
          check_interval: 1m       # how often the running window is checked for a strong anomaly
          early_min_gap: 5m        # at most one early observation per this long
          dedup_window: 6h         # a repeat within this long raises the support instead of adding a row
          similarity: 0.9          # cosine similarity that counts as a repeat (needs the embedding model)
          max_prompt_tokens: 600   # the prompt is trimmed to this estimate
          max_completion_tokens: 200
          recent_observations: 3   # earlier observations shown to the model
          baseline_days: 28        # days of history behind "usual at this hour"
          backfill: 24h            # at start, observe windows missed while stopped (0s: off)
          backfill_model_budget: 20s # back-filled windows: model while this fast, then rules
          min_model_score: 0.8     # share of `smollama models check` tasks the model must pass to write (else rules)
          calibrate: true          # check a new or changed chat model in the background

        # Rooms named by hand: an area and the sensor ids in it. A sensor not listed is in its id's
        # first part (hallway.motion → hallway). Presence, evidence and sentences all use it; an id
        # that is not a sensor of this node is refused at start, naming the key.
        # areas:
        #   study: [office.co2, office.light]

        # Memories and recall. Reflection turns routines, presence schedules and typical ranges in
        # the rollups into memories ("The living room is usually 17–19 °C in the evening"); a
        # changed one closes the old memory and supersedes it. Recall ranks memories and observations by embeddings
        # (an in-memory index: ~12 ms and 46 MB at 100 k), words (FTS5), recency and importance.
        memory:
          reflection: true
          reflection_interval: 1d  # also once at start; `smollama reflect` runs it now
          reflection_window: 14d   # days of rollups one pass looks at
          min_days: 4              # fewest days per day group (weekdays, weekends) for a routine
          active_share: 0.6        # an hour is routine when active on this share of days
          schedule_resolution: 30m # presence schedules: slot length (5m–60m, dividing an hour)
          schedule_share: 0.5      # a slot is in a room's schedule when occupied on this share of days
          range_tolerance: 0.5     # a typical range moving by more than this × its width supersedes it
          phrase_with_llm: false   # let the chat model phrase memories (numbers verified)
          embeddings: true         # embed observations and memories (false: words only)
          embedding_interval: 30s
          vector_search: automatic # automatic (in-memory index), sqlite-vec, exact or off
          vec0_path: ""            # for sqlite-vec: "" = $SMOLLAMA_VEC0 or the venv setup-llm.sh fills

        # The hub's mem0-compatible REST API at http://HOST:PORT/mem0 (role llama only; off while
        # api_key is empty). See README "Shared memory (mem0 API)".
        mem0:
          api_key: \(quoted(mem0Keys?.api ?? ""))   # secret: clients send X-API-Key: KEY or Authorization: Token KEY
          admin_key: \(quoted(mem0Keys?.admin ?? ""))   # secret: for POST /mem0/reset and DELETE /mem0/memories ("" = off)
          max_body_bytes: 1048576
          bridge:                  # copy every node's memories to an external mem0 server (infer: false)
            url: ""                # its base URL, e.g. http://mem0.local:8888 ("" = off)
            api_key: ""            # secret, sent as X-API-Key and Authorization: Token
            interval: 30s          # how often unsent memories are looked for
            max_backoff: 5m        # longest wait between attempts while the server fails
            batch_size: 100
            timeout: 30s

        # The Model Context Protocol server: `smollama mcp` (stdio, any node) and, on the hub,
        # http://HOST:PORT/mcp. See README "Use it from an assistant".
        mcp:
          allow_writes: true       # offer the remember tool (the only write)
          token: ""                # secret for /mcp: Authorization: Bearer TOKEN (16+ characters, not http.token; "" = loopback only)
          max_body_bytes: 262144

        """
    }

    /// The `drivers:` list (indented for the `sensors:` section), ending with this machine's own
    /// sensors, which every node has.
    static func drivers(_ sensors: Sensors) -> String {
        var lines = ["  drivers:"]
        switch sensors {
        case .demo:
            lines += [
                "    # A simulated house (`init --demo`), deterministic for its seed: replace it with real",
                "    # sensors (`smollama sensors detect` prints entries). Its readings are marked simulated.",
                "    - driver: simulated_house",
                "      name: house",
                "      interval: 10s",
                "      seed: 42",
                "      rooms: [living_room, hallway]",
                "      doors: [hallway]",
                "      unusual_events:        # planted oddities the node should notice",
                "        - sensor: hallway.motion",
                "          at: \"03:10\"",
                "          weekday: tuesday",
                "          duration: 2m",
            ]
        case .detected(let devices):
            let configured = devices.compactMap { device in device.entry.map { (device, $0) } }
            if configured.isEmpty {
                lines += [
                    "    # No sensor hardware was found (`smollama sensors detect` says what it looks for).",
                    "    # Add entries here, or `smollama init --demo --force` for a simulated house.",
                ]
            } else {
                lines.append("    # Found by `smollama sensors detect` when this file was written.")
            }
            for (device, entry) in configured {
                lines.append("    # \(device.summary) at \(device.location)")
                for (index, pair) in entry.enumerated() {
                    lines.append((index == 0 ? "    - " : "      ") + "\(pair.key): \(pair.value)")
                }
            }
            for device in devices where device.entry == nil {
                lines.append("    # found, not configured: \(device.location): \(device.summary)"
                             + (device.note.map { " — \($0)" } ?? ""))
            }
        }
        lines += [
            "    # This machine: CPU temperature (where present), load, memory, disk free.",
            "    - driver: system",
            "      name: system",
            "      interval: 30s",
        ]
        return lines.joined(separator: "\n")
    }
}
