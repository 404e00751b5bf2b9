"""Build the replay's own house-price model and synthetic houses, reproducibly.

``python -m tutorial_replay.build_assets`` (re)writes ``tutorial_replay/assets/models`` and
``tutorial_replay/assets/data``; ``--check`` only compares the shipped files with a fresh build
and exits 1 when they differ. Same code → byte-identical files: the model is built with
``onnx.helper`` at fixed IR/opset/producer versions without timestamps, the houses come from
Python's :class:`random.Random` (whose stream is stable across Python versions) and are written
as JSON with a fixed layout, and the Arrow file holds exactly those values.

The model has the interface of the tutorial's ``rf_model.onnx``: input ``float_input``
(float32 ``[N, 18]``), output ``variable`` (float32 ``[N, 1]``), and like it is a random forest
(an ONNX-ML ``TreeEnsembleRegressor``): 40 trees of depth 8 fitted, with bootstrap samples and
randomised splits, to a log-linear price over the 18 features (``exp(clip(b + (x - centre) · w))``)
on seeded synthetic houses. Prices run from about a hundred thousand to several million dollars
and move with size, grade, location and the rest; evaluating it costs what a forest costs.
"""

from __future__ import annotations

import argparse
import functools
import io
import math
import random
import struct
import sys
from collections.abc import Sequence
from pathlib import Path

#: The 18 model features, in the tutorial's order.
FEATURES: tuple[str, ...] = (
    "bedrooms",
    "bathrooms",
    "sqft_living",
    "sqft_lot",
    "floors",
    "waterfront",
    "view",
    "condition",
    "grade",
    "sqft_above",
    "sqft_basement",
    "lat",
    "long",
    "sqft_living15",
    "sqft_lot15",
    "house_age",
    "renovated",
    "yrs_since_renovation",
)

#: Where the built files live inside the installed package.
ASSETS_DIR = Path(__file__).resolve().parent / "assets"

MODEL_PATH = "models/rf_model.onnx"
DATA_1K = "data/xtest-1k.df.json"
DATA_1 = "data/xtest-1.df.json"
DATA_1K_ARROW = "data/xtest-1k.arrow"
DATA_SMALL = "data/smallinputs.df.json"
DATA_BIG = "data/biginputs.df.json"
SQL_INPUTS = "resources/create_inputs_table.sql"
SQL_OUTPUTS = "resources/create_outputs_table.sql"

#: Price threshold the tutorial splits its small and big inputs at (dollars).
PRICE_THRESHOLD = 1_500_000.0

SEED = 20230510
N_TEST = 1000
N_SMALL = 500
N_BIG = 100

# Per-feature (centre, weight on log-price). Centres are a typical house, so the intercept is
# the log of a typical price; weights are per unit of each feature.
_CENTRE_WEIGHT: tuple[tuple[float, float], ...] = (
    (3.0, -0.02),  # bedrooms: more rooms at equal size means smaller rooms
    (2.0, 0.04),  # bathrooms
    (2000.0, 0.00028),  # sqft_living
    (7500.0, 0.000002),  # sqft_lot
    (1.5, 0.02),  # floors
    (0.0, 0.45),  # waterfront
    (0.0, 0.07),  # view (0-4)
    (3.0, 0.05),  # condition (1-5)
    (7.0, 0.16),  # grade (1-13)
    (1700.0, 0.00004),  # sqft_above
    (300.0, 0.00002),  # sqft_basement
    (47.56, 1.4),  # lat: the north of the area is dearer
    (-122.21, -0.12),  # long: ... and the west
    (1990.0, 0.00012),  # sqft_living15: the neighbours' houses
    (7600.0, -0.000001),  # sqft_lot15
    (45.0, 0.0025),  # house age: older houses sit in older, central neighbourhoods
    (0.0, 0.06),  # renovated
    (0.0, -0.001),  # years since renovation
)
_INTERCEPT = math.log(450_000.0)
_LOG_MIN = math.log(75_000.0)
_LOG_MAX = math.log(12_000_000.0)

