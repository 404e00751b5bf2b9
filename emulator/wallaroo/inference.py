"""Running models: ONNX sessions (cached per model version), input mapping and result shapes.

The hot path of ``pipeline.infer`` lives here and stays vectorised: one conversion of each
input column to the model's dtype and shape, one ``session.run`` per step, and result columns
built from whole arrays (no per-row Python loops).

* :class:`ModelRuntime` — what the engine knows of one model version: input names, shapes and
  dtypes, output names, and how to run it. :class:`OnnxModelRuntime` wraps an onnxruntime
  session; :class:`CallableModelRuntime` wraps a Python callable a test registered with
  :meth:`emulator.wallaroo.backend.WallarooBackend.register_model_callable`.
* :func:`columns_from_frame` / :func:`columns_from_table` — the request's columns as
  :class:`InputColumn` objects (values as given, converted lazily to arrays).
* :func:`run_steps` — the pipeline's model steps in sequence; each step maps the previous
  step's columns (or the request's) onto its inputs: by ``tensor_fields`` when configured,
  otherwise by input name, otherwise a single column onto a single input, otherwise
  positionally when the counts agree.
* :func:`result_frame` / :func:`result_table` — the result in the shapes of reference §4:
  ``time, in.* (alphabetical), out.* (alphabetical), <anomaly column>``.

``in.<column>`` echoes the request: list cells of Python floats are passed back as given (the
engine's float32 JSON prints the same decimals for values of up to 7 significant digits); ndarray,
integer and Arrow cells come back as float lists of the model dtype. Output values are the float32
results as the engine's JSON prints them (:func:`json_floats`), so ``np.float32(v)`` equals
onnxruntime's value exactly.

Engine-side validation errors raise :class:`emulator.wallaroo.errors.InferenceFailed`
(``error_type="InvalidInput"``) before anything is stored.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import numpy as np

from emulator.wallaroo.errors import InferenceFailed, ModelUploadFailed

_ORT_TYPES: dict[str, Any] = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(int16)": np.int16,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
    "tensor(uint16)": np.uint16,
    "tensor(uint32)": np.uint32,
    "tensor(uint64)": np.uint64,
    "tensor(bool)": np.bool_,
}


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: building many small lists, dicts and floats (JSON
    rows) triggers collections that scan the whole heap, which in a process holding a large SDK
    costs tens of milliseconds per 1,000 rows and frees nothing (these objects hold no cycles)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def invalid(message: str) -> InferenceFailed:
    return InferenceFailed("InvalidInput", message)


# ------------------------------------------------------------------------------------------
# Model runtimes
# ------------------------------------------------------------------------------------------


@dataclass
class TensorSpec:
    """One model input: name, numpy dtype and shape (``None`` for a free dimension)."""

    name: str
    dtype: Any
    shape: tuple[int | None, ...] | None

    def describe_shape(self) -> str:
        if self.shape is None:
            return "[any]"
        return "[" + ", ".join("N" if d is None else str(d) for d in self.shape) + "]"


class ModelRuntime:
    """The engine's view of one model version."""

    inputs: list[TensorSpec]
    output_names: list[str]

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        raise NotImplementedError


def _load_onnx_session(data: bytes) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    # no busy-waiting of idle worker threads: on small machines they steal the core the
    # DataFrame conversion around each run needs
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(data, sess_options=options, providers=["CPUExecutionProvider"])


class OnnxModelRuntime(ModelRuntime):
    """A real onnxruntime session plus the input metadata the hot path needs."""

    def __init__(self, data: bytes) -> None:
        try:
            self.session = _load_onnx_session(data)
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidProtobuf types
            raise ModelUploadFailed(f"the file is not a valid ONNX model: {exc}") from None
        self.inputs = []
        for meta in self.session.get_inputs():
            dtype = _ORT_TYPES.get(meta.type)
            shape = None
            if meta.shape is not None:
                shape = tuple(d if isinstance(d, int) and d > 0 else None for d in meta.shape)
            self.inputs.append(TensorSpec(meta.name, dtype, shape))
        self.output_names = [meta.name for meta in self.session.get_outputs()]
        #: Models exported with a fixed batch of one run row by row (rare; costs a loop per row).
        self.batch_one = any(s.shape and s.shape[0] == 1 for s in self.inputs)

    def _run_once(self, feeds: dict[str, np.ndarray]) -> list[Any]:
        try:
            return self.session.run(self.output_names, feeds)
        except Exception as exc:
            raise invalid(f"the model rejected the input: {exc}") from None

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        n = len(next(iter(feeds.values()))) if feeds else 0
        if self.batch_one and n > 1:
            rows = [self._run_once({k: v[i:i + 1] for k, v in feeds.items()}) for i in range(n)]
            values: list[Any] = [np.concatenate([np.asarray(r[j]) for r in rows]) for j in range(len(self.output_names))]
        else:
            values = self._run_once(feeds)
        return {name: value if isinstance(value, np.ndarray) else _object_array(list(value))
                for name, value in zip(self.output_names, values)}


