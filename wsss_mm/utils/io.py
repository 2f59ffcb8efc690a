"""Atomic file writes: a job killed at any moment never leaves a truncated file.

Every writer goes through :func:`atomic_write_bytes`, which writes a temporary
file in the destination directory and renames it over the target
(``os.replace`` is atomic on POSIX within one file system). Files get the usual
permissions (0666 less the umask), as ``open()`` would give them.

Fault injection for the resume tests: with ``WSSS_MM_KILL_AFTER_WRITE=<suffix>`` in
the environment, the process SIGKILLs itself right after the first file whose path
ends with ``<suffix>`` (e.g. ``cams/train_00002.npz``) is in place -- a kill at a
chosen point, with no polling of the file system for it.
"""
import io
import json
import os
import os.path as osp
import secrets
import signal
from typing import Optional, Sequence

import numpy as np
from PIL import Image

#: Name prefix of the temporary files :func:`atomic_write_bytes` renames into place.
TEMP_PREFIX = '.tmp-'
#: Environment variable of the fault-injection kill (see the module docstring).
KILL_AFTER_WRITE_ENV = 'WSSS_MM_KILL_AFTER_WRITE'


def _create_temp(directory: str, name: str):
    """``(fd, path)`` of a new, exclusively created temp file for ``name`` in ``directory``.

    Unlike ``tempfile.mkstemp`` (always 0600) the mode is 0666 less the umask.
    """
    while True:
        tmp = osp.join(directory, f'{TEMP_PREFIX}{secrets.token_hex(6)}-{name}')
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, creating parent directories."""
    directory = osp.dirname(osp.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = _create_temp(directory, osp.basename(path))
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    kill_after = os.environ.get(KILL_AFTER_WRITE_ENV)
    if kill_after and (os.sep + osp.abspath(path)).endswith(os.sep + osp.normpath(kill_after)):
        os.kill(os.getpid(), signal.SIGKILL)


def encode_png(array: np.ndarray, palette: Optional[Sequence[int]] = None) -> bytes:
    """Encode a uint8 array (H×W or H×W×3) as PNG bytes; ``palette`` makes a 'P' image."""
    if array.dtype != np.uint8:
        raise TypeError(f'PNG arrays must be uint8, got {array.dtype}')
    image = Image.fromarray(array)
    if palette is not None:
        if array.ndim != 2:
            raise ValueError('a palette PNG needs a 2-D label array')
        image = image.convert('P')
        image.putpalette(list(palette))
    buffer = io.BytesIO()
    image.save(buffer, format='PNG')
    return buffer.getvalue()


def save_png_atomic(path: str, array: np.ndarray,
                    palette: Optional[Sequence[int]] = None) -> None:
    """Save a uint8 image or label map as PNG, atomically."""
    atomic_write_bytes(path, encode_png(array, palette))


def save_npz_atomic(path: str, **arrays: np.ndarray) -> None:
    """Save arrays into a compressed ``.npz`` file, atomically."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def save_json_atomic(path: str, obj: object) -> None:
    """Save a JSON-serialisable object (indented), atomically."""
    atomic_write_bytes(path, json.dumps(obj, indent=2).encode('utf-8'))


def remove_stale_temp_files(folder: str) -> None:
    """Delete temp files that a killed writer left in ``folder`` (never an output)."""
    if osp.isdir(folder):
        for name in os.listdir(folder):
            if name.startswith(TEMP_PREFIX):
                os.remove(osp.join(folder, name))