_PRODUCER = "wallaroo-emulator build_assets"
_PRODUCER_VERSION = "2"
_IR_VERSION = 8
_OPSET = 13
_ML_OPSET = 3

N_TREES = 40
TREE_DEPTH = 8
N_TRAIN = 3000


# -- the model -------------------------------------------------------------------------------


def _loglinear(row: Sequence[float]) -> float:
    """The price the forest is fitted to: log-linear in the features, clipped, in dollars."""
    score = _INTERCEPT + sum((x - c) * w for x, (c, w) in zip(row, _CENTRE_WEIGHT, strict=True))
    return math.exp(min(max(score, _LOG_MIN), _LOG_MAX))


def _f32(value: float) -> float:
    return struct.unpack("f", struct.pack("f", value))[0]


class _Tree:
    """A complete binary tree: ``split[i] = (feature, threshold)`` for internal nodes, leaf values."""

    def __init__(self, splits: list[tuple[int, float]], leaves: list[float]) -> None:
        self.splits = splits
        self.leaves = leaves

    def value(self, row: Sequence[float]) -> float:
        node = 0
        while node < len(self.splits):
            feature, threshold = self.splits[node]
            node = 2 * node + 1 if _f32(row[feature]) <= threshold else 2 * node + 2
        return self.leaves[node - len(self.splits)]


@functools.lru_cache(maxsize=1)
def _forest() -> tuple[_Tree, ...]:
    """Fit the forest: bootstrap samples, a random feature and a random cut per node, leaf means."""
    rng = random.Random(SEED + 1)
    train = [_house(rng, luxury=0.6 if i % 5 == 0 else 0.0) for i in range(N_TRAIN)]
    target = [_loglinear(row) for row in train]
    internal = 2**TREE_DEPTH - 1
    trees = []
    for _ in range(N_TREES):
        sample = [rng.randrange(N_TRAIN) for _ in range(N_TRAIN)]
        splits: list[tuple[int, float]] = []
        groups = [sample]
        means = [sum(target[i] for i in sample) / len(sample)]
        for node in range(internal):
            members = groups[node]
            feature = rng.randrange(len(FEATURES))
            values = sorted({train[i][feature] for i in members})
            if len(values) > 1:
                cut = rng.randrange(len(values) - 1)
                threshold = _f32((values[cut] + values[cut + 1]) / 2)
            else:
                threshold = _f32(values[0] if values else 0.0)
            splits.append((feature, threshold))
            left = [i for i in members if _f32(train[i][feature]) <= threshold]
            right = [i for i in members if _f32(train[i][feature]) > threshold]
            for part in (left, right):
                groups.append(part)
                means.append(sum(target[i] for i in part) / len(part) if part else means[node])
        leaves = [_f32(means[internal + k]) for k in range(internal + 1)]
        trees.append(_Tree(splits, leaves))
    return tuple(trees)


