"""Validate ``--cfg-options`` before they are merged into a config.

``Config.merge_from_dict`` accepts any key: a typo (``fusr.gamma1=0.3``) adds a
new key that nothing reads, and the run silently uses the defaults; a value of
the wrong type (``saliency_generator.thresholds=0.7``) fails deep inside a
component with a message that does not name the key. :func:`check_cfg_options`
reports, naming the key:

* errors: a top-level key that is neither in the config nor read by the tool,
  a key of a plain section the tool reads key by key
  that the tool does not know, an argument that the component class built
  from the enclosing ``dict(type=...)`` does not take, each with the closest
  known key (difflib); a value whose type differs from the config's value
  (number / bool / string / sequence / dict), or, for an argument the config
  leaves at its default, from the component's default
  (``cam_generator.scales=0.5`` where the default is ``(1.0,)``);
* warnings: a top-level key that is in the config but that the tool never
  reads (e.g. ``data_root``: config variables are substituted when the file is
  read, so overriding them later changes nothing).

The tools parse ``--cfg-options`` with :class:`CfgOptionsAction`, mmengine's
``DictAction`` except that a single value keeps its spaces (``DictAction`` removes
every space, so ``data_root=my voc`` became ``myvoc``).
"""
import copy
import difflib
import inspect
import warnings
from typing import Any, Collection, List, Mapping, Optional

from mmengine.config import Config, DictAction

# top-level keys mmengine's Runner (tools/train.py, tools/test.py) reads
RUNNER_KEYS = {
    'model': None, 'work_dir': None, 'train_dataloader': None, 'val_dataloader': None,
    'test_dataloader': None, 'train_cfg': None, 'val_cfg': None, 'test_cfg': None,
    'auto_scale_lr': None, 'optim_wrapper': None, 'param_scheduler': None,
    'val_evaluator': None, 'test_evaluator': None, 'default_hooks': None, 'custom_hooks': None,
    'data_preprocessor': None, 'load_from': None, 'resume': None, 'launcher': None,
    'env_cfg': None, 'log_processor': None, 'log_level': None, 'visualizer': None,
    'default_scope': None, 'randomness': None, 'experiment_name': None,
    'model_wrapper_cfg': None, 'compile': None
}
# top-level keys tools/gen_pseudo.py reads (components built from dict(type=...))
PSEUDO_KEYS = {
    'model': None, 'cam_generator': None, 'refiner': None, 'saliency_generator': None,
    'saliency_preprocessor': None, 'boundary_generator': None, 'cam_input_size': None,
    'cam_max_side': None,
    'pseudo_on_error': None, 'pseudo_dataset': None, 'default_scope': None
}
# top-level keys tools/eval_pseudo.py reads
EVAL_PSEUDO_KEYS = {
    'pseudo_eval_dataset': None, 'pseudo_eval_splits': None, 'default_scope': None,
    'refiner': None  # checked against the labels' record; --fusion-sweep's other arguments
}


class CfgOptionsAction(DictAction):
    """``--cfg-options key=value ...`` as mmengine's ``DictAction`` parses them, but a
    single value (no brackets, no comma) is kept as written, spaces included, so paths
    such as ``data_root=/data/my vöc`` arrive intact; lists and tuples parse as before."""

    @staticmethod
    def _parse_iterable(val: str) -> Any:
        plain = val.strip('\'"')
        if ',' not in plain and not plain.startswith(('(', '[')):
            return DictAction._parse_int_float_bool(plain)
        return DictAction._parse_iterable(val)


def _closest(key: str, candidates: Collection[str]) -> str:
    """' (closest known key: 'x')' or '' when nothing is similar."""
    match = difflib.get_close_matches(key, sorted(candidates), n=1, cutoff=0.6)
    return f" (closest known key: '{match[0]}')" if match else ''


def _kind(value: Any) -> Optional[str]:
    """Type family of a config value: None (anything goes) or a name."""
    if value is None:
        return None
    if isinstance(value, bool):
        return 'bool'
    if isinstance(value, int):
        return 'int'
    if isinstance(value, float):
        return 'float'
    if isinstance(value, str):
        return 'str'
    if isinstance(value, (list, tuple)):
        return 'list/tuple'
    if isinstance(value, Mapping):
        return 'dict'
    return None


def _type_error(key: str, old: Any, new: Any, source: str = 'the config has') -> Optional[str]:
    """Message if ``new`` is not of the type family of the config's ``old`` value."""
    expected, got = _kind(old), _kind(new)
    if expected is None or got is None or expected == got:
        return None
    if expected == 'float' and got == 'int':
        return None
    return (f'{key}={new!r}: expected {expected} ({source} {old!r}), '
            f'got {type(new).__name__}')


def _component_classes(type_name: Any) -> List[type]:
    """The classes a ``dict(type=...)`` may build: every wsss_mm registry (and its
    mmseg/mmengine parents) that knows the name."""
    if inspect.isclass(type_name):
        return [type_name]
    if not isinstance(type_name, str):
        return []
    from mmengine.registry import Registry

    import wsss_mm.registry as registries
    found = []
    for registry in vars(registries).values():
        if isinstance(registry, Registry):
            cls = registry.get(type_name)
            if inspect.isclass(cls) and cls not in found:
                found.append(cls)
    return found