class CallableModelRuntime(ModelRuntime):
    """A Python callable standing in for a model (the documented test extension).

    The callable receives ``{input column name: numpy array}`` and returns either a mapping
    ``{output name: array-like}`` or one array-like (named ``output``). Row ``i`` of every
    output belongs to row ``i`` of the input.
    """

    def __init__(self, func: Callable[[dict[str, np.ndarray]], Any], input_names: Sequence[str] | None) -> None:
        self.func = func
        self.inputs = [TensorSpec(name, None, None) for name in (input_names or [])]
        self.output_names = []

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        result = self.func(dict(feeds))
        if hasattr(result, "to_dict") and hasattr(result, "columns"):  # a DataFrame
            result = {str(c): np.asarray(result[c].tolist()) for c in result.columns}
        if not isinstance(result, Mapping):
            result = {"output": result}
        return {str(k): np.asarray(v) for k, v in result.items()}


def sniff_onnx(data: bytes) -> bool:
    """Whether ``data`` looks like a serialized ONNX ModelProto (used when no framework is given).

    Reads the protobuf wire format directly rather than importing ``onnx`` (whose import alone costs
    ~0.5 s, for a yes/no answer): every top-level field of the message must be well formed, and its
    ``graph`` (field 7, length-delimited) must hold a node (GraphProto field 1) or an output (field 12)
    — what parsing it with ``onnx`` and checking ``graph.node``/``graph.output`` decided before.
    """
    top = _protobuf_fields(data)
    if top is None:
        return False
    graphs = [value for number, wire, value in top if number == 7 and wire == 2]
    if not graphs:
        return False
    graph = _protobuf_fields(graphs[-1])
    return graph is not None and any(number in (1, 12) and wire == 2 for number, wire, _ in graph)


def _protobuf_fields(data: bytes) -> list[tuple[int, int, bytes]] | None:
    """The (field number, wire type, payload) of each field of a protobuf message, or None if malformed.

    Payloads are kept only for length-delimited fields (wire type 2); groups (3/4) are refused, as
    ONNX never uses them.
    """
    fields: list[tuple[int, int, bytes]] = []
    position, end = 0, len(data)
    while position < end:
        tag, position = _varint(data, position)
        if tag is None:
            return None
        number, wire = tag >> 3, tag & 7
        if number == 0:
            return None
        if wire == 0:
            value, position = _varint(data, position)
            if value is None:
                return None
            fields.append((number, wire, b""))
        elif wire == 1 or wire == 5:
            position += 8 if wire == 1 else 4
            if position > end:
                return None
            fields.append((number, wire, b""))
        elif wire == 2:
            length, position = _varint(data, position)
            if length is None or position + length > end:
                return None
            fields.append((number, wire, data[position : position + length]))
            position += length
        else:
            return None
    return fields


def _varint(data: bytes, position: int) -> tuple[int | None, int]:
    """A base-128 varint at ``position`` and the position after it; None when it runs off the end."""
    value, shift = 0, 0
    while position < len(data) and shift < 70:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7
    return None, position


# ------------------------------------------------------------------------------------------
# Request columns
# ------------------------------------------------------------------------------------------


