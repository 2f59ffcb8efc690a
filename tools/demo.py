"""The main job on the embedded default: Xu et al.'s whole pipeline on CPU, end to end.

  python tools/demo.py --work-dir work_dirs/demo            # generated data (default)
  python tools/demo.py --work-dir work_dirs/real --preset effnet \
      --data-root <coco128_voc20>/VOCdevkit/VOC2012                # real photos

Stages (each one the same tool a user runs, with timings):
  data        generate a VOCdevkit WSSS set and a separate salient-object set (skipped with
              --data-root)
  classifier  tools/train.py: the multi-label classifier on image-level labels
  saliency    train U2-Net-p on the separate salient-object set and score it there
              (--saliency rbd: the weight-free RobustBackgroundDetector, no training;
              --sal-data DIR: the EfficientNet-Lite0 FPN trained on real salient objects,
              DIR/images + DIR/masks on the ECSSD split, or --sal-ckpt: its checkpoint)
  fusion_val  (--tune-fusion, default for effnet) Algorithm 1's gamma1/gamma2 chosen on the
              val split: gen_pseudo --stages cam,cue on val, tools/eval_pseudo.py
              --fusion-sweep against val's GT; the train labels use the chosen pair
  pseudo      tools/gen_pseudo.py: Grad-CAM -> erasing saliency -> Algorithm 1 (+ overlays)
  eval        tools/eval_pseudo.py: CAM (best background threshold), saliency-only and
              fused pseudo labels against the GT masks (evaluation only; with
              --tune-fusion also at the paper's gamma1/gamma2)
  compare     (--no-compare skips it) the other pseudo-label methods from the same seeds:
              threshold, dense CRF, IRN (IRNet trained on the seeds' relation labels), scored
              with Algorithm 1's labels by tools/compare_pseudo.py
  segmentor   tools/train.py: MSCDeepLabV2 on the pseudo labels (synthetic: a tiny ResNet from
              scratch, scales 1/0.75/0.5; effnet: the ImageNet EfficientNet-Lite0 trunk)
  test        tools/test.py --crf: val mIoU without and with dense CRF
  upper bound with --gt-segmentor (default for effnet): the same segmentor trained on the
              train split's GT masks (SegmentationClass) and tested the same way
Writes <work-dir>/results.json, <work-dir>/report.html and prints one table.

Each stage folder records what made it (wsss_mm.io.stage_record: the merged config and
options, the checkpoints and upstream stages it read, the seed); a rerun reuses a stage
whose record matches and recomputes one whose inputs changed, saying which and why
("pseudo: reused (record matches)", "classifier: recomputed: options ... seed=0 -> 1").
The demo marks the work dirs it creates (.wsss_mm_demo); --fresh deletes only such a dir,
and refuses one that holds the data root, the repository or entries the demo did not make.
"""
import argparse
import glob
import html
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

from mmengine.config import Config  # noqa: E402

from eval_pseudo import eval_dataset_config  # noqa: E402 (tools/, next to this file)

from wsss_mm.datasets import read_split  # noqa: E402
from wsss_mm.datasets.synthetic import make_synthetic_sod, make_synthetic_voc  # noqa: E402
from wsss_mm.evaluation import evaluate_fusion, format_table  # noqa: E402
from wsss_mm.io import (WorkDirLayout, make_record, record_digest, stage_state,  # noqa: E402
                        write_record)
from wsss_mm.registry import DATASETS  # noqa: E402
from wsss_mm.utils.io import atomic_write_bytes  # noqa: E402
from wsss_mm.utils.setup_env import register_all_modules  # noqa: E402

DEMO = osp.join(REPO, 'configs', 'demo')
# preset -> its configs (in configs/demo): classifier, pseudo labels with the trained U2-Net-p
# and with RBD (Algorithm 1), segmentor, and the other pseudo-label methods of the comparison
# stage (the same seeds: thresholded, CRF-refined, IRN with the IRNet trained on their relations)
PRESETS = {
    'synthetic': dict(classifier='cls_tiny-r18-gap_1000iter_demo.py',
                      pseudo_u2netp='pseudo_tiny-r18-gradcam_u2netp-erasing_demo.py',
                      pseudo_rbd='pseudo_tiny-r18-gradcam_rbd-erasing_demo.py',
                      segmentor='deeplabv2_tiny-r18-aspp-msc_1000iter_demo.py',
                      threshold='pseudo_tiny-r18-gradcam_threshold_demo.py',
                      crf='pseudo_tiny-r18-gradcam_crf_demo.py',
                      irn='pseudo_tiny-r18-gradcam_irn_demo.py',
                      irnet='irnet_tiny-r18_60iter_demo.py'),
    'effnet': dict(classifier='cls_effnet-lite0-gap_15e_demo.py',
                   pseudo_u2netp='pseudo_effnet-lite0-gradcam_u2netp-erasing_demo.py',
                   pseudo_rbd='pseudo_effnet-lite0-gradcam_rbd-erasing_demo.py',
                   segmentor='deeplabv2_effnet-lite0-aspp_300iter_demo.py',
                   threshold='pseudo_effnet-lite0-gradcam_threshold_demo.py',
                   crf='pseudo_effnet-lite0-gradcam_crf_demo.py',
                   irn='pseudo_effnet-lite0-gradcam_irn-effnet-lite0_demo.py',
                   irnet='irnet_effnet-lite0_60iter_demo.py'),
}
#: the file that marks a work dir as made by the demo (--fresh deletes only such a dir)
MARKER = '.wsss_mm_demo'
#: every entry the demo creates in its work dir
DEMO_ENTRIES = {MARKER, 'data', 'classifier', 'classifier_test', 'classifier_val.json',
                'saliency', 'saliency_test', 'saliency_val.json', 'fusion_val',
                'fusion_val.json', 'pseudo_config.py', 'pseudo', 'eval_pseudo.json',
                'saliency_only', 'compare', 'segmentor', 'seg_test', 'segmentor_val.json',
                'segmentor_gt', 'segmentor_gt_test', 'segmentor_gt_val.json', 'results.json',
                'report.html'}
