"""Records of what made a stage's files: the key of each stage folder as a cache.

A stage folder (``cams/``, ``saliency/``, ``pseudo_labels/`` ... of a work dir, a
convert_coco output, a demo stage) holds one record, ``<folder>/.stage_record.json``,
written when the stage starts (after the inputs are checked, before any file)::

  {"stage": "cam",
   "depends": {"config": {...},            # the config values the stage reads, sorted keys
               "checkpoints": {"classifier": "sha256:..."},   # bytes of every file read
               "upstream": {"cam": "sha256:..."},             # digests of upstream records
               "split": "sha256:... (N images)",              # the image ids, in order
               "code_version": "0.1.0"},
   "info": {...}}                          # paths, config file: shown, never compared

Only ``depends`` decides: :func:`record_digest` hashes it (the record's identity, which
downstream records store) and :func:`diff_records` lists how two records differ, one
readable line per value (``refiner.bg_threshold: 0.15 -> 0.3``). Paths are ``info``: a
checkpoint moved elsewhere with the same bytes is the same input. Like DVC's
``dvc.lock``; :func:`stage_state` tells a tool whether to resume, start, or stop.
"""
import hashlib
import json
import os
import os.path as osp
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from wsss_mm.utils.io import TEMP_PREFIX, save_json_atomic
from wsss_mm.version import __version__

__all__ = [
    'RECORD_FILE', 'normalize', 'fingerprint_file', 'split_digest', 'make_record',
    'record_digest', 'read_record', 'write_record', 'diff_records', 'stage_files',
    'stage_state', 'clear_stage', 'pseudo_stage_config', 'config_differences'
]

#: name of the record inside its stage folder (a dot file: never an image id's output)
RECORD_FILE = '.stage_record.json'

_FINGERPRINTS: Dict[Tuple[str, int, int], str] = {}