@dataclass
class InputColumn:
    """One column of an inference request, as given (pandas values or an Arrow array)."""

    name: str
    values: Any  # numpy array (pandas values) or a pyarrow Array
    arrow: bool = False
    _cache: dict[Any, np.ndarray] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.values)

    def to_array(self, spec: TensorSpec) -> np.ndarray:
        """The column as one array of the model input's dtype and shape, or InvalidInput."""
        key = (spec.dtype, spec.shape)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        array = _arrow_to_array(self, spec) if self.arrow else _values_to_array(self, spec)
        array = _fit_shape(array, spec, self.name)
        self._cache[key] = array
        return array

    def echo(self) -> np.ndarray:
        """Values for the ``in.<name>`` result column: one Python object per row."""
        if self.arrow:
            if self._cache:
                return _rows_as_lists(next(iter(self._cache.values())))
            return _object_array(self.values.to_pylist())
        values = self.values
        if values.dtype != object or len(values) == 0:
            return values
        first = values[0]
        if isinstance(first, np.ndarray) and first.ndim == 1 and first.dtype.kind == "f":
            # float arrays (as BigQuery's to_dataframe gives) echo like float lists do: their values
            with gc_paused():  # many small lists
                return _object_array(np.stack(values).tolist())
        needs_floats = isinstance(first, np.ndarray) or (
            isinstance(first, list) and first and isinstance(first[0], int | np.integer))
        if needs_floats and self._cache:  # the engine sends the tensor back as float lists
            return _rows_as_lists(next(iter(self._cache.values())))
        if isinstance(first, np.ndarray):
            return _object_array(np.stack(values).reshape(len(values), -1).tolist())
        return values


def columns_from_frame(frame: Any) -> dict[str, InputColumn]:
    """A DataFrame's columns; pyarrow-backed ones (``pd.ArrowDtype``) keep their Arrow data."""
    import pandas as pd

    columns = {}
    for name in frame.columns:
        series = frame[name]
        if isinstance(series.dtype, pd.ArrowDtype):
            columns[str(name)] = InputColumn(str(name), series.array.__arrow_array__().combine_chunks(), arrow=True)
        else:
            columns[str(name)] = InputColumn(str(name), series.to_numpy())
    return columns


def columns_from_records(columns: RecordColumns) -> dict[str, InputColumn]:
    """:class:`RecordColumns` as request columns (numbers become numeric arrays, as in pandas)."""
    result = {}
    for name, values in columns.items():
        first = values[0] if len(values) else None
        if isinstance(first, int | float) and not isinstance(first, bool):
            try:
                values = np.array(values.tolist())
            except (TypeError, ValueError):
                pass
        result[name] = InputColumn(name, values)
    return result


def columns_from_table(table: Any) -> dict[str, InputColumn]:
    return {name: InputColumn(name, table.column(name).combine_chunks(), arrow=True) for name in table.column_names}


def _conversion_dtype(spec: TensorSpec) -> Any:
    """Convert straight to float tensor dtypes; anything else converts naturally, then is checked."""
    if spec.dtype is not None and np.dtype(spec.dtype).kind == "f":
        return spec.dtype
    return None


def _values_to_array(column: InputColumn, spec: TensorSpec) -> np.ndarray:
    values = column.values
    dtype = _conversion_dtype(spec)
    n = len(values)
    if values.dtype != object:
        if values.dtype.kind not in "biuf":
            raise invalid(f"column '{column.name}' has dtype {values.dtype}, which cannot feed tensor "
                          f"'{spec.name}' ({np.dtype(dtype or np.float32).name})")
        return values.astype(dtype or values.dtype, copy=False)
    first = values[0]
    try:
        if dtype is not None and isinstance(first, list) and (
                not first or not isinstance(first[0], list | tuple | np.ndarray)):
            lengths = np.fromiter(map(len, values), dtype=np.int64, count=n)
            width = int(lengths[0])
            if not (lengths == width).all():
                raise invalid(f"column '{column.name}' has rows of different lengths "
                              f"({int(lengths.min())} to {int(lengths.max())} values)")
            flat = np.fromiter(chain.from_iterable(values), dtype=dtype or np.float64, count=n * width)
            return flat.reshape(n, width)
        if isinstance(first, np.ndarray) and first.ndim == 1:
            # cells from BigQuery's to_dataframe() are 1-D numpy arrays: stack them in one go
            lengths = np.fromiter(map(len, values), dtype=np.int64, count=n)
            if not (lengths == lengths[0]).all():
                raise invalid(f"column '{column.name}' has rows of different lengths "
                              f"({int(lengths.min())} to {int(lengths.max())} values)")
            return np.stack(values).astype(dtype, copy=False) if dtype is not None else np.stack(values)
        return np.array(values.tolist(), dtype=dtype)
    except InferenceFailed:
        raise
    except (TypeError, ValueError) as exc:
        wanted = np.dtype(dtype).name if dtype is not None else "numbers"
        raise invalid(f"column '{column.name}' cannot be converted to tensor '{spec.name}' of {wanted}: {exc}") from None


