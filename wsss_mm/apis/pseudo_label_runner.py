"""Run the pseudo-label stages over many images: serially, or as a pipeline.

:class:`PseudoLabelRunner` drives a :class:`~wsss_mm.apis.PseudoLabelPipeline` over
dataset indices (``tools/gen_pseudo.py`` gives it each rank's share) and stores the
results with :mod:`wsss_mm.io`. Each stage skips an output that exists, every file is
written atomically and the label file is written last, so a killed run resumes where
it stopped with byte-identical files.

* ``refine_workers=0``: one image at a time in this process (decode -> seeds -> cue ->
  refine -> write), each step waiting for the last.
* ``refine_workers=N``: a pipeline. ``loader_workers`` processes decode and prepare
  the images ahead (a ``torch.utils.data.DataLoader``); this process runs the network
  stages (seeds, cue; the cue in batches of ``saliency_batch`` images where the cue
  network batches); N worker processes store their outputs, refine (read the stored
  seeds and cue back, as the serial loop does, decode the image, run the refiner) and
  write the labels, overlapping with the networks. At most two images per worker are
  in flight (one handled, one waiting), so a slow refiner holds the networks back
  instead of letting decoded images and maps pile up. ``network_threads`` sets the torch
  threads of the networks while the pipeline runs (default: the process's, as the serial
  loop): on a CPU, networks with as many threads as cores next to N busy workers make
  every parallel region wait for a descheduled thread (2 cores, CRF job: 1.5x the serial
  loop with 2 network threads, 1.65x with 1), but another thread count may round a
  network's float sums differently, so the files equal the serial loop's only with the
  same count.

Both ways run the same per-image code, so the files are the same. A bad image (an
:class:`~wsss_mm.io.InputError` or ``ValueError``) stops the run (``on_error='raise'``)
or is skipped and reported (``'skip'``); a refine worker killed by the OS stops the run
with :class:`RefineWorkerDied` naming the image it was refining.
"""
import multiprocessing as mp
import os
import os.path as osp
import queue
import signal
import sys
import time
import traceback
from collections import defaultdict, deque
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from wsss_mm.io import (InputError, WorkDirLayout, read_cams, read_cue, read_optional_label_map,
                        write_cams, write_cue, write_label_map, write_overlay)

from .pseudo_label_pipeline import PseudoLabelPipeline, refine_seeds

__all__ = ['PseudoLabelRunner', 'RefineContext', 'RefineWorkerDied', 'RunSummary',
           'default_refine_workers', 'default_loader_workers']

#: timed steps of one image, in order: decode, seeds, cue, refinement (with its writes)
STEPS = ('read', 'cam', 'cue', 'refine')


def available_cpus() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_refine_workers() -> int:
    """Refine worker processes by default: one per core."""
    return available_cpus()


