"""OpenAI CLIP files against open_clip (pip ``open_clip_torch``), an independent CLIP.

A random-weight CLIP in OpenAI's key layout is built by open_clip (QuickGELU, the
image feature pooled as CLIP-ES: mean patch token after ``ln_post`` and ``proj``),
saved as a TorchScript archive (``torch.jit.trace_module`` + ``torch.jit.save``, as
OpenAI released theirs) and as a plain state dict. Our loader reads both without
running the archive's code and must give open_clip's image and text features and
its tokens. Tolerance: float32 rounding of the network (tests/tolerances.py).
"""
import os.path as osp
import zipfile

import numpy as np
import open_clip
import pytest
import torch
import torch.nn.functional as F
from open_clip.model import CLIP, CLIPTextCfg, CLIPVisionCfg

from tolerances import assert_close_f32
from wsss_mm.models import CLIPZeroShotClassifier, read_torchscript_tensors
from wsss_mm.models.clip import CLIPModel

CLASSES = ['cat', 'dog']
PROMPTS = {'cat': 'cat', 'dog': 'dog avian'}
BACKGROUND = ['ground', 'sky']


def open_clip_model():
    """A small ViT CLIP of open_clip with random weights (OpenAI layout)."""
    torch.manual_seed(0)
    vision = CLIPVisionCfg(layers=2, width=128, head_width=64, patch_size=16, image_size=64,
                           pool_type='avg')
    text = CLIPTextCfg(context_length=77, vocab_size=49408, width=64, heads=1, layers=2)
    model = CLIP(embed_dim=32, vision_cfg=vision, text_cfg=text, quick_gelu=True).eval()
    with torch.no_grad():  # non-trivial norms and biases
        for name, p in model.named_parameters():
            if name.endswith('bias') or 'ln_' in name:
                p.add_(0.1 * torch.randn_like(p))
    return model


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    model = open_clip_model()
    folder = tmp_path_factory.mktemp('clip')
    state_path = osp.join(folder, 'state_dict.pt')
    torch.save(model.state_dict(), state_path)
    traced = torch.jit.trace_module(model, {'encode_image': torch.randn(1, 3, 64, 64)},
                                    check_trace=False)
    archive_path = osp.join(folder, 'ViT-tiny.pt')
    torch.jit.save(traced, archive_path)
    return model, state_path, archive_path


def ours(path):
    model = CLIPZeroShotClassifier(CLASSES, PROMPTS, BACKGROUND, arch=SMALL)
    model.load_released_weights(path)
    return model.eval()


@pytest.mark.parametrize('kind', ['state_dict', 'torchscript'])
def test_features_equal_open_clip(checkpoints, kind):
    reference, state_path, archive_path = checkpoints
    model = ours(state_path if kind == 'state_dict' else archive_path)
    torch.manual_seed(1)
    images = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = reference.encode_image(images)
        actual, _ = model.clip.encode_image(images)
    terms = 3 * 128 * 16 * 16 + 2 * 5 * 128
    assert_close_f32(actual, expected, terms)

    tokenizer = open_clip.get_tokenizer('ViT-B-16')
    tokens = tokenizer(list(model.prompts))
    with torch.no_grad():
        expected_text = F.normalize(reference.encode_text(tokens), dim=-1)
    actual_text = model.text_features()
    assert_close_f32(actual_text, expected_text, terms=2 * 5 * 64)
    # the logits: exp(logit_scale) * cosine, as open_clip's forward
    with torch.no_grad():
        logits = model(images)
        img = F.normalize(reference.encode_image(images), dim=-1)
        expected_logits = reference.logit_scale.exp() * img @ expected_text.T
    assert_close_f32(logits, expected_logits, terms)


def test_tokenizer_equals_open_clip():
    from mmseg.utils import tokenize
    texts = ['a clean origami person with clothes,people,human.', 'a clean origami sky.',
             'a clean origami tvmonitor screen.']
    expected = open_clip.get_tokenizer('ViT-B-16')(texts)
    assert torch.equal(tokenize(texts, context_length=77), expected)


def test_archive_code_is_not_run(checkpoints, tmp_path):
    """The reader never compiles the archive's code: an archive whose code is garbage
    still gives its tensors (torch.jit.load fails on it)."""
    _, _, archive_path = checkpoints
    broken = str(tmp_path / 'broken.pt')
    with zipfile.ZipFile(archive_path) as src, zipfile.ZipFile(broken, 'w') as dst:
        for item in src.infolist():
            data = src.read(item)
            if '/code/' in item.filename and item.filename.endswith('.py'):
                data = b'raise RuntimeError("code ran")\n'
            dst.writestr(item, data)
    with pytest.raises(Exception):
        torch.jit.load(broken)
    tensors = read_torchscript_tensors(broken)
    assert torch.equal(tensors['visual.conv1.weight'],
                       read_torchscript_tensors(archive_path)['visual.conv1.weight'])


def test_torch_load_weights_only_refuses_torchscript(checkpoints):
    """Why the archive reader exists: torch.load(weights_only=True) does not read them."""
    _, _, archive_path = checkpoints
    with pytest.raises(RuntimeError, match='weights_only=True.*TorchScript'):
        torch.load(archive_path, weights_only=True)


def test_non_clip_checkpoint_refused_naming_keys(tmp_path):
    path = str(tmp_path / 'resnet.pth')
    torch.save({'backbone.conv1.weight': torch.zeros(8, 3, 3, 3)}, path)
    with pytest.raises(ValueError, match=r"missing \[.*visual.conv1.weight"):
        ours(path)
    # a CLIP with an extra (unknown) key and a missing block parameter
    state = {k: v for k, v in CLIPModel(**SMALL).state_dict().items()
             if k != 'visual.ln_post.bias'}
    state['visual.extra_head.weight'] = torch.zeros(2)
    path = str(tmp_path / 'odd_clip.pth')
    torch.save(state, path)
    with pytest.raises(ValueError, match=r"missing keys \['visual.ln_post.bias'\], unexpected "
                       r"keys \['visual.extra_head.weight'\]"):
        ours(path)


def test_pickle_with_code_refused(tmp_path):
    path = str(tmp_path / 'evil.pt')
    torch.save({'visual.conv1.weight': np.zeros(3)}, path)  # not weights-only loadable
    with pytest.raises(ValueError, match='evil.pt'):
        ours(path)


def test_class_without_prompt_named():
    with pytest.raises(KeyError, match="'horse'"):
        CLIPZeroShotClassifier(['cat', 'horse'], PROMPTS, BACKGROUND, arch=SMALL)


SMALL = dict(embed_dim=32, vision_patch_size=16, vision_grid=4, vision_width=64,
             vision_layers=1, vision_heads=1, context_length=77, vocab_size=49408,
             text_width=64, text_layers=1, text_heads=1)