def _arrow_to_array(column: InputColumn, spec: TensorSpec) -> np.ndarray:
    import pyarrow as pa

    array = column.values
    dtype = _conversion_dtype(spec)
    n = len(array)
    if array.null_count:
        raise invalid(f"column '{column.name}' has {array.null_count} null rows")
    shape: list[int] = [n]
    while pa.types.is_list(array.type) or pa.types.is_large_list(array.type) or pa.types.is_fixed_size_list(array.type):
        if pa.types.is_fixed_size_list(array.type):
            width = array.type.list_size
        else:
            offsets = array.offsets.to_numpy()
            lengths = np.diff(offsets)
            width = int(lengths[0]) if len(lengths) else 0
            if len(lengths) and not (lengths == width).all():
                raise invalid(f"column '{column.name}' has rows of different lengths "
                              f"({int(lengths.min())} to {int(lengths.max())} values)")
        shape.append(width)
        array = array.flatten()
    value_type = array.type
    if not (pa.types.is_integer(value_type) or pa.types.is_floating(value_type) or pa.types.is_boolean(value_type)):
        raise invalid(f"column '{column.name}' holds {value_type} values, which cannot feed tensor '{spec.name}'")
    flat = array.to_numpy(zero_copy_only=False)
    return flat.astype(dtype or flat.dtype, copy=False).reshape(shape)


def _fit_shape(array: np.ndarray, spec: TensorSpec, column: str) -> np.ndarray:
    if spec.dtype is not None and array.dtype != spec.dtype:
        wanted = np.dtype(spec.dtype)
        lossy = wanted.kind in "iub" and array.dtype.kind == "f" and not (
            np.isfinite(array).all() and (array == np.round(array)).all())
        if array.dtype.kind not in "biuf" or lossy:
            raise invalid(f"column '{column}' has {array.dtype} values but tensor '{spec.name}' expects "
                          f"{wanted.name}")
        array = array.astype(spec.dtype)
    if spec.shape is None:
        return array
    n = array.shape[0]
    rest = spec.shape[1:]
    if array.ndim == len(spec.shape) and all(d is None or d == a for d, a in zip(rest, array.shape[1:])):
        return array
    if all(d is not None for d in rest):
        size = int(np.prod(rest, dtype=np.int64)) if rest else 1
        if array.size == n * size:
            return array.reshape((n, *rest))
    got = "[" + ", ".join(str(d) for d in array.shape) + "]"
    raise invalid(f"tensor '{spec.name}' expects shape {spec.describe_shape()} but column '{column}' "
                  f"gives shape {got}")


# ------------------------------------------------------------------------------------------
# Running steps
# ------------------------------------------------------------------------------------------


def map_inputs(runtime: ModelRuntime, columns: Mapping[str, Any], tensor_fields: Sequence[str] | None,
               model_name: str) -> list[tuple[TensorSpec, str]]:
    """Pair each model input with the column feeding it, or raise InvalidInput naming what is missing."""
    specs = runtime.inputs
    names = list(columns)
    if not specs:  # a callable runtime without declared inputs takes everything
        chosen = list(tensor_fields) if tensor_fields else names
        missing = [c for c in chosen if c not in columns]
        if missing:
            raise invalid(f"missing input column(s) {missing} for model '{model_name}'; got {names}")
        return [(TensorSpec(c, None, None), c) for c in chosen]
    if tensor_fields:
        missing = [c for c in tensor_fields if c not in columns]
        if missing:
            raise invalid(f"missing input column(s) {missing} (tensor_fields of model '{model_name}'); "
                          f"got {names}")
        if len(tensor_fields) != len(specs):
            raise invalid(f"model '{model_name}' has {len(specs)} input(s) {[s.name for s in specs]} but "
                          f"tensor_fields names {len(tensor_fields)} column(s) {list(tensor_fields)}")
        return list(zip(specs, tensor_fields))
    if all(s.name in columns for s in specs):
        return [(s, s.name) for s in specs]
    if len(specs) == 1 and len(names) == 1:
        return [(specs[0], names[0])]
    if len(specs) == 1 and "tensor" in columns:
        return [(specs[0], "tensor")]
    if len(specs) == len(names) and not any(s.name in columns for s in specs):
        return list(zip(specs, names))
    missing = [s.name for s in specs if s.name not in columns]
    raise invalid(f"missing input column(s) {missing} for model '{model_name}' (inputs "
                  f"{[s.name for s in specs]}); got columns {names}. Name the columns after the inputs "
                  f"or configure tensor_fields")