def build_model_bytes() -> bytes:
    """The ONNX house-price forest, serialised (deterministic bytes)."""
    import onnx
    from onnx import TensorProto, helper

    attrs: dict[str, list[object]] = {key: [] for key in (
        "nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_values", "nodes_modes",
        "nodes_truenodeids", "nodes_falsenodeids", "target_treeids", "target_nodeids", "target_ids",
        "target_weights")}
    for tree_id, tree in enumerate(_forest()):
        internal = len(tree.splits)
        for node in range(internal + len(tree.leaves)):
            attrs["nodes_treeids"].append(tree_id)
            attrs["nodes_nodeids"].append(node)
            if node < internal:
                feature, threshold = tree.splits[node]
                attrs["nodes_featureids"].append(feature)
                attrs["nodes_values"].append(threshold)
                attrs["nodes_modes"].append("BRANCH_LEQ")
                attrs["nodes_truenodeids"].append(2 * node + 1)
                attrs["nodes_falsenodeids"].append(2 * node + 2)
            else:
                for key, value in (("nodes_featureids", 0), ("nodes_values", 0.0), ("nodes_modes", "LEAF"),
                                   ("nodes_truenodeids", 0), ("nodes_falsenodeids", 0),
                                   ("target_treeids", tree_id), ("target_nodeids", node), ("target_ids", 0),
                                   ("target_weights", tree.leaves[node - internal])):
                    attrs[key].append(value)
    forest = helper.make_node("TreeEnsembleRegressor", ["float_input"], ["variable"], name="forest",
                              domain="ai.onnx.ml", n_targets=1, aggregate_function="AVERAGE",
                              post_transform="NONE", **attrs)
    graph = helper.make_graph(
        [forest],
        "house_price",
        [helper.make_tensor_value_info("float_input", TensorProto.FLOAT, ["N", len(FEATURES)])],
        [helper.make_tensor_value_info("variable", TensorProto.FLOAT, ["N", 1])],
    )
    graph.doc_string = f"Random forest ({N_TREES} trees, depth {TREE_DEPTH}) house price over: " + ", ".join(FEATURES)
    model = helper.make_model(
        graph,
        producer_name=_PRODUCER,
        producer_version=_PRODUCER_VERSION,
        opset_imports=[helper.make_opsetid("", _OPSET), helper.make_opsetid("ai.onnx.ml", _ML_OPSET)],
    )
    model.ir_version = _IR_VERSION
    model.model_version = 1
    onnx.checker.check_model(model)
    return model.SerializeToString(deterministic=True)


def predict(rows: Sequence[Sequence[float]]) -> list[float]:
    """The forest's prediction in plain Python (used to pick small and big houses)."""
    trees = _forest()
    return [sum(tree.value(row) for tree in trees) / len(trees) for row in rows]


# -- the houses ------------------------------------------------------------------------------


def _house(rng: random.Random, luxury: float = 0.0) -> list[float]:
    """One synthetic house; ``luxury`` (0..1) shifts size, grade and setting upwards."""
    sqft_living = round(min(max(math.exp(rng.gauss(7.55 + 0.6 * luxury, 0.35)), 390.0), 9000.0) / 10) * 10
    bedrooms = float(min(max(round(sqft_living / 650 + rng.gauss(0, 0.7)), 1), 8))
    bathrooms = min(max(round((sqft_living / 900 + rng.gauss(0, 0.4)) * 4) / 4, 0.75), 6.0)
    grade = float(min(max(round(4.5 + sqft_living / 800 + rng.gauss(0, 0.7) + 1.5 * luxury), 3), 13))
    has_basement = rng.random() < 0.4
    sqft_basement = round(sqft_living * rng.uniform(0.15, 0.45) / 10) * 10 if has_basement else 0.0
    sqft_above = sqft_living - sqft_basement
    sqft_lot = round(math.exp(rng.gauss(8.9 + 0.5 * luxury, 0.6)))
    floors = (
        rng.choice((1.0, 1.0, 1.0, 1.5, 2.0, 2.0, 2.5, 3.0)) if not has_basement else rng.choice((1.0, 2.0))
    )
    waterfront = 1.0 if rng.random() < 0.008 + 0.15 * luxury else 0.0
    view = (
        float(rng.choice((0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4)))
        if not waterfront
        else float(rng.choice((2, 3, 4)))
    )
    condition = float(rng.choice((2, 3, 3, 3, 3, 3, 4, 4, 4, 5)))
    lat = round(min(max(rng.gauss(47.56 + 0.06 * luxury, 0.13), 47.16), 47.78), 4)
    long = round(min(max(rng.gauss(-122.21 - 0.05 * luxury, 0.13), -122.52), -121.32), 3)
    sqft_living15 = round(min(max(sqft_living * rng.uniform(0.65, 1.15), 460.0), 6200.0) / 10) * 10
    sqft_lot15 = round(sqft_lot * rng.uniform(0.6, 1.3))
    age = float(rng.randint(0, 115))
    renovated = 1.0 if age > 25 and rng.random() < 0.05 else 0.0
    since = float(rng.randint(0, int(age) - 20)) if renovated else 0.0
    return [
        bedrooms, bathrooms, float(sqft_living), float(sqft_lot), floors, waterfront, view, condition,
        grade, float(sqft_above), float(sqft_basement), lat, long, float(sqft_living15),
        float(sqft_lot15), age, renovated, since,
    ]  # fmt: skip