SALIENCY_CONFIG = osp.join(DEMO, 'saliency_u2netp-64_200iter_demo.py')
# --sal-data / --sal-ckpt: the detector trained on real salient objects, and Algorithm 1 with it
REAL_SALIENCY_CONFIG = osp.join(REPO, 'configs', 'saliency', 'effnet-lite0-fpn_480iter_ecssd.py')
REAL_SALIENCY_PSEUDO_CONFIG = osp.join(DEMO,
                                       'pseudo_effnet-lite0-gradcam_ecssd-fpn-erasing_demo.py')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--data-root', help='an existing VOCdevkit/VOC2012 tree (default: '
                        'generate one under the work dir)')
    parser.add_argument('--train-split', default='ImageSets/Segmentation/train.txt',
                        help='relative to the data root, or an absolute path')
    parser.add_argument('--val-split', default='ImageSets/Segmentation/val.txt')
    parser.add_argument('--num-train', type=int, default=160, help='generated train images')
    parser.add_argument('--num-val', type=int, default=40, help='generated val images')
    parser.add_argument('--preset', choices=sorted(PRESETS), default='synthetic',
                        help='classifier/pseudo-label configs: a tiny ResNet trained from '
                        'scratch (synthetic) or ImageNet EfficientNet-Lite0 (effnet)')
    parser.add_argument('--classifier-config', help='override the preset')
    parser.add_argument('--pseudo-config', help='override the preset')
    parser.add_argument('--saliency', choices=['u2netp', 'rbd'],
                        help='train U2-Net-p on the salient-object set first (u2netp, default '
                        'for synthetic), or use the weight-free RobustBackgroundDetector (rbd, '
                        'default for effnet: on real photos it scores max F 0.39 against the '
                        'foreground, the U2-Net-p trained on generated images 0.25)')
    parser.add_argument('--sod-iters', type=int, help='override the saliency iterations')
    parser.add_argument('--sal-data', help='a salient-object folder (images/*.jpg, '
                        'masks/*.png, e.g. ECSSD) to train the EfficientNet-Lite0 FPN detector '
                        'on (the split lists of its config) for Algorithm 1, instead of --saliency')
    parser.add_argument('--sal-ckpt', help='a trained checkpoint of that detector to reuse '
                        '(with --sal-data: also scored on its held-out split)')
    parser.add_argument('--seg-config', help='override the preset')
    parser.add_argument('--gt-segmentor', action=argparse.BooleanOptionalAction,
                        help='also train the segmentor on the GT masks of the train split (the '
                        'upper bound; default: on for effnet)')
    parser.add_argument('--cls-iters', type=int, help='override the classifier iterations '
                        '(iteration-based classifier configs: synthetic)')
    parser.add_argument('--cls-epochs', type=int, help='override the classifier epochs '
                        '(epoch-based classifier configs: effnet)')
    parser.add_argument('--seg-iters', type=int, help='override the segmentor iterations')
    parser.add_argument('--tune-fusion', action=argparse.BooleanOptionalAction,
                        help="choose Algorithm 1's gamma1/gamma2 on the val split's GT (never on "
                        "train, where the labels are scored) instead of the paper's 0.2/0.06 "
                        '(default: on for effnet)')
    parser.add_argument('--compare', action=argparse.BooleanOptionalAction, default=True,
                        help='also make pseudo labels with the other methods from the same '
                        'seeds (threshold, CRF, IRN) and compare all with tools/compare_pseudo.py')
    parser.add_argument('--irnet-iters', type=int, help='override the IRNet iterations')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--fresh', action='store_true', help='delete the work dir first (only '
                        'a work dir the demo made, without the data root or other files)')
    return parser.parse_args()