def default_loader_workers() -> int:
    """Decoding worker processes by default: a quarter of the cores, 1 to 4."""
    return min(4, max(1, available_cpus() // 4))


class RefineWorkerDied(RuntimeError):
    """A refine worker process ended (killed by the OS, out of memory ...) mid-image.

    ``index``: the dataset index of the image it was refining.
    """

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


@dataclass
class RunSummary:
    """What one :meth:`PseudoLabelRunner.run` did.

    ``seconds``/``counts``: busy seconds and images of each step of :data:`STEPS`
    that did work; ``busy``: each step's busy fraction of the wall time of the
    processes that run it (``refine`` over all refine workers, ``read`` over the
    decoding workers); ``images_per_second``: images finished (or skipped as bad)
    per wall-clock second.
    """
    done: int = 0
    failures: List[dict] = field(default_factory=list)
    seconds: Dict[str, float] = field(default_factory=lambda: defaultdict(float))
    counts: Dict[str, int] = field(default_factory=lambda: defaultdict(int))
    elapsed: float = 0.0
    busy: Dict[str, float] = field(default_factory=dict)

    @property
    def images_per_second(self) -> float:
        handled = self.done + len(self.failures)
        return handled / self.elapsed if self.elapsed > 0 else 0.0


class RefineContext:
    """Storing an image's network outputs and refining it (picklable: workers get a copy).

    Args:
        refiner: The :class:`~wsss_mm.pseudo.BaseRefiner`.
        label_ids: The dataset's label values (the pipeline's).
        dataset: The image-level dataset (``dataset[index]`` decodes the image).
        layout: Where the stages store their files.
        vis: Also write the side-by-side overlay.
        refine_stage: Whether to refine after storing (the ``refine`` stage runs).
    """

    def __init__(self, refiner, label_ids: Sequence[int], dataset, layout: WorkDirLayout,
                 vis: bool = False, refine_stage: bool = True) -> None:
        self.refiner = refiner
        self.label_ids = tuple(label_ids)
        self.dataset = dataset
        self.layout = layout
        self.vis = vis
        self.refine_stage = refine_stage

    def handle(self, index: int, outputs: dict, data: Optional[dict] = None) -> None:
        """Store the network ``outputs`` of image ``index`` (``'cam'``: ``([K, H, W]
        float16 array, [K] class ids)``, ``'cue'``: the cue map ``[h, w]`` or a structured
        cue such as CLIP-ES's affinity, each if it was computed), then refine it if the refine stage runs."""
        img_id = self.dataset.get_data_info(index)['img_id']
        if 'cam' in outputs:
            cams, class_ids = outputs['cam']
            write_cams(self.layout.path('cam', img_id), torch.from_numpy(cams), class_ids)
        if 'cue' in outputs:
            cue = self.refiner.cue
            value = outputs['cue']
            write_cue(self.layout.path(cue, img_id), cue,
                      torch.from_numpy(value) if isinstance(value, np.ndarray) else value)
        if self.refine_stage:
            self.refine(index, data)

    def refine(self, index: int, data: Optional[dict] = None) -> None:
        """Refine image ``index`` from its stored seeds and cue and write its label map.

        ``data``: the image's data sample if already decoded (else decoded here).
        Refinement reads the stored seeds and cue, so labels refined in one run and
        labels refined later with ``--stages refine`` are identical.
        """
        if data is None:
            data = load_sample(self.dataset, index)
        sample = data['data_samples']
        img_id, img_path = sample.img_id, sample.img_path
        cue = self.refiner.cue
        cam_path = self.layout.path('cam', img_id)
        cue_path = self.layout.path(cue, img_id) if cue else None
        cams, class_ids = read_cams(cam_path)
        cue_map = read_cue(cue_path, cue) if cue else None
        size = tuple(sample.ori_shape)
        if tuple(cams.shape[1:]) != size:
            raise InputError(f'size mismatch for {img_id}: image {size} ({img_path}), '
                             f'CAM {tuple(cams.shape[1:])} ({cam_path})')
        rgb = data['inputs'].flip(0).permute(1, 2, 0).numpy()
        try:
            pseudo = refine_seeds(self.refiner, self.label_ids, cams, class_ids, rgb, cue_map)
        except ValueError as err:  # e.g. a cue of another size: name the files
            raise InputError(f'{img_id}: {err} (CAM {cam_path}, cue {cue_path})') from err
        meta = self.dataset.metainfo
        if self.vis:
            panel_labels = {'pseudo label': pseudo}
            gt = read_optional_label_map(self.dataset.get_data_info(index).get('seg_map_path'))
            if gt is not None:
                panel_labels['GT'] = gt
            names = dict(zip(meta['label_ids'], meta['classes']))
            write_overlay(self.layout.path('vis', img_id), rgb,
                          {names[int(c)]: m.numpy() for c, m in zip(class_ids, cams)},
                          cue_map if cue == 'saliency' else None, panel_labels, meta['palette'])
        # written last: its presence marks the image as done
        write_label_map(self.layout.path('pseudo', img_id), pseudo, meta['palette'])


def load_sample(dataset, index: int) -> dict:
    """``dataset[index]``, raising :class:`InputError` for an image whose labels are bad."""
    label_error = dataset.get_data_info(index).get('label_error')
    if label_error:
        raise InputError(label_error)
    return dataset[index]


def _identity(item):
    return item


class _DecodedSamples(Dataset):
    """``(index, sample or the InputError/ValueError of decoding it, seconds)`` of each index,
    so a bad image reaches the runner as a value instead of stopping the loader."""

    def __init__(self, dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = list(indices)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, position: int):
        index = self.indices[position]
        start = time.perf_counter()
        try:
            data = load_sample(self.dataset, index)
        except ValueError as err:  # InputError included
            data = err
        return index, data, time.perf_counter() - start


def _mp_context():
    """How worker processes start: fork on Linux (instant, the built refiner and dataset
    are inherited; the workers use one torch thread, which keeps OpenMP safe after the
    fork, as in DataLoader workers, and never touch CUDA), spawn elsewhere."""
    return mp.get_context('fork' if sys.platform.startswith('linux') else 'spawn')


def _refine_worker(tasks, conn, context: RefineContext, threads: int) -> None:
    """Worker loop: ``(index, outputs)`` from ``tasks`` -> :meth:`RefineContext.handle`,
    answering ``(index, None | (kind, message), seconds)`` on ``conn``."""
    torch.set_num_threads(threads)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    parent = os.getppid()
    while True:
        try:
            task = tasks.get(timeout=1.0)
        except queue.Empty:
            if os.getppid() != parent:  # the main process was killed: stop too
                return
            continue
        if task is None:
            return
        index, outputs = task
        start = time.perf_counter()
        try:
            context.handle(index, outputs)
            error = None
        except ValueError as err:  # InputError included: one bad image
            error = ('input', str(err))
        except Exception:  # a bug: stop the run with the worker's traceback
            error = ('crash', traceback.format_exc())
        conn.send((index, error, time.perf_counter() - start))


class _RefinePool:
    """N worker processes (store + refine), each with its own task queue (a feeder
    thread sends, so the main process does not wait for a busy worker) and answer
    pipe, and at most ``depth`` images."""

    def __init__(self, context: RefineContext, workers: int, threads: int = 1,
                 depth: int = 2) -> None:
        ctx = _mp_context()
        self.depth = depth
        self.workers: List[Tuple[mp.Process, object, deque, object]] = []
        for _ in range(workers):
            parent, child = ctx.Pipe(duplex=False)
            tasks = ctx.Queue()
            process = ctx.Process(target=_refine_worker, args=(tasks, child, context, threads),
                                  daemon=True)
            process.start()
            child.close()
            self.workers.append((process, parent, deque(), tasks))

    @property
    def in_flight(self) -> int:
        return sum(len(w[2]) for w in self.workers)

    def submit(self, index: int, outputs: dict) -> None:
        """Queue image ``index`` on the least busy worker (call :meth:`has_room` first)."""
        _, _, pending, tasks = min(self.workers, key=lambda w: len(w[2]))
        tasks.put((index, outputs))
        pending.append(index)

    def has_room(self) -> bool:
        return any(len(w[2]) < self.depth for w in self.workers)

    def results(self) -> List[Tuple[int, Optional[Tuple[str, str]], float]]:
        """Wait until at least one worker answers; its results. A worker that died
        raises :class:`RefineWorkerDied` naming the image it was refining."""
        busy = [w for w in self.workers if w[2]]
        ready = wait([w[1] for w in busy] + [w[0].sentinel for w in busy])
        out = []
        for process, conn, pending, _ in busy:
            while pending and conn.poll():
                try:
                    out.append(conn.recv())
                except (EOFError, OSError):  # the worker died: its pipe is closed
                    break
                pending.popleft()
            if pending and process.sentinel in ready and not process.is_alive():
                raise RefineWorkerDied(self._death(process, pending[0]), pending[0])
        return out

    @staticmethod
    def _death(process: mp.Process, index: int) -> str:
        code = process.exitcode
        how = (f'was killed by signal {signal.Signals(-code).name}' if code is not None
               and code < 0 else f'exited with code {code}')
        return f'refine worker (pid {process.pid}) {how} while refining dataset index {index}'

    def close(self, terminate: bool = False) -> None:
        """Stop the workers: after their queued images, or at once (``terminate``;
        a file being written is left as a temp file, which the next run removes)."""
        for process, _, _, tasks in self.workers:
            if terminate:
                process.terminate()
                tasks.cancel_join_thread()  # do not wait to feed a stopped worker
            elif process.is_alive():
                tasks.put(None)
        for process, conn, _, tasks in self.workers:
            process.join()
            conn.close()
            tasks.close()


class PseudoLabelRunner:
    """The stages of gen_pseudo over many images of a dataset (see the module docstring).

    Args:
        pipeline: The built seeds/cue/refiner pipeline.
        dataset: The image-level dataset to label.
        layout: Where the stages store their files.
        stages: Stages to run, of ``('cam', 'cue', 'refine')``; the others read their
            stored outputs.
        vis: Also write the side-by-side overlays.
        on_error: ``'raise'`` (a bad image stops the run: its error is raised) or
            ``'skip'`` (it is skipped and listed in the summary's ``failures``).
        refine_workers: Refine worker processes; 0 runs the serial loop.
        loader_workers: Decoding worker processes of the pipeline (0: in this process).
        saliency_batch: Images per call of a saliency cue network (pipeline only;
            :meth:`PseudoLabelPipeline.cues`).
        worker_threads: Torch threads of each refine worker.
        network_threads: Torch threads of this process while the pipeline runs (None:
            the process's setting, so the files equal the serial loop's); the serial loop
            keeps the process's setting.
    """

    def __init__(self, pipeline: PseudoLabelPipeline, dataset, layout: WorkDirLayout,
                 stages: Sequence[str], vis: bool = False, on_error: str = 'raise',
                 refine_workers: int = 0, loader_workers: int = 1, saliency_batch: int = 1,
                 worker_threads: int = 1, network_threads: Optional[int] = None) -> None:
        if on_error not in ('raise', 'skip'):
            raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
        for name, value, low in (('refine_workers', refine_workers, 0),
                                 ('loader_workers', loader_workers, 0),
                                 ('saliency_batch', saliency_batch, 1),
                                 ('worker_threads', worker_threads, 1),
                                 ('network_threads', network_threads, 1)):
            if value is not None and value < low:
                raise ValueError(f'{name} must be >= {low}, got {value}')
        device = getattr(pipeline.refiner, 'device', None)
        if refine_workers and device is not None and torch.device(device).type == 'cuda':
            # forked workers cannot use CUDA: a refiner on the GPU (CLIP-ES's CAA) refines here
            print(f'[gen_pseudo] {type(pipeline.refiner).__name__} runs on {device}: refining '
                  f'in the main process (--refine-workers {refine_workers} -> 0)')
            refine_workers = 0
        self.pipeline = pipeline
        self.dataset = dataset
        self.layout = layout
        self.stages = tuple(stages)
        self.on_error = on_error
        self.refine_workers = refine_workers
        self.loader_workers = loader_workers
        self.saliency_batch = saliency_batch
        self.worker_threads = worker_threads
        self.network_threads = network_threads or torch.get_num_threads()
        self.context = RefineContext(pipeline.refiner, pipeline.label_ids, dataset, layout, vis,
                                     refine_stage='refine' in self.stages)
        self.cue = pipeline.refiner.cue
        #: the image being handled (the last one when a run stops), and the live summary
        self.current: Optional[str] = None
        self.summary = RunSummary()
        self._pool: Optional[_RefinePool] = None
        self._order: Dict[int, int] = {}

    def _img_id(self, index: int) -> str:
        return self.dataset.get_data_info(index)['img_id']

    def _fail(self, index: int, err: Exception) -> None:
        """A bad image: raise it (on_error='raise') or record it and go on.

        In the pipeline, raising waits for the images the workers hold and raises the
        error of the first bad image in order, as the serial loop would.
        """
        if self.on_error == 'raise':
            if self._pool is not None and self._pool.in_flight:
                index, err = self._first_error(index, err)
            self.current = self._img_id(index)
            raise err
        self.current = self._img_id(index)
        self.summary.failures.append(dict(img_id=self.current, error=str(err)))

    def _first_error(self, index: int, err: Exception) -> Tuple[int, Exception]:
        """Drain the workers: the earliest (in run order) of ``err`` and their errors."""
        errors = [(index, err)]
        while self._pool.in_flight:
            for other, error, seconds in self._results(self._pool):
                if error is None:
                    self._finished(seconds)
                else:
                    errors.append((other, self._worker_error(other, error)))
        return min(errors, key=lambda item: self._order[item[0]])

    def _time(self, step: str, seconds: float) -> None:
        self.summary.seconds[step] += seconds
        self.summary.counts[step] += 1

    def _networks(self, items: List[Tuple[int, dict]]) -> Dict[int, dict]:
        """Seeds and cue of decoded images whose stored outputs are missing: index ->
        outputs (:meth:`RefineContext.handle`) of each image that went through (the
        others failed and are recorded)."""
        cue = self.cue
        outputs: Dict[int, dict] = {}
        for index, data in items:
            img_id = data['data_samples'].img_id
            self.current = img_id
            outputs[index] = {}
            if 'cam' in self.stages and not osp.isfile(self.layout.path('cam', img_id)):
                start = time.perf_counter()
                try:
                    cams, class_ids = self.pipeline.attention(data)
                except ValueError as err:
                    self._fail(index, err)
                    del outputs[index]
                    continue
                outputs[index]['cam'] = (cams.numpy().astype(np.float16), class_ids)
                self._time('cam', time.perf_counter() - start)
        if cue and 'cue' in self.stages:
            missing = [(index, data) for index, data in items if index in outputs
                       and not osp.isfile(self.layout.path(cue, data['data_samples'].img_id))]
            for start_at in range(0, len(missing), self.saliency_batch):
                group = missing[start_at:start_at + self.saliency_batch]
                start = time.perf_counter()
                maps = self._cues(group)
                seconds = (time.perf_counter() - start) / len(group)
                for (index, data), value in zip(group, maps):
                    self.current = data['data_samples'].img_id
                    if isinstance(value, ValueError):
                        self._fail(index, value)
                        del outputs[index]
                        continue
                    # maps travel as arrays; structured cues (CLIP-ES's affinity) as they are
                    outputs[index]['cue'] = (value.numpy() if isinstance(value, torch.Tensor)
                                             else value)
                    self._time('cue', seconds)
        return outputs

    def _cues(self, group: List[Tuple[int, dict]]) -> list:
        """Cue maps of a group of images (an exception in place of a map that failed)."""
        if len(group) > 1:
            try:
                return self.pipeline.cues([data for _, data in group])
            except ValueError:  # find the bad image one at a time
                pass
        out = []
        for _, data in group:
            try:
                out.append(self.pipeline.cue(data))
            except ValueError as err:
                out.append(err)
        return out

    def run(self, indices: Sequence[int], progress: bool = False) -> RunSummary:
        """Run the stages on the images ``indices`` of the dataset; the summary.

        Raises the first bad image's error with ``on_error='raise'``, and
        :class:`RefineWorkerDied` when a refine worker is killed.
        """
        self.summary = RunSummary()
        self._order = {index: position for position, index in enumerate(indices)}
        bar = tqdm(total=len(indices), desc='pseudo labels', disable=not progress,
                   dynamic_ncols=True)
        start = time.perf_counter()
        threads = torch.get_num_threads()
        try:
            if self.refine_workers == 0:
                self._run_serial(indices, bar)
            else:
                torch.set_num_threads(self.network_threads)
                self._run_pipelined(indices, bar)
        finally:
            torch.set_num_threads(threads)
            bar.close()
            self.summary.elapsed = time.perf_counter() - start
        self.summary.busy = self._busy()
        return self.summary

    def _busy(self) -> Dict[str, float]:
        elapsed = self.summary.elapsed
        if elapsed <= 0:
            return {}
        parallel = dict(read=1, refine=1)
        if self.refine_workers:
            parallel = dict(read=max(self.loader_workers, 1), refine=self.refine_workers)
        return {step: round(seconds / (elapsed * parallel.get(step, 1)), 3)
                for step, seconds in self.summary.seconds.items()}

    def _run_serial(self, indices: Sequence[int], bar) -> None:
        for index in indices:
            self.current = self._img_id(index)
            start = time.perf_counter()
            try:
                data = load_sample(self.dataset, index)
            except ValueError as err:
                self._fail(index, err)
                bar.update()
                continue
            self._time('read', time.perf_counter() - start)
            bar.update()
            outputs = self._networks([(index, data)])
            if index not in outputs:
                continue
            start = time.perf_counter()
            try:
                self.context.handle(index, outputs[index], data)
            except ValueError as err:
                self._fail(index, err)
                continue
            if 'refine' in self.stages:
                self._time('refine', time.perf_counter() - start)
            self.summary.done += 1

    def _decoded(self, indices: Sequence[int]):
        """``(index, sample or error, seconds)`` of each index, decoded ahead by workers."""
        return DataLoader(_DecodedSamples(self.dataset, indices), batch_size=None, shuffle=False,
                          num_workers=self.loader_workers, collate_fn=_identity,
                          multiprocessing_context=_mp_context() if self.loader_workers else None)

    def _run_pipelined(self, indices: Sequence[int], bar) -> None:
        networks = 'cam' in self.stages or ('cue' in self.stages and self.cue is not None)
        pool = self._pool = _RefinePool(self.context, self.refine_workers, self.worker_threads)
        if networks:
            items = iter(self._decoded(indices))
        else:  # refine only: the workers decode
            items = ((index, None, 0.0) for index in indices)
        try:
            group: List[Tuple[int, dict]] = []
            for index, data, seconds in items:
                if isinstance(data, ValueError):
                    self._fail(index, data)
                    bar.update()
                    continue
                if data is not None:
                    self._time('read', seconds)
                group.append((index, data))
                if len(group) < self.saliency_batch:
                    continue
                self._dispatch(group, pool, bar)
                group = []
            self._dispatch(group, pool, bar)
            while pool.in_flight:
                self._collect(pool, bar)
        except BaseException:
            pool.close(terminate=True)
            raise
        finally:
            self._pool = None
        pool.close()

    def _dispatch(self, group: List[Tuple[int, dict]], pool: _RefinePool, bar) -> None:
        """Network stages of a group, then its images (and outputs) to the workers."""
        if not group:
            return
        if group[0][1] is not None:
            passed = self._networks(group)
        else:
            passed = {index: {} for index, _ in group}
        bar.update(len(group) - len(passed))
        for index, outputs in passed.items():
            while not pool.has_room():
                self._collect(pool, bar)
            pool.submit(index, outputs)

    def _collect(self, pool: _RefinePool, bar) -> None:
        """Take the workers' answers (waits for at least one)."""
        for index, error, seconds in self._results(pool):
            bar.update()
            if error is None:
                self._finished(seconds)
            else:
                self._fail(index, self._worker_error(index, error))

    def _results(self, pool: _RefinePool) -> list:
        """:meth:`_RefinePool.results`; a dead worker's error names the image's id."""
        try:
            return pool.results()
        except RefineWorkerDied as err:
            self.current = self._img_id(err.index)
            raise RefineWorkerDied(f'{err} ({self.current}); the images finished so far are '
                                   f'stored: rerun the same command to resume',
                                   err.index) from None

    def _finished(self, seconds: float) -> None:
        if 'refine' in self.stages:
            self._time('refine', seconds)
        self.summary.done += 1

    def _worker_error(self, index: int, error: Tuple[str, str]) -> Exception:
        """A worker's ``(kind, message)`` as the error to record; a crash (a bug, not
        bad input) stops the run at once."""
        kind, message = error
        if kind == 'crash':
            self.current = self._img_id(index)
            raise RuntimeError(f'refine worker failed on {self.current}:\n{message}')
        return InputError(message)
