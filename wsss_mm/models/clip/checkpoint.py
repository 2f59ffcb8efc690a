"""Read OpenAI's CLIP files without running their code.

OpenAI released CLIP as TorchScript archives (``ViT-B-16.pt``): a zip holding
``<root>/data.pkl`` (the pickled module tree), ``<root>/data/<n>`` (raw tensor
storages) and ``<root>/code/`` (TorchScript code). ``torch.jit.load`` would compile and
run that code, and ``torch.load(weights_only=True)`` refuses TorchScript archives, so
:func:`read_torchscript_tensors` unpickles ``data.pkl`` with an unpickler that resolves
only the names a module tree needs (every ``__torch__`` class becomes a plain attribute
holder; tensors are rebuilt from the raw storages by our own function) and refuses
everything else by name. Plain state dicts go through ``torch.load(weights_only=True)``.
"""
import pickle
import zipfile
from typing import Any, Dict, Tuple

import torch
from torch import Tensor

__all__ = ['read_torchscript_tensors', 'read_clip_state_dict']

#: storage class name of a TorchScript pickle -> dtype
_STORAGE_DTYPES = {
    'FloatStorage': torch.float32, 'HalfStorage': torch.float16, 'DoubleStorage': torch.float64,
    'BFloat16Storage': torch.bfloat16, 'LongStorage': torch.int64, 'IntStorage': torch.int32,
    'ShortStorage': torch.int16, 'CharStorage': torch.int8, 'ByteStorage': torch.uint8,
    'BoolStorage': torch.bool
}


class _ScriptObject:
    """The pickled state of one TorchScript object (a module): its attributes, no code."""

    def __setstate__(self, state: Any) -> None:
        self.state = state


def _rebuild_tensor(storage: Tensor, offset: int, size: Tuple[int, ...],
                    stride: Tuple[int, ...], *_: Any) -> Tensor:
    """A tensor viewing a flat storage (``torch._utils._rebuild_tensor_v2``'s arguments)."""
    return torch.as_strided(storage, tuple(size), tuple(stride), offset).clone()


def _identity(value: Any, *_: Any) -> Any:
    """``torch.jit._pickle``'s list builders and type tags: the value itself."""
    return value


_JIT_PICKLE_HELPERS = ('build_intlist', 'build_doublelist', 'build_boollist',
                       'build_tensorlist', 'build_genericlist', 'restore_type_tag')


class _ModuleTreeUnpickler(pickle.Unpickler):
    """Unpickles a TorchScript ``data.pkl``; storages are read from the archive."""

    def __init__(self, file, archive: zipfile.ZipFile, root: str, path: str) -> None:
        super().__init__(file)
        self.archive, self.root, self.path = archive, root, path
        self.classes: Dict[str, type] = {}

    def find_class(self, module: str, name: str) -> Any:
        if module.startswith('__torch__'):
            qualified = f'{module}.{name}'
            if qualified not in self.classes:
                self.classes[qualified] = type(name, (_ScriptObject, ), {})
            return self.classes[qualified]
        if module == 'torch._utils' and name == '_rebuild_tensor_v2':
            return _rebuild_tensor
        if module == 'torch' and name in _STORAGE_DTYPES:
            return _STORAGE_DTYPES[name]
        if module == 'torch.jit._pickle' and name in _JIT_PICKLE_HELPERS:
            return _identity
        if module == 'collections' and name == 'OrderedDict':
            return dict
        raise pickle.UnpicklingError(f'{self.path}: refusing to load {module}.{name} (only a '
                                     f'TorchScript module tree of tensors is read)')

    def persistent_load(self, pid: Any) -> Tensor:
        if not (isinstance(pid, tuple) and len(pid) >= 3 and pid[0] == 'storage'
                and isinstance(pid[1], torch.dtype)):
            raise pickle.UnpicklingError(f'{self.path}: unknown persistent id {pid!r}')
        dtype, key = pid[1], str(pid[2])
        data = bytearray(self.archive.read(f'{self.root}/data/{key}'))
        if not data:
            return torch.empty(0, dtype=dtype)
        return torch.frombuffer(data, dtype=dtype)


def _flatten(obj: Any, prefix: str, out: Dict[str, Tensor]) -> None:
    """Tensors of a module tree under dotted names (``visual.conv1.weight``)."""
    state = getattr(obj, 'state', None)
    if not isinstance(state, dict):
        return
    for name, value in state.items():
        if isinstance(value, Tensor):
            out[prefix + name] = value
        elif isinstance(value, _ScriptObject):
            _flatten(value, f'{prefix}{name}.', out)


def read_torchscript_tensors(path: str) -> Dict[str, Tensor]:
    """All tensors of a TorchScript archive's module tree, by dotted name; no code is run."""
    with zipfile.ZipFile(path) as archive:
        pickles = [n for n in archive.namelist() if n.endswith('/data.pkl') and n.count('/') == 1]
        if len(pickles) != 1:
            raise ValueError(f'{path}: not a TorchScript archive (no single <root>/data.pkl)')
        root = pickles[0].split('/')[0]
        with archive.open(pickles[0]) as f:
            tree = _ModuleTreeUnpickler(f, archive, root, path).load()
    tensors: Dict[str, Tensor] = {}
    _flatten(tree, '', tensors)
    if not tensors:
        raise ValueError(f'{path}: the TorchScript archive holds no module tensors')
    return tensors


def _is_torchscript(path: str) -> bool:
    """A zip whose single top folder has ``data.pkl`` and ``code/`` (TorchScript's layout)."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    return any(n.endswith('/data.pkl') for n in names) and any('/code/' in n for n in names)


def read_clip_state_dict(path: str) -> Dict[str, Tensor]:
    """The tensors of an OpenAI CLIP file: a TorchScript archive or a plain state dict
    (also under ``'state_dict'``), read with weights_only semantics."""
    if _is_torchscript(path):
        return read_torchscript_tensors(path)
    try:
        loaded = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as err:  # unreadable / not a weights-only pickle: name the file
        raise ValueError(f'cannot read CLIP checkpoint {path}: {type(err).__name__}: '
                         f'{err}') from err
    if isinstance(loaded, dict) and isinstance(loaded.get('state_dict'), dict):
        loaded = loaded['state_dict']
    if not isinstance(loaded, dict) or not all(isinstance(v, Tensor) for v in loaded.values()):
        raise ValueError(f'{path}: expected a state dict of tensors, got {type(loaded).__name__}')
    return dict(loaded)
