"""benchmarks/gpu_suite.sh --smoke: every step of the prepared GPU script, with tiny inputs on
the CPU, so that the script a lent GPU runs first cannot rot between GPU sessions."""
import os
import re
import subprocess
import sys

from conftest import REPO

STEPS = ('CAM family', 'Erasing saliency', 'Dense CRF pool', 'Random walk',
         'Segmentor iterations', 'gen_pseudo: pipeline, extrapolated',
         'gen_pseudo: serial vs pipeline')


def test_gpu_suite_smoke_runs_every_step(tmp_path):
    out = tmp_path / 'suite.md'
    env = dict(os.environ, PYTHON=sys.executable, PYTHONPATH=REPO)
    proc = subprocess.run(['bash', 'benchmarks/gpu_suite.sh', '--smoke', str(out)], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:] + open(f'{out}.log').read()[-4000:]
    text = out.read_text()
    assert [m for m in re.findall(r'^## (.+)$', text, re.M)] == list(STEPS)
    assert re.search(r'^Suite: \d+ s in all\.$', text, re.M)
    # each step's table is there: a header row and at least one result row per step
    assert len(re.findall(r'^\| --- \|', text, re.M)) == len(STEPS)
    # the serial loop and the pipeline wrote byte-identical files, for both jobs
    rows = re.findall(r'^\| (crf|irn) \| [^|]+ \| [\d.]+ \| [\d.]+ \| [\d.]+x \| (\w+) \|', text,
                      re.M)
    assert rows == [('crf', 'yes'), ('irn', 'yes')]
    # Grad-CAM agrees with pytorch-grad-cam (float32 maps min-max scaled to [0, 1]: 64 ulps
    # of 1.0 cover the rounding of two summation orders), the CRF pool with one worker
    diff = re.search(r'^\| GradCAM \| 1 \| [\d.]+ \| [\d.]+ \| [\d.]+x \| ([\d.e+-]+) \|$', text,
                     re.M)
    assert float(diff.group(1)) <= 64 * 2.0**-23
    assert re.search(r'^\| 2 \| [\d.]+ \| [\d.]+x \| yes \|$', text, re.M)