@dataclass
class Step:
    """One model step as the engine runs it."""

    name: str
    runtime: ModelRuntime
    tensor_fields: list[str] | None


def run_steps(steps: Sequence[Step], columns: dict[str, InputColumn]) -> dict[str, np.ndarray]:
    """Run the steps in sequence and return the last step's outputs (name → batch-major array)."""
    n = len(next(iter(columns.values())))
    current: dict[str, Any] = columns
    outputs: dict[str, np.ndarray] = {}
    for step in steps:
        pairs = map_inputs(step.runtime, current, step.tensor_fields, step.name)
        feeds = {}
        for spec, col in pairs:
            source = current[col]
            if isinstance(source, InputColumn):
                feeds[spec.name] = source.to_array(spec)
            else:
                feeds[spec.name] = _fit_shape(np.asarray(source), spec, col)
        outputs = step.runtime.run(feeds)
        for name, value in outputs.items():
            if value.ndim == 0 or value.shape[0] != n:
                raise invalid(f"model '{step.name}' returned output '{name}' of shape {list(value.shape)} "
                              f"for {n} input rows")
        current = outputs
    return outputs


# ------------------------------------------------------------------------------------------
# Result shapes
# ------------------------------------------------------------------------------------------


def json_floats(values: np.ndarray) -> np.ndarray:
    """float64 values as the engine's JSON shows float32 numbers (shortest repr, e.g. 340764.53).

    Vectorised: for each value the fewest significant digits (1..9) that round-trip to the
    same float32, computed with one correctly rounded multiply or divide by a power of ten.
    Other dtypes are returned as float64/int unchanged.
    """
    if values.dtype != np.float32:
        return values
    v = values.astype(np.float64)
    result = v.copy()
    pending = np.isfinite(v) & (v != 0)
    if not pending.any():
        return result
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        mag = np.floor(np.log10(np.abs(np.where(pending, v, 1.0)))).astype(np.int64)
        for digits in range(1, 10):
            exp = digits - 1 - mag
            scale = 10.0 ** np.abs(exp)
            up = exp >= 0
            rounded = np.where(up, np.round(v * scale), np.round(v / scale))
            candidate = np.where(up, rounded / scale, rounded * scale)
            ok = pending & (candidate.astype(np.float32) == values)
            result[ok] = candidate[ok]
            pending &= ~ok
            if not pending.any():
                break
    return result


def _object_array(items: list[Any]) -> np.ndarray:
    return np.fromiter(items, dtype=object, count=len(items))


def _rows_as_lists(array: np.ndarray) -> np.ndarray:
    """One Python list per row (the engine's JSON lists); object arrays already of lists pass through."""
    n = array.shape[0]
    if array.dtype == object and array.ndim == 1 and n and isinstance(array[0], list):
        return array
    flat = json_floats(array.reshape(n, -1))
    with gc_paused():  # building many small lists
        return _object_array(flat.tolist())


def ordered_columns(in_names: Sequence[str], out_names: Sequence[str]) -> tuple[list[str], list[str]]:
    return sorted(in_names), sorted(out_names)


def result_frame(time_ms: int | np.ndarray, n: int, inputs: Mapping[str, np.ndarray],
                 outputs: Mapping[str, np.ndarray], anomaly_column: str) -> Any:
    """The SDK's DataFrame: time (datetime64[ns]), in.* and out.* object columns of lists, anomaly int64."""
    import pandas as pd

    times = np.asarray(time_ms, dtype=np.int64)
    if times.ndim == 0:
        times = np.full(n, int(times), dtype=np.int64)
    data: dict[str, Any] = {"time": times.astype("datetime64[ms]").astype("datetime64[ns]")}
    in_names, out_names = ordered_columns(list(inputs), list(outputs))
    for name in in_names:
        data[f"in.{name}"] = inputs[name]
    for name in out_names:
        data[f"out.{name}"] = _rows_as_lists(outputs[name])
    data[anomaly_column] = np.zeros(n, dtype=np.int64)
    return pd.DataFrame(data, copy=False)