def build_houses() -> dict[str, list[list[float]]]:
    """The synthetic house sets: ``test`` (1,000), ``small`` and ``big`` (split at 1.5M)."""
    rng = random.Random(SEED)
    test = [_house(rng) for _ in range(N_TEST)]
    small: list[list[float]] = []
    big: list[list[float]] = []
    # margins around the threshold keep the split valid at the model's float32 precision
    while len(small) < N_SMALL:
        house = _house(rng)
        if predict([house])[0] < PRICE_THRESHOLD * 0.85:
            small.append(house)
    while len(big) < N_BIG:
        house = _house(rng, luxury=0.5)
        if predict([house])[0] > PRICE_THRESHOLD * 1.15:
            big.append(house)
    return {"test": test, "small": small, "big": big}


def records_json(rows: Sequence[Sequence[float]]) -> bytes:
    """Rows as a pandas ``orient="records"`` DataFrame JSON with one column ``tensor``."""
    parts = ('{"tensor":[' + ",".join(repr(float(v)) for v in row) + "]}" for row in rows)
    return ("[" + ",".join(parts) + "]").encode()


def arrow_file(rows: Sequence[Sequence[float]]) -> bytes:
    """Rows as an Arrow IPC file with one column ``tensor: list<float>`` (what infer_from_file reads)."""
    import pyarrow as pa

    table = pa.table({"tensor": pa.array([list(r) for r in rows], type=pa.list_(pa.float32()))})
    sink = io.BytesIO()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


INPUTS_DDL = "CREATE TABLE `{project}.{dataset}.{table}` (tensor ARRAY<FLOAT64>)"
OUTPUTS_DDL = (
    "CREATE TABLE `{project}.{dataset}.{table}` "
    "(time DATETIME, in_tensor ARRAY<FLOAT64>, out_variable ARRAY<FLOAT64>, check_failures INT64)"
)


def build_all() -> dict[str, bytes]:
    """Every built file, by path relative to :data:`ASSETS_DIR`."""
    houses = build_houses()
    return {
        MODEL_PATH: build_model_bytes(),
        DATA_1K: records_json(houses["test"]),
        DATA_1: records_json(houses["test"][:1]),
        DATA_1K_ARROW: arrow_file(houses["test"]),
        DATA_SMALL: records_json(houses["small"]),
        DATA_BIG: records_json(houses["big"]),
        SQL_INPUTS: (INPUTS_DDL + "\n").encode(),
        SQL_OUTPUTS: (OUTPUTS_DDL + "\n").encode(),
    }


def asset_path(relative: str) -> Path:
    """Path of a shipped asset, e.g. ``asset_path(MODEL_PATH)``."""
    return ASSETS_DIR / relative


def write_all(out_dir: Path = ASSETS_DIR) -> list[Path]:
    written = []
    for rel, data in build_all().items():
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


def differences(out_dir: Path = ASSETS_DIR) -> list[str]:
    """Relative paths whose shipped bytes differ from a fresh build (or are missing)."""
    diffs = []
    for rel, data in build_all().items():
        path = out_dir / rel
        if not path.is_file() or path.read_bytes() != data:
            diffs.append(rel)
    return diffs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tutorial_replay.build_assets", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--out", type=Path, default=ASSETS_DIR, help="assets folder (default: the package's)")
    parser.add_argument("--check", action="store_true", help="compare with a fresh build instead of writing")
    args = parser.parse_args(argv)
    if args.check:
        diffs = differences(args.out)
        for rel in diffs:
            print(f"differs from a fresh build: {rel}")
        return 1 if diffs else 0
    for path in write_all(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
