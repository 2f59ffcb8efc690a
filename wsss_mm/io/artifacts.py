"""The on-disk artifacts of the pseudo-label stages: one home for layout and formats.

A work dir of ``tools/gen_pseudo.py`` holds, per image id::

  cams/<id>.npz             float16 maps [K, H, W] of the image's K classes + their ids
  saliency/<id>.png         cue: 8-bit erasing saliency S = max(S0, S1, S2), [H, W]
  boundary/<id>.npz         cue: float16 class-boundary map [h, w] of IRNet (stride 4)
  affinity/<id>.npz         cue: CLIP-ES attention affinity [h·w, h·w] (float16) and the
                            seeds on the patch grid [K, h, w] (float32)
  relation_labels/<id>.png  IRN relation labels of the seeds (class ids, 0, 255 ignored)
  pseudo_labels/<id>.png    palette PNG of label values (the dataset's ids; 255 = ignore)
  vis/<id>.png              overlays: image | CAM per class | cue | pseudo label | GT
  <folder>/.stage_record.json  what made the folder's files (:mod:`.stage_record`)

Class ids are stored in the dataset's own id space (the values of its masks,
``metainfo['label_ids']``), so files are read without knowing the dataset.
Writers are atomic (:mod:`wsss_mm.utils.io`); readers raise :class:`InputError`
naming the file. Fusion always reads the stored precision (float16 CAMs,
8-bit saliency), so labels fused in one run and fused later from the files agree.
"""
import io
import os.path as osp
import warnings
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from wsss_mm.utils.io import remove_stale_temp_files, save_npz_atomic, save_png_atomic
from wsss_mm.visualization.overlay import make_panel

__all__ = [
    'InputError', 'WorkDirLayout', 'read_rgb', 'check_image_header', 'read_label_map',
    'quantize_cams', 'quantize_saliency', 'write_cams', 'read_cams', 'write_saliency',
    'read_saliency', 'write_boundary', 'read_boundary', 'write_relation_labels', 'write_cue',
    'read_cue', 'CUES', 'write_label_map', 'write_overlay', 'flat_palette',
    'read_optional_label_map', 'write_affinity', 'read_affinity'
]


class InputError(ValueError):
    """Bad input of one image (unreadable file, missing labels, size mismatch ...)."""


class WorkDirLayout:
    """Where each stage of the pseudo-label job stores its result for one image.

    Args:
        work_dir: Root of the job's outputs.
    """

    #: stage -> (folder, suffix), in pipeline order
    STAGES: Dict[str, Tuple[str, str]] = {
        'cam': ('cams', '.npz'),
        'saliency': ('saliency', '.png'),
        'boundary': ('boundary', '.npz'),
        'affinity': ('affinity', '.npz'),
        'relation': ('relation_labels', '.png'),
        'pseudo': ('pseudo_labels', '.png'),
        'vis': ('vis', '.png'),
    }

    def __init__(self, work_dir: str) -> None:
        self.work_dir = work_dir

    def folder(self, stage: str) -> str:
        """The folder of a stage's files (a key of :attr:`STAGES`).

        Raises:
            InputError: naming the folder, when it is a symlink that leads out of the
                work dir (writes through it would land elsewhere, e.g. on a dataset's
                GT masks).
        """
        folder = osp.join(self.work_dir, self.STAGES[stage][0])
        if osp.islink(folder):
            root = osp.realpath(self.work_dir)
            target = osp.realpath(folder)
            if osp.commonpath([root, target]) != root:
                raise InputError(f'stage folder {folder} is a symlink to {target}, outside the '
                                 f'work dir {self.work_dir}: refusing to write through it '
                                 f'(remove the link or choose another --work-dir)')
        return folder

    def path(self, stage: str, img_id: str) -> str:
        """The file of one image's result of a stage."""
        return osp.join(self.folder(stage), img_id + self.STAGES[stage][1])

    def has(self, stage: str) -> bool:
        """Whether the stage's folder exists."""
        return osp.isdir(self.folder(stage))

    def remove_stale_temp_files(self) -> None:
        """Delete the temp files a killed writer left in any stage folder."""
        for stage in self.STAGES:
            remove_stale_temp_files(self.folder(stage))