def _list_array(values: np.ndarray, nullable_items: bool) -> Any:
    import pyarrow as pa

    n = values.shape[0]
    if values.dtype == object and values.ndim == 1 and n and isinstance(values[0], list):
        return pa.array(values.tolist())  # rows of lists of different lengths (logs across calls)
    flat = values.reshape(n, -1)
    width = flat.shape[1]
    offsets = pa.array(np.arange(0, (n + 1) * width, width, dtype=np.int32)) if n else pa.array([0], pa.int32())
    items = pa.array(flat.reshape(-1))
    if nullable_items:
        return pa.ListArray.from_arrays(offsets, items)
    list_type = pa.list_(pa.field("inner", items.type, nullable=False))
    return pa.ListArray.from_arrays(offsets, items, type=list_type)


def result_table(time_ms: int | np.ndarray, n: int, inputs: Mapping[str, Any],
                 outputs: Mapping[str, np.ndarray], anomaly_column: str) -> Any:
    """The SDK's Arrow result: ``time: timestamp[ms]; in.*: list<item: float>;
    out.*: list<inner: float not null> not null; anomaly.count: uint32 not null``
    (``check_failures: int8 not null`` in the 2023.2 profile)."""
    import pyarrow as pa

    times = np.asarray(time_ms, dtype=np.int64)
    if times.ndim == 0:
        times = np.full(n, int(times), dtype=np.int64)
    fields = [pa.field("time", pa.timestamp("ms"))]
    arrays = [pa.array(times.astype("datetime64[ms]"), type=pa.timestamp("ms"))]
    in_names, out_names = ordered_columns(list(inputs), list(outputs))
    for name in in_names:
        value = inputs[name]
        array = _list_array(value, True) if isinstance(value, np.ndarray) and value.dtype != object else pa.array(value)
        fields.append(pa.field(f"in.{name}", array.type))
        arrays.append(array)
    for name in out_names:
        array = _list_array(outputs[name], False)
        fields.append(pa.field(f"out.{name}", array.type, nullable=False))
        arrays.append(array)
    anomaly_type = pa.int8() if anomaly_column == "check_failures" else pa.uint32()
    fields.append(pa.field(anomaly_column, anomaly_type, nullable=False))
    arrays.append(pa.array(np.zeros(n, dtype=anomaly_type.to_pandas_dtype())))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


# ------------------------------------------------------------------------------------------
# The engine's answer: one result, selected and rendered per request
# ------------------------------------------------------------------------------------------

#: Order of the top-level fields in every rendering (``time, in.*, out.*``, then the rest by name).
_FIELD_ORDER = {"time": 0, "in": 1, "out": 2}