def _init_arguments(cls: type) -> Optional[set]:
    """Names ``cls(...)`` accepts, following ``**kwargs`` up the MRO; None if open-ended."""
    names = set()
    for klass in cls.__mro__:
        if '__init__' not in vars(klass):
            continue
        try:
            params = inspect.signature(klass.__init__).parameters
        except (TypeError, ValueError):
            return None
        names.update(p for p, v in params.items() if p != 'self' and v.kind not in (
            inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL))
        if not any(p.kind == inspect.Parameter.VAR_KEYWORD for p in params.values()):
            return names
    return None  # **kwargs all the way up (object, nn.Module ...): anything may be valid


def _argument_error(key: str, name: str, component: Mapping) -> Optional[str]:
    """Message if no class that ``component`` may build takes an argument ``name``."""
    known = set()
    classes = _component_classes(component.get('type'))
    for cls in classes:
        names = _init_arguments(cls)
        if names is None or name in names:
            return None
        known.update(names)
    if not classes:
        return None
    return (f"{key}: {classes[0].__name__} takes no argument '{name}'"
            f'{_closest(name, known)}')


def _default_of(name: str, component: Mapping) -> Any:
    """The default of argument ``name`` of the class ``component`` builds (None if unknown)."""
    for cls in _component_classes(component.get('type')):
        for klass in cls.__mro__:
            if '__init__' not in vars(klass):
                continue
            try:
                param = inspect.signature(klass.__init__).parameters.get(name)
            except (TypeError, ValueError):
                break
            if param is not None and param.default is not inspect.Parameter.empty:
                return param.default
    return None


def _lookup(cfg: Any, parts: List[str]) -> Any:
    """The value at ``parts`` in a config (list indices allowed); KeyError if absent."""
    node = cfg
    for part in parts:
        if isinstance(node, (list, tuple)) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, (Mapping, Config)) and part in node:
            node = node[part]
        else:
            raise KeyError(part)
    return node


def check_cfg_options(cfg: Config, options: Mapping[str, Any],
                      reads: Mapping[str, Optional[Collection[str]]]) -> List[str]:
    """Check ``--cfg-options`` against the config they are about to be merged into.

    Args:
        cfg: The config as read from its file (before the options are merged).
        options: ``{'a.b.c': value}`` as parsed by mmengine's ``DictAction``.
        reads: Top-level keys the tool reads; a key's value is the set of sub-keys
            it reads (for plain sections read key by key) or None (any).

    Returns:
        Warnings (keys that exist in the config but that the tool does not read).

    Raises:
        ValueError: Listing every unknown key and type mismatch, each by name.
    """
    errors, notes = [], []
    merged = copy.deepcopy(cfg)
    merged.merge_from_dict(dict(options))
    for key, value in options.items():
        parts = key.split('.')
        top = parts[0]
        if top not in cfg and top not in reads:
            errors.append(f"unknown key '{key}': the config has no '{top}'"
                          f'{_closest(top, set(cfg.keys()) | set(reads))}')
            continue
        if top not in reads:
            notes.append(f"'{key}' is not read by this tool (config variables such as "
                         f"'{top}' are substituted when the file is read; override the "
                         'place that uses it instead)')
            continue
        sub_keys = reads[top]
        if sub_keys is not None and len(parts) > 1 and parts[1] not in sub_keys:
            errors.append(f"unknown key '{key}': '{top}' has no '{parts[1]}' that this tool "
                          f'reads{_closest(parts[1], sub_keys)}')
            continue
        try:
            old = _lookup(cfg, parts)
        except KeyError:
            old = None
        try:
            parent = _lookup(merged, parts[:-1]) if len(parts) > 1 else None
        except KeyError:
            parent = None
        component = (isinstance(parent, Mapping) and 'type' in parent
                     and parts[-1] != 'type' and not parts[-1].startswith('_'))
        source = 'the config has'
        if old is None and component:
            old, source = _default_of(parts[-1], parent), 'the default is'
        message = _type_error(key, old, value, source)
        if message is None and component:
            message = _argument_error(key, parts[-1], parent)
        if message:
            errors.append(message)
    if errors:
        raise ValueError('--cfg-options: ' + '; '.join(errors))
    return notes


def apply_cfg_options(cfg: Config, options: Optional[Mapping[str, Any]],
                      reads: Mapping[str, Optional[Collection[str]]], tool: str) -> None:
    """Check (:func:`check_cfg_options`) and merge ``options`` into ``cfg`` for a tool.

    Errors end the tool with one message; warnings are printed through ``warnings``.
    """
    if not options:
        return
    try:
        notes = check_cfg_options(cfg, options, reads)
    except ValueError as err:
        raise SystemExit(f'{tool}: {err}') from err
    for note in notes:
        warnings.warn(f'{tool}: --cfg-options {note}', stacklevel=2)
    cfg.merge_from_dict(options)
