"""`save` and `load`: checkpoints as plain ``.npz`` files, never pickle.

    tinygrad_lstm.save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 7}, "ckpt.npz")
    ckpt = tinygrad_lstm.load("ckpt.npz")

What can be saved: ndarrays (not of dtype object), numpy scalars, Tensors, and Python None, bool, int,
float, str, list, tuple and dict (keys: any of those scalars, or tuples of them), nested freely. `load` gives
back the same structure: tuples stay tuples, int dict keys stay ints, float32 arrays stay float32, a Tensor
comes back as a Tensor (with its ``requires_grad`` and ``name``; a new leaf, without ``.grad``).

The file is an ordinary ``.npz`` (a zip of ``.npy`` files, readable with ``numpy.load``): one entry per array,
named after where it sits (``state/0/exp_avg``), plus an entry ``__tinygrad_lstm__`` holding the structure as
UTF-8 JSON in a uint8 array. Loading never unpickles anything, so opening a checkpoint cannot run code.

Saving is atomic: the file is written to a temporary file in the same directory, flushed to disk, and renamed
over the destination, so a crash mid-save leaves the previous checkpoint intact. The temporary file is deleted if
the save fails; one left by a process killed mid-save is deleted by the next save of the same path. A file that is
truncated, corrupt, or not written by `save` raises `CheckpointError` (a ValueError) naming the path and the problem.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import time
import zipfile
import zlib
from typing import IO, Any

import numpy as np

from .tensor import Tensor

__all__ = ["CheckpointError", "load", "save"]

MANIFEST = "__tinygrad_lstm__"
FORMAT = "tinygrad_lstm.checkpoint"
VERSION = 1

_SCALARS = (type(None), bool, int, float, str)
_TAGS = ("$array", "$scalar", "$tensor", "$tuple", "$dict")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]")


class CheckpointError(ValueError):
    """A file that `load` can't read: truncated, corrupt, or not a checkpoint written by `save`."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


