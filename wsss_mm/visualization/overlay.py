"""Side-by-side pictures: image | CAM per class | saliency | pseudo label | GT."""
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np


def colorize_labels(labels: np.ndarray, palette: Sequence[Sequence[int]]) -> np.ndarray:
    """Colours of a label map (values 0..255) as an RGB uint8 image.

    Args:
        labels: [H, W] label values.
        palette: The dataset's ``metainfo['palette']``, one [r, g, b] per label value.
    """
    table = np.zeros((256, 3), np.uint8)
    colours = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)[:256]
    table[:len(colours)] = colours
    return table[labels.astype(np.uint8)]


def heatmap_overlay(image: np.ndarray, heat: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """Blend a [0, 1] map, coloured with the JET map, over an RGB uint8 image."""
    heat_u8 = np.clip(heat * 255, 0, 255).astype(np.uint8)
    jet = cv2.applyColorMap(heat_u8, cv2.COLORMAP_JET)[..., ::-1]
    return (image * (1 - alpha) + jet * alpha).astype(np.uint8)


def label_overlay(image: np.ndarray, labels: np.ndarray, palette: Sequence[Sequence[int]],
                  alpha: float = 0.6) -> np.ndarray:
    """Blend coloured labels over an RGB image (background and 255 kept as image)."""
    colored = colorize_labels(labels, palette)
    fg = ((labels > 0) & (labels < 255))[..., None]
    return np.where(fg, image * (1 - alpha) + colored * alpha, image).astype(np.uint8)


def _captioned(tile: np.ndarray, caption: str) -> np.ndarray:
    bar = np.full((18, tile.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, caption[:max(1, tile.shape[1] // 7)], (2, 13), cv2.FONT_HERSHEY_SIMPLEX,
                0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([bar, tile], axis=0)


def make_panel(image: np.ndarray,
               cams: Optional[Dict[str, np.ndarray]] = None,
               saliency: Optional[np.ndarray] = None,
               labels: Optional[Dict[str, np.ndarray]] = None,
               palette: Sequence[Sequence[int]] = ()) -> np.ndarray:
    """One row of captioned tiles.

    Args:
        image: RGB uint8 H×W×3.
        cams: class name -> [0, 1] map, drawn as heat overlays.
        saliency: [0, 1] map.
        labels: caption -> label map (pseudo label, prediction, GT ...), drawn as
            coloured overlays, in the given order.
        palette: The dataset's ``metainfo['palette']`` (needed with ``labels``).
    """
    tiles: List[np.ndarray] = [_captioned(image, 'image')]
    for name, cam in (cams or {}).items():
        tiles.append(_captioned(heatmap_overlay(image, cam), f'CAM {name}'))
    if saliency is not None:
        tiles.append(_captioned(heatmap_overlay(image, saliency), 'saliency'))
    for caption, label_map in (labels or {}).items():
        tiles.append(_captioned(label_overlay(image, label_map, palette), caption))
    gap = np.full((tiles[0].shape[0], 4, 3), 255, np.uint8)
    row: List[np.ndarray] = []
    for tile in tiles:
        row.extend([tile, gap])
    return np.concatenate(row[:-1], axis=1)


def stack_panels(panels: Sequence[np.ndarray]) -> np.ndarray:
    """Stack rows of different widths vertically (right-padded with white)."""
    width = max(p.shape[1] for p in panels)
    rows = [np.pad(p, ((0, 4), (0, width - p.shape[1]), (0, 0)), constant_values=255)
            for p in panels]
    return np.concatenate(rows, axis=0)