@dataclass
class EngineResult:
    """What the engine computed for one inference request, before ``dataset`` selection.

    ``inputs`` echo the request (one Python object per row, or a batch-major array),
    ``outputs`` are the last step's arrays, ``anomaly_column`` is ``anomaly.count`` (newest)
    or ``check_failures`` (2023.2), ``metadata`` the engine's per-call metadata fields.
    Renderings: :meth:`frame` (the SDK's DataFrame), :meth:`table` (the Arrow reply / the SDK's
    Table), :meth:`records` (the engine's JSON records, flat or nested).
    """

    time_ms: Any  # int, or one int per row (logs across calls)
    n: int
    inputs: dict[str, Any]
    outputs: dict[str, np.ndarray]
    anomaly_column: str
    metadata: dict[str, Any] = field(default_factory=dict)

    # -- selection ------------------------------------------------------------------------
    def _names(self) -> list[str]:
        names = ["time", *(f"in.{k}" for k in self.inputs), *(f"out.{k}" for k in self.outputs),
                 self.anomaly_column, *(f"metadata.{k}" for k in self.metadata)]
        return names

    def selected(self, dataset: Sequence[str] | None = None, exclude: Sequence[str] | None = None) -> list[str]:
        """Full column names kept by ``dataset[]``/``dataset.exclude[]``, in the engine's order.

        ``dataset`` names top-level fields (``time``, ``in``, ``out``, ``anomaly``,
        ``check_failures``, ``metadata``) or full column names; ``*`` (the default) is every
        field. ``exclude`` removes fields or columns the same way. This is the engine's rule:
        nothing is excluded unless asked (the SDK asks to exclude ``metadata`` by default).
        """
        return select_columns(self._names(), dataset, exclude)

    def _column(self, name: str) -> Any:
        prefix, _, rest = name.partition(".")
        if name == "time":
            times = np.asarray(self.time_ms, dtype=np.int64)
            return np.full(self.n, int(times), dtype=np.int64) if times.ndim == 0 else times
        if prefix == "in" and rest in self.inputs:
            return self.inputs[rest]
        if prefix == "out" and rest in self.outputs:
            return self.outputs[rest]
        if prefix == "metadata":
            return self.metadata[rest]
        return None  # the anomaly column

    # -- renderings -----------------------------------------------------------------------
    def frame(self, dataset: Sequence[str] | None = None, exclude: Sequence[str] | None = None,
              separator: str | None = ".") -> Any:
        """The SDK's DataFrame: ``time`` datetime64[ns], list columns of Python lists, anomaly int64."""
        import pandas as pd

        data: dict[str, Any] = {}
        for name in self.selected(dataset, exclude):
            value = self._column(name)
            prefix = name.split(".", 1)[0]
            if name == "time":
                value = value.astype("datetime64[ms]").astype("datetime64[ns]")
            elif prefix == "out":
                value = _rows_as_lists(value)
            elif name == self.anomaly_column:
                value = np.zeros(self.n, dtype=np.int64)
            elif prefix == "metadata":
                value = _repeat(value, self.n)
            data[_rename(name, separator)] = value
        return pd.DataFrame(data, copy=False)

    def table(self, dataset: Sequence[str] | None = None, exclude: Sequence[str] | None = None,
              separator: str | None = ".", *, engine: bool = False) -> Any:
        """The Arrow result: ``time: timestamp[ms]; in.*: list<item: float>;
        out.*: list<inner: float not null> not null; anomaly.count: uint32 not null``.

        ``check_failures`` (2023.2) is ``int8 not null`` as the SDK shows it, or, with
        ``engine=True`` (the wire's reply, which the SDK then converts), the engine's list of
        failed checks per row (always empty).
        """
        import pyarrow as pa

        fields = []
        arrays = []
        for name in self.selected(dataset, exclude):
            value = self._column(name)
            prefix = name.split(".", 1)[0]
            nullable = True
            if name == "time":
                array = pa.array(value.astype("datetime64[ms]"), type=pa.timestamp("ms"))
            elif prefix == "in":
                array = (_list_array(value, True) if isinstance(value, np.ndarray) and value.dtype != object
                         else pa.array(value))
            elif prefix == "out":
                array, nullable = _list_array(value, False), False
            elif name == self.anomaly_column:
                nullable = False
                if name != "check_failures":
                    array = pa.array(np.zeros(self.n, dtype=np.uint32))
                elif engine:
                    array = pa.array([[] for _ in range(self.n)], type=pa.list_(pa.string()))
                else:
                    array = pa.array(np.zeros(self.n, dtype=np.int8))
            else:
                array = pa.array(_repeat(value, self.n).tolist())
            fields.append(pa.field(_rename(name, separator), array.type, nullable=nullable))
            arrays.append(array)
        return pa.Table.from_arrays(arrays, schema=pa.schema(fields))

    def records(self, dataset: Sequence[str] | None = None, exclude: Sequence[str] | None = None,
                separator: str | None = None, *, numpy_rows: bool = False) -> list[dict[str, Any]]:
        """The engine's JSON records: flat keys joined by ``separator``, or nested objects without one.

        ``time`` is epoch milliseconds; ``check_failures`` is the (empty) list of failed checks.
        With ``numpy_rows`` output rows stay 1-D numpy arrays (for a serializer that writes
        float32 arrays in their shortest form, as :func:`json_floats` does for Python floats).
        """
        names = self.selected(dataset, exclude)
        columns: list[tuple[str, str | None, list[Any]]] = []
        for name in names:
            value = self._column(name)
            prefix, _, rest = name.partition(".")
            if name == "time":
                values = value.tolist()
            elif prefix == "out":
                if numpy_rows and value.dtype != object:
                    values = list(np.ascontiguousarray(value.reshape(self.n, -1)))
                else:
                    values = _rows_as_lists(value).tolist()
            elif prefix == "in":
                values = _plain_rows(value)
            elif name == self.anomaly_column:
                values = [[] for _ in range(self.n)] if name == "check_failures" else [0] * self.n
            else:
                values = [value] * self.n
            if separator is None and rest and name != "check_failures":
                columns.append((prefix, rest, values))
            else:
                columns.append((_rename(name, separator or "."), None, values))
        with gc_paused():  # many small dicts
            out: list[dict[str, Any]] = [{} for _ in range(self.n)]
            for key, sub, values in columns:
                if sub is None:
                    for record, value in zip(out, values):
                        record[key] = value
                else:
                    for record, value in zip(out, values):
                        record.setdefault(key, {})[sub] = value
            return out