def _open_image(path: str, data: bytes) -> Image.Image:
    """The PIL image of a file's bytes (header parsed, pixels not decoded), refusing an
    empty file, an unknown format and images over ``Image.MAX_IMAGE_PIXELS`` (PIL warns
    between that and twice that: refused too) with :class:`InputError` naming ``path``."""
    if not data:
        raise InputError(f'image {path} is empty (0 bytes)')
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('error', Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data))
    except UnidentifiedImageError as err:
        raise InputError(f'cannot read image {path}: not an image format PIL can decode '
                         f'({len(data)} bytes)') from err
    except Exception as err:  # bombs, broken headers
        raise InputError(f'cannot read image {path}: {type(err).__name__}: {err}') from err


def _read_bytes(path: str) -> bytes:
    """The bytes of an image file (:class:`InputError` naming it if unreadable)."""
    try:
        with open(path, 'rb') as f:
            return f.read()
    except OSError as err:
        raise InputError(f'cannot read image {path}: {err}') from err


def check_image_header(path: str) -> Tuple[int, int]:
    """``(H, W)`` of an image file from its header, with :func:`read_rgb`'s checks of
    the file and of the pixel count (decompression bombs); nothing is decoded."""
    width, height = _open_image(path, _read_bytes(path)).size
    return height, width


def read_rgb(path: str) -> np.ndarray:
    """Decode an image file fully into RGB uint8 [H, W, 3].

    Every failure of one file raises :class:`InputError` naming it: a missing or
    empty file, an unknown format, truncated data, any decoder error, and images
    over ``Image.MAX_IMAGE_PIXELS`` (checked from the header, before decoding).
    """
    image = _open_image(path, _read_bytes(path))
    try:
        image.load()  # raises on truncated data (LOAD_TRUNCATED_IMAGES is False)
        return np.array(image.convert('RGB'))
    except Exception as err:  # any decoder error (OSError, SyntaxError, ...)
        raise InputError(f'cannot read image {path}: {type(err).__name__}: {err}') from err


def read_label_map(path: str) -> np.ndarray:
    """A label PNG (mask, pseudo label or 8-bit saliency) as its stored values [H, W] uint8."""
    if not osp.isfile(path):
        raise InputError(f'missing label map {path}')
    try:
        return np.array(Image.open(path))
    except OSError as err:
        raise InputError(f'cannot read label map {path}: {err}') from err


def quantize_cams(cams: torch.Tensor) -> torch.Tensor:
    """The precision CAM files store (float16), as float32."""
    return cams.to(torch.float16).to(torch.float32)


def quantize_saliency(saliency: torch.Tensor) -> np.ndarray:
    """Saliency in [0, 1] -> the 8-bit PNG values that are stored."""
    return torch.round(saliency.clamp(0, 1) * 255).to(torch.uint8).cpu().numpy()


def write_cams(path: str, cams: torch.Tensor, class_ids: np.ndarray) -> None:
    """Store CAMs [K, H, W] (as float16) and the dataset ids [K] (uint8) of their classes."""
    save_npz_atomic(path, cams=cams.cpu().numpy().astype(np.float16),
                    class_ids=np.asarray(class_ids, dtype=np.uint8))


def read_cams(path: str) -> Tuple[torch.Tensor, np.ndarray]:
    """Stored CAMs ([K, H, W] float32) and dataset class ids [K]; a missing file names itself."""
    if not osp.isfile(path):
        raise InputError(f'missing CAM file {path} (run the cam stage first)')
    try:
        with np.load(path) as data:
            return torch.from_numpy(data['cams'].astype(np.float32)), data['class_ids']
    except (OSError, KeyError, ValueError) as err:
        raise InputError(f'cannot read CAM file {path}: {err}') from err


def write_saliency(path: str, saliency_u8: np.ndarray) -> None:
    """Store 8-bit saliency [H, W] as a grey PNG."""
    save_png_atomic(path, saliency_u8)


def read_saliency(path: str) -> np.ndarray:
    """Stored 8-bit saliency [H, W]; a missing or unreadable file names itself."""
    if not osp.isfile(path):
        raise InputError(f'missing saliency file {path} (run the saliency stage first)')
    try:
        return np.array(Image.open(path).convert('L'))
    except OSError as err:
        raise InputError(f'cannot read saliency file {path}: {err}') from err


def write_boundary(path: str, boundary: torch.Tensor) -> None:
    """Store a class-boundary map [h, w] in [0, 1] as float16."""
    save_npz_atomic(path, boundary=boundary.cpu().numpy().astype(np.float16))


