"""Activation datasets on disk: parquet with a FixedSizeList<float32> vector column.

Vectors are read by flattening the Arrow buffer into numpy, never through Python lists, so a
large dataset costs one copy and no garbage-collector stalls.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .errors import NLAError
from .files import DERIVED_SUFFIXES, atomic_write, content_digest, made_here, read_json, write_json
from .progress import note
from .sidecar import SIDECAR_NAME, Sidecar, check_vectors

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
    """Write a split's parquet; the vector cache built from the file it replaces (`vector_store`) goes with it, so that a
    stage rewriting a split (teach) leaves no stale cache to be noted and rebuilt later."""
    atomic_write(path, lambda tmp: pq.write_table(table, tmp))
    for suffix in DERIVED_SUFFIXES:
        Path(path).with_name(Path(path).stem + suffix).unlink(missing_ok=True)


def vectors(table: pa.Table, where: str = "the table") -> np.ndarray:
    """The `activation_vector` column as float32 [N, d]: a FixedSizeList (as nlakit and the release write it), or a
    list column whose rows all have one width (a parquet made elsewhere); anything else is refused, naming `where`."""
    if VECTOR not in table.column_names:
        raise NLAError(f"{where} has no `{VECTOR}` column (columns: {', '.join(table.column_names) or 'none'})")
    column = table.column(VECTOR).combine_chunks()
    if pa.types.is_fixed_size_list(column.type):
        width = column.type.list_size
    elif pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        lengths = set(pc.list_value_length(column).to_pylist())
        if None in lengths:
            raise NLAError(f"{where}: `{VECTOR}` has empty (null) rows")
        if len(lengths) > 1:
            raise NLAError(f"{where}: `{VECTOR}` rows have different widths {sorted(lengths)[:5]}")
        width = lengths.pop() if lengths else 0
    else:
        raise NLAError(f"{where}: `{VECTOR}` must be a list of floats per row (FixedSizeList<float32>), got {column.type}")
    if column.null_count:
        raise NLAError(f"{where}: `{VECTOR}` has empty (null) rows")
    try:
        flat = column.flatten().to_numpy(zero_copy_only=False).astype(np.float32)
    except (pa.ArrowInvalid, TypeError, ValueError) as err:
        raise NLAError(f"{where}: `{VECTOR}` does not hold numbers ({column.type}): {err}") from None
    return flat.reshape(-1, width) if width else np.zeros((len(column), 0), np.float32)


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
    with_width(meta, path)
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


def vector_width(path: Path) -> int | None:
    """The width of a parquet's FixedSizeList vector column, from its schema alone (None: no such column)."""
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as err:
        raise NLAError(f"corrupt parquet file {path}: {err}") from err
    kind = schema.field(VECTOR).type if VECTOR in schema.names else None
    return kind.list_size if kind is not None and pa.types.is_fixed_size_list(kind) else None


def with_width(meta: Sidecar, parquet: Path) -> Sidecar:
    """`meta` with its d_model: an official dataset sidecar records none (the release keeps it in the vectors' type), so
    it is read from `parquet`'s vector column; a recorded one is left alone (a mismatch is refused where vectors are read)."""
    if meta.d_model is None:
        meta.d_model = vector_width(parquet)
        if meta.d_model is None:
            raise NLAError(f"the sidecar of {parquet} records no d_model, and {parquet} has no FixedSizeList `{VECTOR}` column to read it from")
    return meta


def parquet_sidecar(parquet: Path) -> Sidecar:
    """The release's sidecar of one parquet (`<file>.parquet.nla_meta.yaml`), its d_model read from the vectors if absent."""
    parquet = Path(parquet)
    return with_width(Sidecar.load(parquet.with_name(parquet.name + "." + SIDECAR_NAME)), parquet)


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
    The cache is keyed on the parquet's contents (`<split>.vectors.json`), not its date, and on the cache
    file itself (made_here): a cache copied or received with a folder is rebuilt, so a planted one (zeros,
    say) never becomes training data.
    """
    folder = Path(folder)
    meta = Sidecar.load(folder)
    parquet, cache, key = folder / f"{split}.parquet", folder / f"{split}.vectors.npy", folder / f"{split}.vectors.json"
    if not parquet.exists():
        raise NLAError(f"missing {parquet}: run `nlakit extract` first")
    with_width(meta, parquet)
    digest = content_digest(parquet)
    recorded = read_json(key, "vector cache key") if key.exists() else None
    if not cache.exists() or recorded != _cache_key(cache, digest):
        if cache.exists():
            note(f"{cache} was not made here from this {parquet.name} (copied, received or stale): rebuilding it")
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
        write_json(key, _cache_key(cache, digest))
    return np.load(cache, mmap_mode="r")


def _cache_key(cache: Path, digest: str) -> dict:
    """What a vector cache was made from (the parquet's digest) and which file it is (made here, its size)."""
    return {"parquet": digest, "cache": [*made_here(cache), cache.stat().st_size] if cache.exists() else None}


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