def select_columns(names: Sequence[str], dataset: Sequence[str] | None,
                   exclude: Sequence[str] | None) -> list[str]:
    """The engine's ``dataset[]``/``dataset.exclude[]`` rule over full column names (see
    :meth:`EngineResult.selected`), ordered ``time, in.*, out.*``, then the rest by name."""
    wanted = list(dataset) if dataset else ["*"]
    dropped = set(exclude or ())

    def keep(name: str) -> bool:
        prefix = name.split(".", 1)[0]
        chosen = "*" in wanted or prefix in wanted or name in wanted
        return chosen and prefix not in dropped and name not in dropped

    kept = [n for n in names if keep(n)]
    return sorted(kept, key=lambda c: (_FIELD_ORDER.get(c.split(".", 1)[0], 3), c))


def sdk_dataset_params(dataset: Sequence[str] | None, dataset_exclude: Sequence[str] | None,
                       dataset_separator: str | None) -> tuple[list[str], list[str], str]:
    """What the SDK sends for ``infer(..., dataset, dataset_exclude, dataset_separator)``:
    ``dataset[]`` (``*`` by default), ``dataset.exclude[]`` (the given ones plus ``metadata``
    unless ``metadata`` is in ``dataset``) and ``dataset.separator`` (``.`` by default)."""
    default_exclude = [] if dataset is not None and "metadata" in dataset else ["metadata"]
    wanted = list(dataset) if dataset else ["*"]
    excluded = [*dataset_exclude, *default_exclude] if dataset_exclude is not None else default_exclude
    return wanted, excluded, dataset_separator or "."


class RecordColumns(dict):
    """Columns of a pandas-records body (``name → object array``), read without pandas.

    ``backend.run_inference`` takes it like a DataFrame: same columns, same values as
    ``pd.DataFrame.from_records`` would hold for records that all have the same keys.
    """

    @property
    def num_rows(self) -> int:
        return len(next(iter(self.values()))) if self else 0


def frame_from_records(records: list[dict[str, Any]]) -> Any:
    """The request columns of a pandas-records body: :class:`RecordColumns` when every record
    has the same keys (the SDKs' ``to_json(orient="records")``), else a DataFrame (pandas fills
    the gaps with NaN, as the engine's reader would see them)."""
    if not records:
        return RecordColumns()
    if type(records[0]) is not dict:
        raise invalid("a pandas-records body must be a JSON array of objects")
    keys = list(records[0])
    first = records[0].keys()
    if any(type(r) is not dict or r.keys() != first for r in records):
        if not all(isinstance(r, dict) for r in records):
            raise invalid("a pandas-records body must be a JSON array of objects")
        import pandas as pd

        return pd.DataFrame.from_records(records)
    columns = RecordColumns()
    for key in keys:
        columns[str(key)] = _object_array([r[key] for r in records])
    return columns


def frame_from_json(tensor: Any) -> Any:
    """The DataFrame the engine reads from a JSON body: a list of records, one record, or a
    dict of equally long column lists (pandas' ``columns`` orientation)."""
    import pandas as pd

    if isinstance(tensor, dict):
        columnar = tensor and all(isinstance(v, list) for v in tensor.values()) and "tensor" not in tensor
        return pd.DataFrame(tensor) if columnar else pd.DataFrame.from_records([tensor])
    if isinstance(tensor, list) and all(isinstance(r, dict) for r in tensor):
        return pd.DataFrame.from_records(tensor)
    raise invalid("the JSON body must be a list of records, a record, or a dict of column lists")


def _rename(name: str, separator: str | None) -> str:
    sep = separator or "."
    return name.replace(".", sep, 1) if sep != "." else name


def _repeat(value: Any, n: int) -> np.ndarray:
    column = np.empty(n, dtype=object)
    for i in range(n):  # one small object per row: only when metadata is asked for
        column[i] = list(value) if isinstance(value, list) else value
    return column


def _plain_rows(value: Any) -> list[Any]:
    """An input column as JSON-able rows (lists of numbers, numbers, strings)."""
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            rows = value.tolist()
            if rows and type(rows[0]) is list:  # echoed JSON lists: JSON-able as they are
                return rows
            return [v.tolist() if isinstance(v, np.ndarray) else v.item() if isinstance(v, np.generic) else v
                    for v in rows]
        return _rows_as_lists(value).tolist() if value.ndim > 1 else value.tolist()
    return value.to_pylist()  # a pyarrow Array