def run(args: List[str]) -> str:
    """Run a tool with this interpreter; stream nothing, raise with its log on failure."""
    env = dict(os.environ, PYTHONPATH=REPO)
    proc = subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True,
                          text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-6000:])
        raise SystemExit(f'demo: {" ".join(args[:2])} failed ({proc.returncode})')
    return proc.stdout


def data_options(prefixes: List[str], root: str) -> List[str]:
    return [f'{p}.dataset.data_root={root}' for p in prefixes]


def schedule_options(length: Optional[int], by_epoch: bool = False, validate: bool = True,
                     poly_end: bool = False) -> List[str]:
    """cfg-options that shorten a schedule to ``length`` iterations (epochs), checkpointing
    (and validating) once at its end; ``poly_end`` also ends the first scheduler there.
    Nothing when ``length`` is None (the config's schedule)."""
    if not length:
        return []
    opts = [f'train_cfg.max_{"epochs" if by_epoch else "iters"}={length}',
            f'default_hooks.checkpoint.interval={length}']
    if validate:
        opts.append(f'train_cfg.val_interval={length}')
    if poly_end:
        opts.append(f'param_scheduler.0.end={length}')
    return opts


def train(config: str, work_dir: str, options: List[str]) -> str:
    """tools/train.py ``config`` into ``work_dir``; returns the path of its last checkpoint."""
    run(['tools/train.py', config, '--work-dir', work_dir, '--cfg-options', *options])
    return last_checkpoint(work_dir)


def last_checkpoint(work_dir: str) -> str:
    """The last checkpoint tools/train.py wrote into ``work_dir``."""
    with open(osp.join(work_dir, 'last_checkpoint'), encoding='utf-8') as f:
        return osp.join(work_dir, f.read().strip())


def prepare_work_dir(work: str, fresh: bool, data_root: Optional[str]) -> None:
    """Create the work dir, marked as the demo's when it is new or empty; with ``fresh``
    delete it first, only where it is the demo's own (:data:`MARKER`, nothing but the
    entries the demo makes, neither the repository nor the data root inside).

    Raises:
        SystemExit: naming the reason, when ``fresh`` must not delete ``work``.
    """
    if fresh and osp.lexists(work):
        real = osp.realpath(work)
        for path, what in ((REPO, 'the repository'), (data_root, 'the data root')):
            if path and osp.commonpath([real, osp.realpath(path)]) == real:
                raise SystemExit(f'demo --fresh: {work} contains {what} ({path}): refusing to '
                                 'delete it')
        if osp.islink(work) or not osp.isfile(osp.join(work, MARKER)):
            raise SystemExit(f'demo --fresh: {work} was not made by the demo (no {MARKER} in '
                             'it): refusing to delete it; delete it yourself or choose another '
                             '--work-dir')
        foreign = sorted(set(os.listdir(work)) - DEMO_ENTRIES)
        if foreign:
            raise SystemExit(f'demo --fresh: {work} holds entries the demo did not make '
                             f'({", ".join(foreign)}): refusing to delete it')
        shutil.rmtree(work)
    new = not osp.isdir(work) or not os.listdir(work)
    os.makedirs(work, exist_ok=True)
    if new:
        atomic_write_bytes(osp.join(work, MARKER), b'made by tools/demo.py\n')


def config_values(config: str, options: List[str]) -> Dict:
    """What a tool run depends on: the config (with its bases) and the command's options."""
    return dict(config=Config.fromfile(config).to_dict(),
                options=dict(o.split('=', 1) for o in options))


def reuse_or_run(name: str, folder: str, record: Dict, compute: Callable[[], None],
                 outputs: Sequence[str] = ()) -> None:
    """Run ``compute`` (which fills ``folder`` and writes ``outputs``) unless the folder's
    record matches ``record`` and the outputs exist; says which and why. The record is
    written when the stage has finished, so a stage stopped half-way runs again; a
    recomputed stage starts from an empty folder."""
    state, differences = stage_state(folder, record)
    if state == 'same' and not all(osp.isfile(o) for o in outputs):
        state, differences = 'changed', ['an output is missing']
    if state == 'same':
        print(f'[demo] {name}: reused (record matches)', flush=True)
        return
    why = dict(new='nothing stored', unrecorded='stored without a record',
               changed='; '.join(differences))[state]
    print(f'[demo] {name}: recomputed: {why}', flush=True)
    if osp.isdir(folder):
        shutil.rmtree(folder)
    compute()
    write_record(folder, record)


