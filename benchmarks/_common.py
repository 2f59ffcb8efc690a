"""Helpers shared by the benchmark scripts: flags, machine line, timing, tables, images.

Every script prints one markdown table at the end, headed by the machine it ran
on, so tables from different machines can be told apart and the ratios inside
one table are always measured in the same run.
"""
import argparse
import json
import logging
import os
import platform
import subprocess
import threading
import time
from typing import Any, Callable, List, Sequence, Tuple

import numpy as np
import torch
from mmengine.logging import MMLogger

from wsss_mm.datasets import read_split
from wsss_mm.datasets.synthetic import make_synthetic_voc
from wsss_mm.io import read_rgb

VOC_SIZE = (375, 500)  # (height, width) of a typical VOC image


def add_common_args(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``--device``, ``--threads`` and ``--seed``, which every script takes."""
    parser.add_argument('--device', choices=('cpu', 'cuda'), default='cpu',
                        help='where the networks run')
    parser.add_argument('--threads', type=int, default=0, help='torch threads (0: default)')
    parser.add_argument('--seed', type=int, default=0)
    return parser


def setup(args: argparse.Namespace) -> torch.device:
    """Apply ``--threads`` and ``--seed`` and return the checked ``--device``."""
    if args.device == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda asked for, but torch sees no CUDA device')
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    return torch.device(args.device)


def quiet_mmengine() -> None:
    """Drop mmengine's INFO messages (weight-init reports) so the table stands out."""
    MMLogger.get_current_instance().setLevel(logging.WARNING)


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (platform's guess elsewhere)."""
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown CPU'


def machine_description(device: torch.device) -> str:
    """One line: CPU model and count, torch version, threads, CUDA device if used."""
    text = (f'{cpu_model()} ({os.cpu_count()} logical CPUs), torch {torch.__version__}, '
            f'{torch.get_num_threads()} torch threads')
    if device.type == 'cuda':
        text += f', CUDA device {torch.cuda.get_device_name(device)}'
    return text


def synchronize(device: torch.device) -> None:
    """Wait for queued CUDA work so wall-clock times cover it (no-op on CPU)."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def measure(fn: Callable[[], Any], device: torch.device, repeats: int = 1,
            warmup: int = 0) -> Tuple[float, Any]:
    """Mean wall-clock seconds per call of ``fn`` and the last call's result.

    ``warmup`` untimed calls run first (allocator, kernel selection, caches).
    """
    for _ in range(warmup):
        fn()
    synchronize(device)
    start = time.perf_counter()
    for _ in range(repeats):
        result = fn()
    synchronize(device)
    return (time.perf_counter() - start) / repeats, result


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A markdown table; cells are formatted with ``str``."""
    lines = ['| ' + ' | '.join(headers) + ' |', '|' + ' --- |' * len(headers)]
    lines += ['| ' + ' | '.join(str(cell) for cell in row) + ' |' for row in rows]
    return '\n'.join(lines)


def print_report(title: str, device: torch.device, headers: Sequence[str],
                 rows: Sequence[Sequence[Any]], notes: Sequence[str] = ()) -> None:
    """Print the title, the machine line, the table and any notes below it."""
    print(f'\n{title}\n\nMachine: {machine_description(device)}\n')
    print(markdown_table(headers, rows))
    for note in notes:
        print(f'\n{note}')


def synthetic_voc_images(root: str, num_images: int, size: Tuple[int, int] = VOC_SIZE,
                         seed: int = 0) -> Tuple[str, List[str]]:
    """Write ``num_images`` synthetic VOC images of ``size`` under ``root``.

    Returns:
        ``(VOC2012 folder, image ids)``; images are JPEGImages/<id>.jpg, image-level
        labels Annotations/<id>.xml, masks SegmentationClass/<id>.png.
    """
    voc = make_synthetic_voc(root, num_train=num_images, num_val=0, size=size, seed=seed)
    return voc, read_split(os.path.join(voc, 'ImageSets', 'Segmentation', 'train.txt'))


def load_rgb(voc: str, img_ids: Sequence[str]) -> List[np.ndarray]:
    """Decode the JPEGs of ``img_ids`` to RGB uint8 arrays."""
    return [read_rgb(os.path.join(voc, 'JPEGImages', f'{img_id}.jpg')) for img_id in img_ids]


RESULT_TAG = 'RESULT '


def result_from_subprocess(command: Sequence[str]) -> dict:
    """Run ``command`` (a script that prints ``RESULT_TAG + json`` on one line) and
    return that JSON; its other output goes to this process's stderr."""
    done = subprocess.run(list(command), stdout=subprocess.PIPE, text=True, check=True)
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG):])
    raise RuntimeError(f'no result from {command}; its output:\n{done.stdout}')


def _descendants(pid: int) -> List[int]:
    """``pid`` and all its descendant processes (Linux /proc)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            for task in os.listdir(f'/proc/{current}/task'):
                with open(f'/proc/{current}/task/{task}/children', encoding='ascii') as f:
                    queue += [int(child) for child in f.read().split()]
        except OSError:  # the process ended meanwhile
            continue
    return found


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and its descendants (shared pages counted per process)."""
    total = 0
    for member in _descendants(pid):
        try:
            with open(f'/proc/{member}/statm', encoding='ascii') as f:
                total += int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
        except OSError:
            continue
    return total


class PeakTreeMemory:
    """Sample the resident memory of this process and its descendants (worker
    processes included) every ``interval`` seconds in a thread; :attr:`peak` bytes."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, tree_rss_bytes(os.getpid()))
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> 'PeakTreeMemory':
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