def normalize(value: Any) -> Any:
    """A config value as plain JSON: mappings with sorted string keys, tuples as lists,
    classes by their import path (``type=MyClass`` in a config), anything else by repr."""
    if isinstance(value, Mapping):
        return {str(k): normalize(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [normalize(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, type):
        return f'{value.__module__}.{value.__qualname__}'
    return repr(value)


def fingerprint_file(path: str) -> str:
    """``'sha256:<hex>'`` of a file's bytes (cached per path, size and mtime).

    Raises:
        FileNotFoundError: naming the path.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint {path} does not exist')
    stat = os.stat(path)
    key = (osp.realpath(path), stat.st_size, stat.st_mtime_ns)
    if key not in _FINGERPRINTS:
        sha = hashlib.sha256()
        with open(path, 'rb') as f:
            for block in iter(lambda: f.read(1 << 20), b''):
                sha.update(block)
        _FINGERPRINTS[key] = 'sha256:' + sha.hexdigest()
    return _FINGERPRINTS[key]


def split_digest(ids: Sequence[str]) -> str:
    """The image ids of a split (in order) as ``'sha256:<hex> (N images)'``."""
    sha = hashlib.sha256('\n'.join(ids).encode('utf-8')).hexdigest()
    return f'sha256:{sha} ({len(ids)} images)'


def make_record(stage: str, config: Mapping[str, Any],
                checkpoints: Optional[Mapping[str, Optional[str]]] = None,
                upstream: Optional[Mapping[str, Optional[str]]] = None,
                split_ids: Optional[Sequence[str]] = None,
                info: Optional[Mapping[str, Any]] = None) -> dict:
    """The record of one stage.

    Args:
        stage: Its name (e.g. a :class:`~wsss_mm.io.WorkDirLayout` stage).
        config: The config values the stage reads (top-level key -> value).
        checkpoints: name -> path of every file the stage reads weights (or data) from;
            a None path is recorded as None (e.g. no checkpoint: random weights).
        upstream: name -> :func:`record_digest` of each stage whose files it reads.
        split_ids: The image ids it covers.
        info: Shown with the record, never compared (e.g. the config file).
    """
    checkpoints = dict(checkpoints or {})
    paths = {name: path for name, path in checkpoints.items() if path}
    return dict(
        stage=stage,
        depends=dict(config=normalize(config),
                     checkpoints={name: fingerprint_file(path) if path else None
                                  for name, path in sorted(checkpoints.items())},
                     upstream=normalize(dict(upstream or {})),
                     split=None if split_ids is None else split_digest(split_ids),
                     code_version=__version__),
        info=normalize(dict(info or {}, checkpoint_paths=paths)))


def record_digest(record: Optional[Mapping]) -> Optional[str]:
    """``'sha256:<hex>'`` of a record's ``depends`` (canonical JSON); None for None."""
    if record is None:
        return None
    text = json.dumps(record['depends'], sort_keys=True, separators=(',', ':'))
    return 'sha256:' + hashlib.sha256(text.encode('utf-8')).hexdigest()


def read_record(folder: str) -> Optional[dict]:
    """The record of a stage folder, or None where it has none.

    Raises:
        ValueError: naming the file, when it is not a record.
    """
    path = osp.join(folder, RECORD_FILE)
    if not osp.isfile(path):
        return None
    try:
        with open(path, encoding='utf-8') as f:
            record = json.load(f)
    except (OSError, ValueError) as err:
        raise ValueError(f'cannot read the stage record {path}: {err}') from err
    if not isinstance(record, dict) or not isinstance(record.get('depends'), dict):
        raise ValueError(f'{path} is not a stage record (no "depends")')
    return record


def write_record(folder: str, record: Mapping) -> None:
    """Store a record in its stage folder (atomically; creates the folder)."""
    save_json_atomic(osp.join(folder, RECORD_FILE), record)


def _flatten(value: Any, prefix: str, out: Dict[str, Any]) -> None:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _flatten(item, f'{prefix}.{key}' if prefix else key, out)
    else:
        out[prefix] = value


_ABSENT = object()


def _short(value: Any) -> str:
    """A value as a difference line shows it (digests shortened)."""
    if value is _ABSENT:
        return '(absent)'
    if isinstance(value, str) and value.startswith('sha256:'):
        digest, _, rest = value[len('sha256:'):].partition(' ')
        return f'sha256 {digest[:12]}..' + (f' {rest}' if rest else '')
    return json.dumps(value)


_SECTIONS = (('config', '{key}'), ('checkpoints', '{key} checkpoint'),
             ('upstream', 'upstream {key} record'), ('split', 'split (image ids)'),
             ('code_version', 'code version'))


def diff_records(old: Mapping, new: Mapping) -> List[str]:
    """How ``new``'s inputs differ from ``old``'s, one line per value::

        refiner.bg_threshold: 0.15 -> 0.3
        classifier checkpoint: sha256 ab12.. -> sha256 cd34..
    """
    lines = []
    for section, label in _SECTIONS:
        before, after = {}, {}
        _flatten(old['depends'].get(section), '', before)
        _flatten(new['depends'].get(section), '', after)
        for key in sorted(set(before) | set(after)):
            a, b = before.get(key, _ABSENT), after.get(key, _ABSENT)
            if a != b:
                lines.append(f'{label.format(key=key)}: {_short(a)} -> {_short(b)}')
    return lines


def stage_files(folder: str) -> List[str]:
    """Names of the outputs in a stage folder (not its record, not temp files)."""
    if not osp.isdir(folder):
        return []
    return sorted(n for n in os.listdir(folder)
                  if n != RECORD_FILE and not n.startswith(TEMP_PREFIX))


def stage_state(folder: str, record: Mapping) -> Tuple[str, List[str]]:
    """Compare a stage's new record with the one its folder holds.

    Returns:
        ``('new', [])``: no outputs and no record; ``('same', [])``: the records match
        (resume); ``('changed', differences)``; ``('unrecorded', [])``: outputs made
        without a record (an older version of the tool, or by hand).
    """
    stored = read_record(folder)
    if stored is None:
        return ('unrecorded', []) if stage_files(folder) else ('new', [])
    if record_digest(stored) == record_digest(record):
        return 'same', []
    return 'changed', diff_records(stored, record)


def clear_stage(folder: str) -> int:
    """Delete a stage's outputs (the files directly in its folder) and its record;
    sub-folders and anything else are left alone. Returns the number of files deleted."""
    count = 0
    if osp.isdir(folder):
        for name in os.listdir(folder):
            path = osp.join(folder, name)
            if osp.isfile(path) or osp.islink(path):
                os.remove(path)
                count += name != RECORD_FILE
    return count


def pseudo_stage_config(cfg: Mapping, stage: str, cue_of_seeds: Optional[str] = None) -> dict:
    """The config values one stage of ``tools/gen_pseudo.py`` reads.

    Args:
        cfg: The pseudo-label config (after ``--cfg-options``).
        stage: ``'cam'`` (``model`` and every ``cam_*`` key: ``cam_generator``,
            ``cam_input_size`` ...), a cue name (its ``<cue>_*`` keys, e.g.
            ``saliency_generator``, ``saliency_preprocessor``) or ``'pseudo'``
            (``refiner``). Every stage also records ``pseudo_dataset`` (the images it reads).
        cue_of_seeds: The cue the seeds' generator makes in its own forward (e.g.
            CLIP-ES's ``'affinity'``): that cue reads the seeds' config.
    """
    if stage == 'pseudo':
        chosen = ['refiner']
    elif stage in ('cam', cue_of_seeds):
        chosen = ['model'] + [k for k in cfg.keys() if k.startswith('cam_')]
    else:
        chosen = [k for k in cfg.keys() if k.startswith(f'{stage}_')]
    values = {k: cfg.get(k) for k in sorted(chosen) if k in cfg}
    values['pseudo_dataset'] = cfg.get('pseudo_dataset')
    return _without_init_checkpoints(normalize(values))


def _without_init_checkpoints(value: Any, key: str = '') -> Any:
    """A normalized config without the paths of ``init_cfg`` checkpoints: a checkpoint is
    an input by its bytes (the record's ``checkpoints``), not by where it lies."""
    if isinstance(value, dict):
        return {k: _without_init_checkpoints(v, k) for k, v in value.items()
                if not (k == 'checkpoint' and key.startswith('init_cfg'))}
    if isinstance(value, list):
        return [_without_init_checkpoints(v, key) for v in value]
    return value


def config_differences(record: Mapping, config: Mapping[str, Any],
                       ignore: Sequence[str] = ()) -> List[str]:
    """How ``config`` (top-level key -> value) differs from a record's config values,
    leaving out the top-level keys in ``ignore`` (e.g. where the data lives)."""
    stored = {k: v for k, v in record['depends']['config'].items() if k not in ignore}
    given = {k: v for k, v in normalize(config).items() if k not in ignore}
    return diff_records(dict(depends=dict(config=stored)), dict(depends=dict(config=given)))