def read_boundary(path: str) -> np.ndarray:
    """Stored boundary map [h, w] float32; a missing or unreadable file names itself."""
    if not osp.isfile(path):
        raise InputError(f'missing boundary file {path} (run the cue stage first)')
    try:
        with np.load(path) as data:
            return data['boundary'].astype(np.float32)
    except (OSError, KeyError, ValueError) as err:
        raise InputError(f'cannot read boundary file {path}: {err}') from err


def write_relation_labels(path: str, labels: np.ndarray) -> None:
    """Store IRN relation labels [H, W] uint8 (class ids, 0, ignore) as a grey PNG;
    :func:`read_label_map` reads them."""
    save_png_atomic(path, labels)


def write_affinity(path: str, cue) -> None:
    """Store a CLIP-ES affinity cue (``.affinity`` [n, n] as float16, ``.grid_cams``
    [K, h, w] as float32; :class:`~wsss_mm.cam.AffinityCue`)."""
    save_npz_atomic(path, affinity=cue.affinity.cpu().numpy().astype(np.float16),
                    grid_cams=cue.grid_cams.cpu().numpy().astype(np.float32))


def read_affinity(path: str) -> Dict[str, np.ndarray]:
    """Stored affinity cue: ``{'affinity': [n, n] float32, 'grid_cams': [K, h, w]}``."""
    if not osp.isfile(path):
        raise InputError(f'missing affinity file {path} (run the cue stage first)')
    try:
        with np.load(path) as data:
            cue = dict(affinity=data['affinity'].astype(np.float32),
                       grid_cams=data['grid_cams'].astype(np.float32))
    except (OSError, KeyError, ValueError) as err:
        raise InputError(f'cannot read affinity file {path}: {err}') from err
    n = cue['affinity'].shape
    grid = cue['grid_cams'].shape
    if len(n) != 2 or n[0] != n[1] or len(grid) != 3 or grid[1] * grid[2] != n[0]:
        raise InputError(f'affinity file {path}: affinity {n} does not match the grid '
                         f'{cue["grid_cams"].shape}')
    return cue


def _write_saliency_map(path: str, saliency: torch.Tensor) -> None:
    write_saliency(path, quantize_saliency(saliency))


#: cue name -> (writer of the generator's [h, w] map in [0, 1], reader of the stored form);
#: the cue name is also its :class:`WorkDirLayout` stage
CUES = {
    'saliency': (_write_saliency_map, read_saliency),
    'boundary': (write_boundary, read_boundary),
    'affinity': (write_affinity, read_affinity),
}


def _cue_io(cue: str):
    if cue not in CUES:
        raise ValueError(f'unknown cue {cue!r}; known: {sorted(CUES)}')
    return CUES[cue]


def write_cue(path: str, cue: str, value: torch.Tensor) -> None:
    """Store a cue map [h, w] in [0, 1] in its format (8-bit PNG saliency, float16 boundary)."""
    _cue_io(cue)[0](path, value)


def read_cue(path: str, cue: str) -> np.ndarray:
    """A stored cue as the refiners read it (uint8 saliency, float32 boundary)."""
    return _cue_io(cue)[1](path)


def flat_palette(palette: Sequence[Sequence[int]]) -> list:
    """A dataset's ``metainfo['palette']`` ([[r, g, b], ...]) as PIL's flat list."""
    return [int(v) for rgb in palette for v in rgb]


def write_label_map(path: str, labels: np.ndarray, palette: Sequence[Sequence[int]]) -> None:
    """Store a uint8 label map [H, W] as a palette PNG with the dataset's colours."""
    save_png_atomic(path, labels, flat_palette(palette))


def write_overlay(path: str, rgb: np.ndarray, cams: Dict[str, np.ndarray],
                  saliency_u8: Optional[np.ndarray], labels: Dict[str, np.ndarray],
                  palette: Sequence[Sequence[int]]) -> None:
    """Store the side-by-side picture of one image (class name -> CAM, caption -> labels)."""
    saliency = None if saliency_u8 is None else saliency_u8 / 255.0
    panel = make_panel(rgb, cams, saliency, labels, palette=palette)
    save_png_atomic(path, panel)


def read_optional_label_map(path: Optional[str]) -> Optional[np.ndarray]:
    """A label map when ``path`` names an existing file, else None (e.g. GT for overlays)."""
    if path and osp.isfile(path):
        return read_label_map(path)
    return None
