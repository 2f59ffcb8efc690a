"""Shared fixtures: generated VOCdevkit / SOD trees (nothing is downloaded)."""
import os
import os.path as osp
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
COCO128_VOC20 = osp.join(REPO, '..', 'shared', 'data', 'coco128_voc20', 'VOCdevkit', 'VOC2012')


@pytest.fixture(scope='session')
def synthetic_voc(tmp_path_factory) -> str:
    """A small generated VOC2012 tree (40 train / 16 val images, 96×128)."""
    from wsss_mm.datasets.synthetic import make_synthetic_voc
    return make_synthetic_voc(str(tmp_path_factory.mktemp('voc')), num_train=40, num_val=16)


@pytest.fixture(scope='session')
def synthetic_sod(tmp_path_factory) -> str:
    """A small generated salient-object set in DUTS-TR layout."""
    from wsss_mm.datasets.synthetic import make_synthetic_sod
    return make_synthetic_sod(str(tmp_path_factory.mktemp('sod')), num_images=16)


@pytest.fixture(scope='session')
def coco128_voc20() -> str:
    """The real-photo VOC-layout set of this workplace; skipped where it is absent."""
    if not osp.isdir(COCO128_VOC20):
        pytest.skip(f'real-photo set not found at {COCO128_VOC20} (only in the dev workplace)')
    return COCO128_VOC20


def free_port() -> int:
    """A TCP port free right now (torchrun's rendezvous; fixed ports collide across runs)."""
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def run_tool(args, cwd=REPO, timeout=600, env=None):
    """Run a tools/ script (or torchrun) with this interpreter; fail with its output."""
    full_env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, *args], cwd=cwd, env=full_env, timeout=timeout,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(f'{args} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n'
                             f'{proc.stderr[-6000:]}')
    return proc
