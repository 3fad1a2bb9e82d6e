"""Serve the Python reference's dashboard over a store holding N days of history.

Issue 21's side-by-side (BENCHMARKS.md, "A node's pages over HTTP by history length"): seeds the
reference's own LocalStore (its schema, its log_readings/add_observation) with the same shape of
history `smollama-bench pages` seeds (9 house sensors every 10 s, an observation every 30
minutes), registers a reading provider that answers the house's current values, and runs its
FastAPI app on uvicorn. Our code, calling the reference's public modules; none of the
reference's code is in this repository.

    git clone https://github.com/JamesMcDougallJr/smollama REF && git -C REF checkout fbe0b18
    python3 -m venv REF/.venv && REF/.venv/bin/pip install -e REF    (its pyproject's dependencies)
    SMOLLAMA_REFERENCE=REF REF/.venv/bin/python scripts/reference/serve.py --days 30 --store /tmp/ref30.db --port 8765
    smollama-bench pages --days 30 --reference http://127.0.0.1:8765
"""
import argparse
import math
import os
import sys
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.environ.get("SMOLLAMA_REFERENCE", os.getcwd()))

import uvicorn  # noqa: E402

from smollama.config import Config  # noqa: E402
from smollama.dashboard.app import create_app  # noqa: E402
from smollama.memory import LocalStore  # noqa: E402
from smollama.memory.embeddings import MockEmbeddings  # noqa: E402
from smollama.readings import Reading, ReadingManager  # noqa: E402
from smollama.readings.base import ReadingProvider  # noqa: E402

SENSORS = [
    ("hallway/temperature", "celsius"), ("hallway/humidity", "percent"), ("hallway/light", "lux"),
    ("hallway/motion", "boolean"), ("hallway/door", "boolean"),
    ("living_room/temperature", "celsius"), ("living_room/humidity", "percent"), ("living_room/light", "lux"),
    ("living_room/motion", "boolean"),
]


def value(sensor: str, t: float) -> float:
    day = 2 * math.pi * (t % 86400) / 86400
    if sensor.endswith("temperature"):
        return round(20 + 2 * math.sin(day), 1)
    if sensor.endswith("humidity"):
        return round(45 + 5 * math.cos(day), 1)
    if sensor.endswith("light"):
        return round(max(0.0, 300 * math.sin(day)), 0)
    return float(int(t // 600) % 5 == 0)


class HouseProvider(ReadingProvider):
    @property
    def source_type(self) -> str:
        return "house"

    @property
    def available_sources(self) -> list[str]:
        return [name for name, _ in SENSORS]

    async def read(self, source_id: str):
        now = datetime.now(timezone.utc)
        unit = dict(SENSORS).get(source_id)
        if unit is None:
            return None
        return Reading("house", source_id, value(source_id, now.timestamp()), now, unit)

    async def read_all(self):
        return [await self.read(name) for name, _ in SENSORS]


def seed(store: LocalStore, days: int, step: int) -> None:
    conn = store._ensure_connected()
    if conn.execute("SELECT count(*) FROM (SELECT 1 FROM readings_log LIMIT 1)").fetchone()[0]:
        return
    end = datetime.now(timezone.utc).replace(microsecond=0)
    t = end - timedelta(days=days)
    last: dict[str, float] = {}
    batch: list[Reading] = []
    next_observation = t + timedelta(minutes=30)
    while t < end:
        epoch = t.timestamp()
        for name, unit in SENSORS:
            v = value(name, epoch)
            if unit == "boolean" and last.get(name) == v and int(epoch) % 300 != 0:
                continue
            last[name] = v
            batch.append(Reading("house", name, v, t, unit))
        if t >= next_observation:
            store.add_observation(f"The living room was quiet and 21.5 C at {t.isoformat()}.", "pattern", 0.9,
                                  ["house:living_room/temperature"])
            next_observation += timedelta(minutes=30)
        if len(batch) >= 10000:
            store.log_readings(batch)
            batch.clear()
        t += timedelta(seconds=step)
    store.log_readings(batch)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--step", type=int, default=10)
    parser.add_argument("--store", required=True)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    config = Config()
    config.node.name = "reference"
    store = LocalStore(args.store, "reference", MockEmbeddings())
    store.connect()
    seed(store, args.days, args.step)
    readings = ReadingManager()
    readings.register(HouseProvider())
    app = create_app(config, store=store, readings=readings)
    print(f"serving {args.store} on 127.0.0.1:{args.port}", flush=True)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