def real_saliency(args: argparse.Namespace, work: str) -> Dict:
    """The detector trained on real salient objects (--sal-data / --sal-ckpt).

    Trains REAL_SALIENCY_CONFIG on ``args.sal_data`` unless ``args.sal_ckpt`` is given
    (reused while the record of ``<work>/saliency`` matches: config and options), and
    scores it on the held-out split of ``args.sal_data`` when there is one. Returns the
    checkpoint and its metrics (``sod_val_MAE`` / ``sod_val_maxF``, absent without data).
    """
    sod_opts = [f'randomness.seed={args.seed}']
    if args.sal_data:
        sod_opts += data_options(['train_dataloader', 'val_dataloader', 'test_dataloader'],
                                 osp.abspath(args.sal_data))
    if args.sod_iters:  # warm-up, then the poly decay ends with the shortened schedule
        sod_opts += schedule_options(args.sod_iters) + [f'param_scheduler.1.end={args.sod_iters}']
    metrics = osp.join(work, 'saliency_val.json')

    def test(checkpoint: str) -> None:
        run(['tools/test.py', REAL_SALIENCY_CONFIG, checkpoint, '--work-dir',
             osp.join(work, 'saliency_test'), '--out', metrics, '--cfg-options', *sod_opts])

    if args.sal_ckpt:
        checkpoint = osp.abspath(args.sal_ckpt)
        if not osp.isfile(checkpoint):
            raise SystemExit(f'demo: saliency checkpoint {checkpoint} not found')
        if args.sal_data:
            test(checkpoint)
    else:
        sod_dir = osp.join(work, 'saliency')
        reuse_or_run('saliency', sod_dir, make_record(
            'saliency', config_values(REAL_SALIENCY_CONFIG, sod_opts)),
            lambda: test(train(REAL_SALIENCY_CONFIG, sod_dir, sod_opts)), outputs=[metrics])
        checkpoint = last_checkpoint(sod_dir)
    result = dict(checkpoint=checkpoint)
    if args.sal_data:
        with open(metrics, encoding='utf-8') as f:
            result.update({f'sod_val_{k.split("/")[-1]}': round(v, 4)
                           for k, v in json.load(f).items()})
    return result


def fusion_mious(pseudo_config: str, root: str, split: str, pseudo_dir: str,
                 gamma1s: Sequence[float], gamma2: float, attention: bool) -> List[float]:
    """mIoU of Algorithm 1 (or, ``attention=False``, saliency alone: every salient pixel
    goes to the image's first class) at each gamma1 of ``gamma1s`` and ``gamma2``, from the
    stored CAMs and saliency in one pass, scored on ``split`` as tools/eval_pseudo.py
    scores (its dataset config)."""
    register_all_modules()
    cfg = Config.fromfile(pseudo_config)
    cfg.pseudo_eval_dataset.data_root = root
    dataset = DATASETS.build(eval_dataset_config(cfg, split, None))
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    grid = evaluate_fusion(WorkDirLayout(pseudo_dir),
                           [(info['img_id'], info['seg_map_path']) for info in infos],
                           dataset.metainfo['seg_classes'], gamma1s, [gamma2], attention,
                           dict(cfg.refiner))['grid']
    return [point['mIoU'] for point in grid]


def tune_fusion(args: argparse.Namespace, root: str, cls_ckpt: str, pseudo_opts: List[str],
                checkpoints: Dict[str, str], data: Dict[str, str], work: str) -> Dict:
    """Algorithm 1's (gamma1, gamma2) and saliency-only's gamma1 chosen on the val split:
    CAMs and saliency of the val images (gen_pseudo --stages cam,cue), scored over the
    grid of tools/eval_pseudo.py --fusion-sweep against val's GT. Returns its ``fusion``."""
    val_dir, out = osp.join(work, 'fusion_val'), osp.join(work, 'fusion_val.json')
    val_opts = [o for o in pseudo_opts if not o.startswith('pseudo_dataset.ann_file=')] + [
        f'pseudo_dataset.ann_file={args.val_split}']

    def compute():
        run(['tools/gen_pseudo.py', args.pseudo_config, '--classifier-checkpoint', cls_ckpt,
             '--work-dir', val_dir, '--stages', 'cam,cue', '--cfg-options', *val_opts])
        run(['tools/eval_pseudo.py', args.pseudo_config, '--work-dir', val_dir, '--split',
             args.val_split, '--fusion-sweep', '--out', out, '--cfg-options', *val_opts])

    reuse_or_run('fusion_val', val_dir, make_record(
        'fusion_val', config_values(args.pseudo_config, val_opts), checkpoints=checkpoints,
        upstream=data), compute, outputs=[out])
    with open(out, encoding='utf-8') as f:
        return json.load(f)['fusion']


