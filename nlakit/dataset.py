"""Activation datasets on disk: parquet with a FixedSizeList<float32> vector column.

Vectors are read by flattening the Arrow buffer into numpy, never through Python lists, so a
large dataset costs one copy and no garbage-collector stalls.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import NLAError
from .files import atomic_write, content_digest, read_json, write_json
from .sidecar import Sidecar, check_vectors

VECTOR = "activation_vector"
EXPLANATION = "explanation"
SPLITS = ("train", "heldout")


def write_rows(path: Path, rows: list[dict], d_model: int) -> None:
    """Write rows (dicts with an `activation_vector` array) as parquet, atomically."""
    columns = {k: [r[k] for r in rows] for k in (rows[0] if rows else {}) if k != VECTOR}
    flat = np.concatenate([np.asarray(r[VECTOR], np.float32) for r in rows]) if rows else np.zeros(0, np.float32)
    vectors = pa.FixedSizeListArray.from_arrays(pa.array(flat, pa.float32()), d_model)
    table = pa.table({**columns, VECTOR: vectors})
    atomic_write(path, lambda tmp: pq.write_table(table, tmp))


def write_table(path: Path, table: pa.Table) -> None:
    atomic_write(path, lambda tmp: pq.write_table(table, tmp))


def vectors(table: pa.Table) -> np.ndarray:
    column = table.column(VECTOR).combine_chunks()
    width = column.type.list_size if pa.types.is_fixed_size_list(column.type) else None
    if width is None:
        raise NLAError(f"`{VECTOR}` must be a FixedSizeList<float32> column, got {column.type}")
    return column.flatten().to_numpy(zero_copy_only=False).astype(np.float32).reshape(-1, width)


def read_split(folder: Path, split: str = "train", columns: list[str] | None = None) -> tuple[pa.Table, Sidecar]:
    """One split of a dataset folder plus its sidecar, with the vectors checked against it.

    `columns`: read only those of them the file has (the vectors are then not read or checked).
    """
    folder = Path(folder)
    if split not in SPLITS:
        raise NLAError(f"unknown split {split!r}; expected one of {SPLITS}")
    meta = Sidecar.load(folder)
    path = folder / f"{split}.parquet"
    if not path.exists():
        raise NLAError(f"missing {path}: run `nlakit extract` first")
    try:
        present = pq.read_schema(path).names
        table = pq.read_table(path, columns=None if columns is None else [c for c in columns if c in present])
    except (pa.ArrowInvalid, OSError) as err:
        raise NLAError(f"corrupt parquet file {path}: {err}") from err
    if columns is None:
        if VECTOR not in table.column_names:
            raise NLAError(f"{path} has no `{VECTOR}` column")
        check_vectors(vectors(table), meta.d_model, f"vectors in {path}")
    return table, meta


def explanations(table: pa.Table, path_hint: str = "dataset") -> list[str]:
    if EXPLANATION not in table.column_names:
        raise NLAError(f"{path_hint} has no `{EXPLANATION}` column: run `nlakit teach` first")
    values = table.column(EXPLANATION).to_pylist()
    missing = [i for i, x in enumerate(values) if not isinstance(x, str) or not x.strip()]
    if missing:
        raise NLAError(f"{path_hint}: {len(missing)} rows have no explanation (first: row {missing[0]}): run `nlakit teach` again")
    return values


def vector_store(folder: Path, split: str = "train") -> np.ndarray:
    """A split's vectors as a read-only memory map, `<split>.vectors.npy` beside the parquet.

    Built once by streaming the parquet in record batches (each checked for width and NaN), so
    neither building nor training holds the whole matrix in memory: a batch reads only its rows.
    The cache is keyed on the parquet's contents (`<split>.vectors.json`), not its date.
    """
    folder = Path(folder)
    meta = Sidecar.load(folder)
    parquet, cache, key = folder / f"{split}.parquet", folder / f"{split}.vectors.npy", folder / f"{split}.vectors.json"
    if not parquet.exists():
        raise NLAError(f"missing {parquet}: run `nlakit extract` first")
    digest = content_digest(parquet)
    if not cache.exists() or not key.exists() or read_json(key, "vector cache key").get("parquet") != digest:
        try:
            source = pq.ParquetFile(parquet)
        except (pa.ArrowInvalid, OSError) as err:
            raise NLAError(f"corrupt parquet file {parquet}: {err}") from err

        def write(tmp: Path) -> None:
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(source.metadata.num_rows, meta.d_model))
            start = 0
            for batch in source.iter_batches(batch_size=8192, columns=[VECTOR]):
                chunk = check_vectors(vectors(pa.Table.from_batches([batch])), meta.d_model, f"vectors in {parquet}")
                out[start : start + len(chunk)] = chunk
                start += len(chunk)
            out.flush()

        atomic_write(cache, write)
        write_json(key, {"parquet": digest})
    return np.load(cache, mmap_mode="r")


def rows(store: np.ndarray, index: list[int] | np.ndarray) -> np.ndarray:
    """Rows of a vector store as an ordinary in-memory float32 array."""
    return np.asarray(store[np.asarray(index, dtype=np.int64)], dtype=np.float32)


def training_pairs(folder: Path, eval_rows: int) -> tuple[list[str], np.ndarray, list[str], np.ndarray, Sidecar]:
    """Explanations and the memory-mapped vectors of the train split, the first `eval_rows` held-out pairs, the sidecar."""
    train, meta = read_split(folder, "train", [EXPLANATION])
    held, _ = read_split(folder, "heldout", [EXPLANATION])
    held_vectors = vector_store(folder, "heldout")
    return (explanations(train, str(folder)), vector_store(folder, "train"), explanations(held, str(folder))[:eval_rows],
            rows(held_vectors, range(min(eval_rows, len(held_vectors)))), meta)