# ----- save ------------------------------------------------------------------------------------------------
class _Encoder:
    """Turns a nested structure into JSON-able data, collecting its arrays (by entry name) on the side."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def _entry(self, parts: list[str], arr: np.ndarray) -> str:
        base = "/".join(_UNSAFE.sub("_", p) for p in parts) or "array"
        name, n = base, 1
        while name in self.arrays or name.startswith(MANIFEST):
            name, n = f"{base}~{n}", n + 1
        self.arrays[name] = arr
        return name

    def encode(self, obj: Any, parts: list[str], where: str) -> Any:
        if isinstance(obj, _SCALARS) and not isinstance(obj, np.generic):  # np.float64 is a float subclass
            return obj
        if isinstance(obj, np.ndarray):
            if obj.dtype.hasobject:
                raise TypeError(f"save: can't save an array of dtype {obj.dtype} at {where} "
                                "(it would need pickle)")
            return {"$array": self._entry(parts, np.asarray(obj))}
        if isinstance(obj, np.generic):
            if obj.dtype.hasobject:
                raise TypeError(f"save: can't save a numpy {type(obj).__name__} at {where}")
            return {"$scalar": self._entry(parts, np.asarray(obj))}
        if isinstance(obj, Tensor):
            return {"$tensor": self._entry(parts, obj.data), "requires_grad": obj.requires_grad,
                    "name": obj.name}
        if isinstance(obj, list):
            return [self.encode(v, [*parts, str(i)], f"{where}[{i}]") for i, v in enumerate(obj)]
        if isinstance(obj, tuple):
            return {"$tuple": [self.encode(v, [*parts, str(i)], f"{where}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, dict):
            items = []
            for k, v in obj.items():
                if not _is_key(k):
                    raise TypeError(f"save: can't save the dict key {k!r} ({type(k).__name__}) in {where}; "
                                    "keys must be None, bool, int, float, str, numpy scalars or tuples")
                items.append([self.encode(k, [], where), self.encode(v, [*parts, str(k)], f"{where}[{k!r}]")])
            return {"$dict": items}
        raise TypeError(f"save: can't save a {type(obj).__name__} at {where}; a checkpoint holds ndarrays, "
                        "Tensors, numpy scalars, None, bool, int, float, str, and lists, tuples and dicts "
                        "of them")


def _is_key(k: Any) -> bool:
    return isinstance(k, (*_SCALARS, np.generic)) or (isinstance(k, tuple) and all(_is_key(x) for x in k))


def _write_npz(f: IO[bytes], arrays: dict[str, np.ndarray]) -> None:
    """Write `arrays` as an uncompressed .npz (what ``numpy.savez`` writes) to the open binary file `f`."""
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, arr in arrays.items():
            with zf.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, arr, allow_pickle=False)


def save(obj: Any, path: str | os.PathLike[str]) -> None:
    """Save a state_dict (or any nesting of dicts/lists/tuples of arrays and plain values) to `path`.

    Atomic: the previous file at `path`, if any, is replaced only once the new one is completely on disk.
    The exact path is used, even if it doesn't end in ``.npz``.
    """
    path = os.fspath(path)
    enc = _Encoder()
    root = enc.encode(obj, [], "obj")
    manifest = json.dumps({"format": FORMAT, "version": VERSION, "root": root}, separators=(",", ":"))
    arrays = {MANIFEST: np.frombuffer(manifest.encode("utf-8"), dtype=np.uint8), **enc.arrays}

    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"save: can't write {path}: directory {directory} does not exist")
    base = os.path.basename(path)
    _remove_stale_temps(directory, base)
    while True:
        tmp = os.path.join(directory, f".{base}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as f:
            _write_npz(f, arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)


def _remove_stale_temps(directory: str, base: str) -> None:
    """Delete temp files that earlier saves of the same target left behind when their process was killed
    mid-write (no ``except`` runs on SIGKILL). A temp file names its writer's pid: it is stale once that process
    is gone. Still-running writers (another process saving the same path right now) are left alone."""
    pattern = re.compile(re.escape(f".{base}.") + r"(?:(\d+)-)?[0-9a-f]{8}\.tmp")
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        m = pattern.fullmatch(name)
        if m is None:
            continue
        full = os.path.join(directory, name)
        with contextlib.suppress(OSError):
            if m.group(1) is None:  # written by a version without the pid: stale after a minute
                stale = time.time() - os.path.getmtime(full) > 60
            else:
                stale = not _alive(int(m.group(1)))
            if stale:
                os.unlink(full)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # ours: another thread of this process may be writing it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but belongs to someone else (PermissionError), or can't tell: keep the file
        return True
    return True


def _fsync_dir(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories can't be opened (Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ----- load ------------------------------------------------------------------------------------------------
def _sniff(path: str, head: bytes) -> None:
    """Raise CheckpointError unless `head` (the file's first bytes) starts a zip archive."""
    if not head:
        raise CheckpointError(path, "the file is empty (was a save interrupted?)")
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return
    if head.startswith(b"\x93NUMPY"):
        raise CheckpointError(path, "this is a single-array .npy file, not a tinygrad_lstm checkpoint "
                                    "(read it with numpy.load)")
    if head[:1] == b"\x80":
        raise CheckpointError(path, "this looks like a pickle file; tinygrad_lstm checkpoints are .npz files "
                                    "and load never unpickles (unpickling can run arbitrary code)")
    raise CheckpointError(path, f"not a tinygrad_lstm checkpoint: not an .npz (zip) file (it starts with "
                                f"{head[:8]!r})")


class _Decoder:
    def __init__(self, path: str, npz: Any) -> None:
        self.path, self.npz, self.files = path, npz, set(npz.files)

    def array(self, name: Any) -> np.ndarray:
        if not isinstance(name, str) or name not in self.files:
            raise CheckpointError(self.path, f"corrupt checkpoint: the manifest names an array {name!r} "
                                             "that is not in the file")
        return self.npz[name]

    def decode(self, x: Any) -> Any:
        if isinstance(x, _SCALARS):
            return x
        if isinstance(x, list):
            return [self.decode(v) for v in x]
        if isinstance(x, dict):
            tag = next((t for t in _TAGS if t in x), None)
            if tag == "$array":
                return self.array(x[tag])
            if tag == "$scalar":
                return self.array(x[tag])[()]
            if tag == "$tensor":
                data = self.array(x[tag])
                return Tensor(data, requires_grad=bool(x.get("requires_grad")), name=x.get("name"))
            if tag == "$tuple" and isinstance(x[tag], list):
                return tuple(self.decode(v) for v in x[tag])
            if tag == "$dict" and isinstance(x[tag], list):
                out = {}
                for item in x[tag]:
                    if not (isinstance(item, list) and len(item) == 2):
                        break
                    key = self.decode(item[0])
                    out[key] = self.decode(item[1])
                else:
                    return out
        raise CheckpointError(self.path, f"corrupt checkpoint: unexpected manifest entry {str(x)[:80]}")


def load(path: str | os.PathLike[str]) -> Any:
    """Load what `save` wrote to `path`: the same nesting of dicts, lists, tuples, arrays and plain values.

    Raises FileNotFoundError if there is no file, and CheckpointError if it is not a complete checkpoint
    written by `save` (truncated, corrupt, a pickle, an .npz from elsewhere, ...).
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        _sniff(path, f.read(8))
        f.seek(0)
        try:
            with np.load(f, allow_pickle=False) as npz:
                return _Decoder(path, npz).decode(_manifest(path, npz)["root"])
        except CheckpointError:
            raise
        except (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError, KeyError) as e:
            raise CheckpointError(path, f"truncated or corrupt checkpoint ({type(e).__name__}: {e})") from e


def _manifest(path: str, npz: Any) -> dict[str, Any]:
    if MANIFEST not in npz.files:
        if any(n.endswith(".pkl") for n in npz.files):
            what = "a zip file holding pickles (a PyTorch torch.save file?)"
        else:
            names = ", ".join(npz.files[:5]) + (", ..." if len(npz.files) > 5 else "")
            what = f"an .npz file not written by tinygrad_lstm.save (entries: {names or 'none'})"
        raise CheckpointError(path, f"not a tinygrad_lstm checkpoint: {what}; it has no {MANIFEST!r} entry")
    raw = npz[MANIFEST]
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise CheckpointError(path, "corrupt checkpoint: the manifest entry is not a uint8 vector")
    try:
        manifest = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(path, f"corrupt checkpoint: unreadable manifest ({e})") from e
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or "root" not in manifest:
        raise CheckpointError(path, "not a tinygrad_lstm checkpoint: the manifest has the wrong format tag")
    version = manifest.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise CheckpointError(path, f"checkpoint format version {version!r} is newer than this tinygrad_lstm "
                                    f"reads (version {VERSION}); upgrade tinygrad_lstm")
    return manifest