def compare_methods(args: argparse.Namespace, preset: Dict[str, str], root: str,
                    cls_ckpt: str, pseudo_opts: List[str], pseudo_dir: str, out_dir: str,
                    upstream: Dict[str, str], stage: Callable[[str], None],
                    done: Callable[[str], None]) -> List[Dict]:
    """The other pseudo-label methods from the same seeds, compared on the train split.

    Runs the commands of docs/pipeline.md ("Comparing pseudo-label methods"): the seeds
    thresholded and CRF-refined, IRN (seed CAMs, IRNet trained on their relation labels,
    boundaries and random walk), each taking the CAMs of Algorithm 1's run where their
    record matches (gen_pseudo --seeds-from), then tools/compare_pseudo.py on these and the demo's
    Algorithm 1 labels (reused where ``out_dir``'s record matches: the same configs,
    options, classifier and ``upstream`` records). Returns compare_pseudo.json's methods
    (name, refiner, mIoU, ...).
    """
    stage('compare')
    dirs = dict(cam=osp.join(out_dir, 'cam'), crf=osp.join(out_dir, 'crf'),
                xu2019=pseudo_dir, irn=osp.join(out_dir, 'irn'))
    configs = dict(cam=preset['threshold'], crf=preset['crf'], xu2019=args.pseudo_config,
                   irn=preset['irn'])
    irnet_dir = osp.join(out_dir, 'irnet')
    irnet_opts = [f'train_dataloader.dataset.dataset.data_root={root}',
                  f'train_dataloader.dataset.dataset.ann_file={args.train_split}',
                  f'train_dataloader.dataset.seed_dir={dirs["irn"]}',
                  f'randomness.seed={args.seed}'
                  ] + schedule_options(args.irnet_iters, validate=False)
    names = list(configs)

    def compute():  # every method takes the seeds Algorithm 1's run made (same record)
        gen = ['tools/gen_pseudo.py', '--classifier-checkpoint', cls_ckpt, '--seeds-from',
               pseudo_dir]
        for name in ('cam', 'crf'):
            run(gen + [configs[name], '--work-dir', dirs[name], '--cfg-options', *pseudo_opts])
        run(gen + [configs['irn'], '--work-dir', dirs['irn'], '--stages', 'cam',
                   '--cfg-options', *pseudo_opts])
        irnet_ckpt = train(preset['irnet'], irnet_dir, irnet_opts)
        run(gen + [configs['irn'], '--work-dir', dirs['irn'], '--stages', 'cue,refine',
                   '--cue-checkpoint', irnet_ckpt, '--cfg-options', *pseudo_opts])
        run(['tools/compare_pseudo.py', *[configs[n] for n in names], '--names', *names,
             '--pseudo-dirs', *[dirs[n] for n in names], '--work-dir', out_dir, '--split',
             args.train_split, '--cfg-options', f'pseudo_eval_dataset.data_root={root}'])

    record = make_record('compare', dict(
        methods={n: config_values(configs[n], pseudo_opts) for n in ('cam', 'crf', 'irn')},
        irnet=config_values(preset['irnet'], irnet_opts), split=args.train_split),
        checkpoints=dict(classifier=cls_ckpt), upstream=upstream)
    out_json = osp.join(out_dir, 'compare_pseudo.json')
    reuse_or_run('compare', out_dir, record, compute, outputs=[out_json])
    with open(out_json, encoding='utf-8') as f:
        methods = json.load(f)['methods']
    done('compare')
    return [dict(name=m['name'], refiner=m['refiner'], mIoU=round(m['mIoU'], 2),
                 fgPrecision=round(m['fgPrecision'], 1), fgRecall=round(m['fgRecall'], 1))
            for m in methods]


def write_report(work: str, results: Dict, table: str) -> None:
    """A small HTML page: the table, pseudo-label overlays and segmentation results."""
    def rel(path):
        return html.escape(osp.relpath(path, work))
    vis = sorted(glob.glob(osp.join(work, 'pseudo', 'vis', '*.png')))[:8]
    preds = sorted(glob.glob(osp.join(work, 'seg_test', '**', 'vis_image', '*.png'),
                             recursive=True))[:8]
    rows = ''.join(f'<tr><td>{html.escape(k)}</td><td>{v}</td></tr>'
                   for k, v in results.items() if not isinstance(v, (dict, list)))
    compare_md = osp.join(work, 'compare', 'compare_pseudo.md')
    compare = []
    if osp.isfile(compare_md):
        with open(compare_md, encoding='utf-8') as f:
            compare = ['<h2>Pseudo-label methods from the same seeds (tools/compare_pseudo.py): '
                       'image | GT | each method</h2>', f'<pre>{html.escape(f.read())}</pre>',
                       '<div><img src="compare/compare_pseudo.png"></div>']
    parts = [
        '<html><head><meta charset="utf-8"><title>wsss_mm demo</title><style>'
        'body{font-family:sans-serif;margin:2em}td{padding:2px 10px;border-bottom:1px solid #ddd}'
        '</style></head><body><h1>wsss_mm demo: Xu et al. (ICASSP 2019) on CPU</h1>',
        f'<pre>{html.escape(table)}</pre><table>{rows}</table>',
        '<h2>Stages 1-3: image | Grad-CAM per class | erasing saliency | pseudo label | GT</h2>',
        ''.join(f'<div><img src="{rel(p)}"></div>' for p in vis),
        *compare,
        '<h2>Stage 4: MSCDeepLabV2 on val (left: GT, right: prediction)</h2>',
        ''.join(f'<div><img src="{rel(p)}" width="400"></div>' for p in preds),
        '</body></html>'
    ]
    atomic_write_bytes(osp.join(work, 'report.html'), ''.join(parts).encode('utf-8'))


