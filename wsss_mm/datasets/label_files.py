"""Image-level label files of the WSSS field: IRN's ``cls_labels.npy`` and its COCO twin.

IRN (``voc12/make_cls_labels.py``) pickles a dict ``{image id: multi-hot float32 [20]}``
with ``np.save``; VOC ids are stored as integers, ``2007_000032`` -> ``2007000032``
(IRN's ``decode_int_filename`` inverts it). For COCO the keys are the image file
stems (``COCO_train2014_000000000009``), which are not integers. This module reads
both kinds of keys and writes VOC files in IRN's integer form, so files from other
repositories and files written here are interchangeable.

Such a file is a pickle, and unpickling runs whatever the file names. So it is never
given to ``np.load(allow_pickle=True)``: :func:`read_cls_labels` unpickles it with an
allow-list holding only what an IRN label file contains (numpy's array and scalar
reconstruction, ``ndarray``, ``dtype``; dicts, ints and strings are pickle opcodes,
not globals) -- the idea of ``torch.load(weights_only=True)`` -- and then checks the
shape of what it got. Anything else is refused, naming the file and the global.
"""
import io
import pickle
import re
from typing import Dict, Mapping

import numpy as np

from wsss_mm.utils.io import atomic_write_bytes

__all__ = ['read_cls_labels', 'write_cls_labels', 'cls_labels_of', 'encode_voc_id', 'decode_voc_id']

_VOC_ID = re.compile(r'^(\d{4})_(\d{6})$')


def encode_voc_id(img_id: str) -> int:
    """IRN's integer key of a VOC id: ``'2007_000032'`` -> ``2007000032``."""
    if not _VOC_ID.match(img_id):
        raise ValueError(f'{img_id!r} is not a VOC image id (YYYY_NNNNNN)')
    return int(img_id.replace('_', ''))


def decode_voc_id(key: int) -> str:
    """The VOC id of IRN's integer key: ``2007000032`` -> ``'2007_000032'``."""
    text = str(int(key))
    if len(text) != 10:
        raise ValueError(f'{key!r} is not an IRN VOC key (10 digits)')
    return f'{text[:4]}_{text[4:]}'


def _numpy_globals() -> Dict[tuple, object]:
    """``(module, name) -> object`` of the globals a pickled dict of numpy arrays uses."""
    # numpy >= 2 pickles its helpers as numpy._core.multiarray, numpy 1.x as numpy.core
    multiarray = np._core.multiarray if hasattr(np, '_core') else np.core.multiarray
    allowed = {('numpy', 'ndarray'): np.ndarray, ('numpy', 'dtype'): np.dtype}
    for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        allowed[(module, '_reconstruct')] = multiarray._reconstruct
        allowed[(module, 'scalar')] = multiarray.scalar
    return allowed


class _LabelFileUnpickler(pickle.Unpickler):
    """An unpickler that resolves only numpy's array/scalar globals and refuses the rest."""

    def find_class(self, module: str, name: str):
        allowed = _numpy_globals().get((module, name))
        if allowed is None:
            raise pickle.UnpicklingError(
                f'refused: its pickle names the global {module}.{name}, which an image-level '
                'label file never holds (only numpy arrays in a dict are unpickled)')
        return allowed


def _read_pickled_npy(path: str):
    """The object of a ``.npy`` file, unpickled through the allow-list if it is an object array."""
    with open(path, 'rb') as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            _, _, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            _, _, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise ValueError(f'unsupported .npy version {version}')
        if not dtype.hasobject:
            f.seek(0)
            return np.load(f, allow_pickle=False)
        return _LabelFileUnpickler(f).load()


def _label_key(path: str, key) -> str:
    """The image id of a label-file key (IRN's VOC integers or text)."""
    if isinstance(key, (int, np.integer)) and not isinstance(key, (bool, np.bool_)):
        try:
            return decode_voc_id(key)
        except ValueError as err:
            raise ValueError(f'label file {path}: {err}') from err
    if isinstance(key, str):
        return key
    raise ValueError(f'label file {path} has a key {key!r} of type {type(key).__name__}; '
                     'expected an image id (int or str)')


def _label_vector(path: str, img_id: str, value) -> np.ndarray:
    """The float32 multi-hot vector of one entry, refusing non-numeric or non-1-D values."""
    if not (isinstance(value, np.ndarray) and value.ndim == 1
            and (np.issubdtype(value.dtype, np.number) or value.dtype == np.bool_)):
        got = (f'an array of shape {value.shape} and dtype {value.dtype}'
               if isinstance(value, np.ndarray) else type(value).__name__)
        raise ValueError(f'label file {path}: the entry of {img_id} is {got}; '
                         'expected a 1-D numeric multi-hot array')
    return value.astype(np.float32)


def read_cls_labels(path: str) -> Dict[str, np.ndarray]:
    """``{image id: multi-hot float32 [C]}`` from a ``cls_labels.npy`` (integer or text keys).

    The pickle is read through an allow-list (see the module docstring): a file whose
    pickle names any other global (``os.system``, a class) is refused before it runs.
    """
    try:
        data = _read_pickled_npy(path)
    except Exception as err:  # a corrupt pickle raises anything from EOFError to TypeError
        raise ValueError(f'cannot read label file {path}: {err}') from err
    table = data.item() if isinstance(data, np.ndarray) and data.dtype == object \
        and data.shape == () else None
    if not isinstance(table, dict):
        raise ValueError(f'label file {path} holds no {{image id: labels}} dict '
                         f'(got {_describe(data)})')
    labels = {}
    for key, value in table.items():
        img_id = _label_key(path, key)
        labels[img_id] = _label_vector(path, img_id, value)
    return labels


def _describe(data) -> str:
    """Short description of what a label file held instead of a dict."""
    if isinstance(data, np.ndarray):
        return f'an array of shape {data.shape}'
    return f'a {type(data).__name__}'


def cls_labels_of(dataset) -> Dict[str, np.ndarray]:
    """``{image id: gt_label}`` of every image of an image-level dataset."""
    infos = (dataset.get_data_info(i) for i in range(len(dataset)))
    return {info['img_id']: np.asarray(info['gt_label'], np.float32) for info in infos}


def write_cls_labels(path: str, labels: Mapping[str, np.ndarray],
                     integer_voc_keys: bool = False) -> None:
    """Write ``{image id: multi-hot}`` as a ``cls_labels.npy``, atomically.

    The file is IRN's format (a pickled dict, so IRN's ``np.load(allow_pickle=True)``
    reads it); it holds only what :func:`read_cls_labels`'s allow-list accepts.

    Args:
        path: Output ``.npy`` file.
        labels: Image id -> multi-hot labels [C].
        integer_voc_keys: Store VOC ids as IRN's integers (its own file format).
    """
    table = {(encode_voc_id(k) if integer_voc_keys else k): np.asarray(v, dtype=np.float32)
             for k, v in labels.items()}
    buffer = io.BytesIO()
    np.save(buffer, np.array(table, dtype=object), allow_pickle=True)
    atomic_write_bytes(path, buffer.getvalue())
