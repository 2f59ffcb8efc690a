"""Registries of wsss_mm.

The OpenMMLab registries are children of MMSegmentation's, so a config whose
``default_scope`` is ``'wsss_mm'`` can name both wsss_mm components and mmseg /
mmengine components (``IoUMetric``, ``SegDataPreProcessor``, ``ResNetV1c`` ...)
by their plain type name. The pipeline-stage registries have no OpenMMLab
counterpart: they hold the pieces that turn image-level labels into pseudo
labels, so a config swaps a CAM method, a saliency generator, a fusion rule, a
pseudo-label refiner or a post-processor by ``type=``.
"""
from mmengine.registry import Registry
from mmseg.registry import DATA_SAMPLERS as MMSEG_DATA_SAMPLERS
from mmseg.registry import DATASETS as MMSEG_DATASETS
from mmseg.registry import EVALUATOR as MMSEG_EVALUATOR
from mmseg.registry import HOOKS as MMSEG_HOOKS
from mmseg.registry import LOG_PROCESSORS as MMSEG_LOG_PROCESSORS
from mmseg.registry import LOOPS as MMSEG_LOOPS
from mmseg.registry import METRICS as MMSEG_METRICS
from mmseg.registry import MODEL_WRAPPERS as MMSEG_MODEL_WRAPPERS
from mmseg.registry import MODELS as MMSEG_MODELS
from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMSEG_OPTIM_WRAPPER_CONSTRUCTORS
from mmseg.registry import OPTIM_WRAPPERS as MMSEG_OPTIM_WRAPPERS
from mmseg.registry import OPTIMIZERS as MMSEG_OPTIMIZERS
from mmseg.registry import PARAM_SCHEDULERS as MMSEG_PARAM_SCHEDULERS
from mmseg.registry import RUNNERS as MMSEG_RUNNERS
from mmseg.registry import TRANSFORMS as MMSEG_TRANSFORMS
from mmseg.registry import VISBACKENDS as MMSEG_VISBACKENDS
from mmseg.registry import VISUALIZERS as MMSEG_VISUALIZERS
from mmseg.registry import WEIGHT_INITIALIZERS as MMSEG_WEIGHT_INITIALIZERS

SCOPE = 'wsss_mm'

RUNNERS = Registry('runner', parent=MMSEG_RUNNERS, scope=SCOPE)
LOOPS = Registry('loop', parent=MMSEG_LOOPS, scope=SCOPE)
HOOKS = Registry('hook', parent=MMSEG_HOOKS, scope=SCOPE)
DATASETS = Registry('dataset', parent=MMSEG_DATASETS, scope=SCOPE, locations=['wsss_mm.datasets'])
DATA_SAMPLERS = Registry('data sampler', parent=MMSEG_DATA_SAMPLERS, scope=SCOPE)
TRANSFORMS = Registry(
    'transform', parent=MMSEG_TRANSFORMS, scope=SCOPE, locations=['wsss_mm.datasets'])
MODELS = Registry(
    'model', parent=MMSEG_MODELS, scope=SCOPE, locations=['wsss_mm.models', 'wsss_mm.saliency'])
MODEL_WRAPPERS = Registry('model_wrapper', parent=MMSEG_MODEL_WRAPPERS, scope=SCOPE)
WEIGHT_INITIALIZERS = Registry(
    'weight initializer', parent=MMSEG_WEIGHT_INITIALIZERS, scope=SCOPE)
OPTIMIZERS = Registry('optimizer', parent=MMSEG_OPTIMIZERS, scope=SCOPE)
OPTIM_WRAPPERS = Registry('optim_wrapper', parent=MMSEG_OPTIM_WRAPPERS, scope=SCOPE)
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor', parent=MMSEG_OPTIM_WRAPPER_CONSTRUCTORS, scope=SCOPE)
PARAM_SCHEDULERS = Registry('parameter scheduler', parent=MMSEG_PARAM_SCHEDULERS, scope=SCOPE)
METRICS = Registry('metric', parent=MMSEG_METRICS, scope=SCOPE, locations=['wsss_mm.evaluation'])
EVALUATOR = Registry('evaluator', parent=MMSEG_EVALUATOR, scope=SCOPE)
VISUALIZERS = Registry('visualizer', parent=MMSEG_VISUALIZERS, scope=SCOPE)
VISBACKENDS = Registry('vis_backend', parent=MMSEG_VISBACKENDS, scope=SCOPE)
LOG_PROCESSORS = Registry('log_processor', parent=MMSEG_LOG_PROCESSORS, scope=SCOPE)

# Pipeline stages of image-level WSSS (no OpenMMLab parent).
CAM_GENERATORS = Registry('cam generator', scope=SCOPE, locations=['wsss_mm.cam'])
SALIENCY_GENERATORS = Registry(
    'saliency generator', scope=SCOPE, locations=['wsss_mm.saliency'])
PSEUDO_LABEL_FUSERS = Registry('pseudo label fuser', scope=SCOPE, locations=['wsss_mm.pseudo'])
# the last pseudo-label stage: seeds (+ a cue) -> label map; a config's ``refiner``
REFINERS = Registry('pseudo label refiner', scope=SCOPE, locations=['wsss_mm.pseudo'])
POSTPROCESSORS = Registry('postprocessor', scope=SCOPE, locations=['wsss_mm.postprocess'])