def main() -> None:
    args = parse_args()
    preset = {k: osp.join(DEMO, v) for k, v in PRESETS[args.preset].items()}
    args.seg_config = args.seg_config or preset['segmentor']
    real_sal = bool(args.sal_data or args.sal_ckpt)
    if real_sal and args.saliency:
        raise SystemExit('demo: --saliency and --sal-data/--sal-ckpt exclude each other')
    args.saliency = args.saliency or ('rbd' if args.preset == 'effnet' else 'u2netp')
    if args.gt_segmentor is None:
        args.gt_segmentor = args.preset == 'effnet'
    if args.tune_fusion is None:
        args.tune_fusion = args.preset == 'effnet'
    args.classifier_config = args.classifier_config or preset['classifier']
    args.pseudo_config = args.pseudo_config or (
        REAL_SALIENCY_PSEUDO_CONFIG if real_sal else preset[f'pseudo_{args.saliency}'])
    if real_sal:
        args.saliency = 'effnet-lite0-fpn (real salient objects)'

    work = osp.abspath(args.work_dir)
    prepare_work_dir(work, args.fresh, args.data_root)
    timings: Dict[str, float] = {}
    results: Dict = {}

    def stage(name: str):
        print(f'[demo] {name} ...', flush=True)
        timings[name] = time.time()

    def done(name: str):
        timings[name] = round(time.time() - timings[name], 1)
        print(f'[demo] {name} done in {timings[name]:.1f} s', flush=True)

    # data: the generated sets (reused while their settings match)
    stage('data')
    data_dir = osp.join(work, 'data')
    sod_root = osp.join(data_dir, 'SOD')
    root = osp.abspath(args.data_root) if args.data_root else osp.join(
        data_dir, 'VOCdevkit', 'VOC2012')

    def generate():
        if not args.data_root:
            make_synthetic_voc(data_dir, num_train=args.num_train, num_val=args.num_val,
                               seed=args.seed)
        if args.saliency == 'u2netp':
            make_synthetic_sod(sod_root, num_images=160, seed=args.seed + 1, split='TR')
            make_synthetic_sod(sod_root, num_images=40, seed=args.seed + 2, split='TE')

    generated = make_record('data', dict(
        voc=None if args.data_root else dict(num_train=args.num_train, num_val=args.num_val,
                                             seed=args.seed),
        sod=dict(seed=args.seed) if args.saliency == 'u2netp' else None))
    if not args.data_root or args.saliency == 'u2netp':
        reuse_or_run('data', sod_root if args.data_root else data_dir, generated, generate)
    train_ids = read_split(osp.join(root, args.train_split))
    val_ids = read_split(osp.join(root, args.val_split))
    data = dict(data=record_digest(make_record(
        'data', dict(root=root, train_split=args.train_split, val_split=args.val_split),
        upstream=dict(generated=record_digest(generated)), split_ids=train_ids + val_ids)))
    done('data')

    # stage 1: classifier
    stage('classifier')
    cls_dir = osp.join(work, 'classifier')
    cls_opts = data_options(['train_dataloader', 'val_dataloader', 'test_dataloader'], root) + [
        f'train_dataloader.dataset.ann_file={args.train_split}',
        f'val_dataloader.dataset.ann_file={args.val_split}', f'randomness.seed={args.seed}']
    cls_opts += schedule_options(args.cls_iters) + schedule_options(args.cls_epochs,
                                                                    by_epoch=True)
    cls_metrics = osp.join(work, 'classifier_val.json')

    def classifier():
        ckpt = train(args.classifier_config, cls_dir, cls_opts)
        run(['tools/test.py', args.classifier_config, ckpt, '--work-dir',
             osp.join(work, 'classifier_test'), '--out', cls_metrics, '--cfg-options',
             *cls_opts])

    reuse_or_run('classifier', cls_dir, make_record(
        'classifier', config_values(args.classifier_config, cls_opts), upstream=data),
        classifier, outputs=[cls_metrics])
    cls_ckpt = last_checkpoint(cls_dir)
    results.update({f'classifier_val_{k.split("/")[-1]}': round(v, 2)
                    for k, v in json.load(open(cls_metrics)).items()})
    done('classifier')

    # stage 2: the saliency detector, trained on its own salient-object set
    pseudo_opts = [f'pseudo_dataset.data_root={root}',
                   f'pseudo_dataset.ann_file={args.train_split}',
                   f'pseudo_eval_dataset.data_root={root}']
    checkpoints = dict(classifier=cls_ckpt)
    if args.saliency == 'u2netp':
        stage('saliency')
        sod_dir = osp.join(work, 'saliency')
        sod_opts = data_options(['train_dataloader', 'val_dataloader', 'test_dataloader'],
                                sod_root) + [f'randomness.seed={args.seed}']
        sod_opts += schedule_options(args.sod_iters, poly_end=True)
        sod_metrics = osp.join(work, 'saliency_val.json')

        def saliency():
            ckpt = train(SALIENCY_CONFIG, sod_dir, sod_opts)
            run(['tools/test.py', SALIENCY_CONFIG, ckpt, '--work-dir',
                 osp.join(work, 'saliency_test'), '--out', sod_metrics, '--cfg-options',
                 *sod_opts])

        reuse_or_run('saliency', sod_dir, make_record(
            'saliency', config_values(SALIENCY_CONFIG, sod_opts),
            upstream=dict(data=record_digest(generated))), saliency, outputs=[sod_metrics])
        sod_ckpt = checkpoints['saliency'] = last_checkpoint(sod_dir)
        results.update({f'sod_val_{k.split("/")[-1]}': round(v, 4)
                        for k, v in json.load(open(sod_metrics)).items()})
        pseudo_opts.append(f'saliency_generator.detector.init_cfg.checkpoint={sod_ckpt}')
        done('saliency')
    if real_sal:
        stage('saliency')
        sod = real_saliency(args, work)
        sod_ckpt = checkpoints['saliency'] = sod.pop('checkpoint')  # its bytes are recorded
        pseudo_opts.append(f'saliency_generator.detector.init_cfg.checkpoint={sod_ckpt}')
        results.update(sod)
        done('saliency')

    # Algorithm 1's thresholds, chosen on val (the paper's stay for the ablation rows)
    refiner = Config.fromfile(args.pseudo_config).get('refiner') or {}
    paper_gammas = (refiner.get('gamma1', 0.2), refiner.get('gamma2', 0.06))
    fusion = None
    if args.tune_fusion and refiner.get('type') == 'SaliencyFusionRefiner':
        stage('fusion_val')
        fusion = tune_fusion(args, root, cls_ckpt, pseudo_opts, checkpoints, data, work)
        best = fusion['algorithm1']['best']
        # the pseudo-label config with the chosen pair, for gen_pseudo, eval and compare
        tuned = osp.join(work, 'pseudo_config.py')
        atomic_write_bytes(tuned, (f'_base_ = {args.pseudo_config!r}\n'
                                   f'# gamma1/gamma2 chosen on {args.val_split} (fusion_val.json)\n'
                                   f'refiner = dict(gamma1={best["gamma1"]!r}, '
                                   f'gamma2={best["gamma2"]!r})\n').encode('utf-8'))
        args.pseudo_config = tuned
        results.update(fusion_gamma1=best['gamma1'], fusion_gamma2=best['gamma2'],
                       fusion_val_miou=round(best['mIoU'], 2),
                       saliency_only_gamma1=fusion['saliency_only']['best']['gamma1'])
        done('fusion_val')

    # stages 1-3: pseudo labels
    stage('pseudo')
    pseudo_dir = osp.join(work, 'pseudo')
    pseudo_record = make_record('pseudo', config_values(args.pseudo_config, pseudo_opts),
                                checkpoints=checkpoints, upstream=data)
    reuse_or_run('pseudo', pseudo_dir, pseudo_record, lambda: run([
        'tools/gen_pseudo.py', args.pseudo_config, '--classifier-checkpoint', cls_ckpt,
        '--work-dir', pseudo_dir, '--vis', '--cfg-options', *pseudo_opts]))
    done('pseudo')

    stage('eval')
    eval_json = osp.join(work, 'eval_pseudo.json')
    run(['tools/eval_pseudo.py', args.pseudo_config, '--work-dir', pseudo_dir, '--split',
         args.train_split, '--out', eval_json, '--cfg-options', *pseudo_opts])
    scores = json.load(open(eval_json))
    # saliency alone at the paper's gamma1 (and at its val-chosen one), Algorithm 1 at the
    # paper's pair when the labels use the val-chosen one
    alone = fusion_mious(args.pseudo_config, root, args.train_split, pseudo_dir,
                         [paper_gammas[0]] + ([results['saliency_only_gamma1']] if fusion else []),
                         paper_gammas[1], attention=False)
    if fusion:
        results.update(
            pseudo_miou_saliency_only_val_gamma=round(alone[1], 2),
            pseudo_miou_fused_paper_gamma=round(fusion_mious(
                args.pseudo_config, root, args.train_split, pseudo_dir, paper_gammas[:1],
                paper_gammas[1], attention=True)[0], 2))
    results.update(
        pseudo_miou_cam=round(scores['cams']['best']['mIoU'], 2),
        cam_best_threshold=scores['cams']['best_threshold'],
        pseudo_miou_cam_t015=round(scores['cams']['fixed']['mIoU'], 2),
        pseudo_miou_saliency_only=round(alone[0], 2),
        pseudo_miou_fused=round(scores['pseudo_labels']['mIoU'], 2),
        saliency_mae=round(scores['saliency']['MAE'], 4),
        saliency_max_f=round(scores['saliency']['maxF'], 4))
    done('eval')

    if args.compare:
        results['compare'] = compare_methods(
            args, preset, root, cls_ckpt, pseudo_opts, pseudo_dir, osp.join(work, 'compare'),
            dict(data, pseudo=record_digest(pseudo_record)), stage, done)

    # stage 4: segmentor on pseudo labels (and on GT masks), tested with and without CRF
    def segmentor(name: str, test_name: str, label_dir: str, labels: Dict[str, str],
                  draw: bool) -> Dict[str, float]:
        """Train (reused while its record matches: config, options, ``labels`` records)
        and test a segmentor."""
        stage(name)
        seg_dir = osp.join(work, name)
        seg_opts = data_options(['train_dataloader', 'val_dataloader', 'test_dataloader'],
                                root) + [
            f'train_dataloader.dataset.pseudo_label_dir={label_dir}',
            f'train_dataloader.dataset.ann_file={args.train_split}',
            f'val_dataloader.dataset.ann_file={args.val_split}',
            f'test_dataloader.dataset.ann_file={args.val_split}', f'randomness.seed={args.seed}'
        ] + schedule_options(args.seg_iters, poly_end=True)
        reuse_or_run(name, seg_dir, make_record(
            name, config_values(args.seg_config, seg_opts), upstream=labels),
            lambda: train(args.seg_config, seg_dir, seg_opts))
        seg_ckpt = last_checkpoint(seg_dir)
        done(name)
        stage(test_name)
        seg_metrics = osp.join(work, f'{name}_val.json')
        vis = ['default_hooks.visualization.draw=True',
               'default_hooks.visualization.interval=1'] if draw else []
        run(['tools/test.py', args.seg_config, seg_ckpt, '--work-dir',
             osp.join(work, 'seg_test' if draw else f'{name}_test'), '--out', seg_metrics,
             '--crf', '--crf-nproc', '2', '--cfg-options', *seg_opts, *vis])
        done(test_name)
        return json.load(open(seg_metrics))

    seg = segmentor('segmentor', 'test', osp.join(pseudo_dir, 'pseudo_labels'),
                    dict(data, pseudo=record_digest(pseudo_record)), draw=True)
    results.update(seg_miou=round(seg['mIoU'], 2), seg_miou_crf=round(seg['mIoU_crf'], 2))
    if args.gt_segmentor:
        seg = segmentor('segmentor_gt', 'test_gt', osp.join(root, 'SegmentationClass'), data,
                        draw=False)
        results.update(seg_gt_miou=round(seg['mIoU'], 2),
                       seg_gt_miou_crf=round(seg['mIoU_crf'], 2))

    results['preset'], results['saliency_detector'] = args.preset, args.saliency
    results['seg_config'] = osp.relpath(args.seg_config, REPO)
    results['timings_s'] = timings
    results['total_s'] = round(sum(timings.values()), 1)
    results['data_root'] = root
    results['num_train'], results['num_val'] = len(train_ids), len(val_ids)
    compared = {m['name']: m for m in results.get('compare', [])}
    rows = [
        ['classifier mAP, val', results['classifier_val_mAP']],
        ['CAM (best bg threshold %.2f), train' % results['cam_best_threshold'],
         results['pseudo_miou_cam']],
        ['CAM (bg threshold 0.15), train', results['pseudo_miou_cam_t015']],
        ['saliency only (A = 0, gamma1 %.2f), train' % paper_gammas[0],
         results['pseudo_miou_saliency_only']],
    ]
    if fusion:
        rows += [['saliency only (A = 0, gamma1 %.2f chosen on val), train'
                  % results['saliency_only_gamma1'],
                  results['pseudo_miou_saliency_only_val_gamma']],
                 ['Algorithm 1 (paper: gamma1 %.2f, gamma2 %.2f), train' % paper_gammas,
                  results['pseudo_miou_fused_paper_gamma']]]
    rows += [
        ['fused pseudo labels (Algorithm 1%s), train' % (
            ', gamma1 %.2f, gamma2 %.2f chosen on val' % (results['fusion_gamma1'],
                                                          results['fusion_gamma2'])
            if fusion else ''), results['pseudo_miou_fused']],
    ] + [[f'{name} ({compared[name]["refiner"]}), train', compared[name]['mIoU']]
         for name in ('crf', 'irn') if name in compared] + [
        ['MSCDeepLabV2, val', results['seg_miou']],
        ['MSCDeepLabV2 + CRF, val', results['seg_miou_crf']],
    ]
    if args.gt_segmentor:
        rows += [['MSCDeepLabV2 on GT masks (upper bound), val', results['seg_gt_miou']],
                 ['MSCDeepLabV2 on GT masks + CRF, val', results['seg_gt_miou_crf']]]
    table = format_table([[n, f'{v:.2f}'] for n, v in rows], ['score (%)', 'value'])
    table += '\n\n' + format_table([[k, f'{v:.1f}'] for k, v in timings.items()],
                                   ['stage', 'seconds'])
    print(table)
    atomic_write_bytes(osp.join(work, 'results.json'),
                       json.dumps(results, indent=2).encode('utf-8'))
    write_report(work, results, table)
    print(f'[demo] results: {osp.join(work, "results.json")}, report: '
          f'{osp.join(work, "report.html")}')


if __name__ == '__main__':
    main()
