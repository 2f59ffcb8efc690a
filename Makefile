# wsss_mm entry points. Every target creates or reuses the virtualenv at .venv/.
PY := .venv/bin/python
STAMP := .venv/.wsss_mm-installed
INSTALL_INPUTS := setup.py requirements/torch.txt requirements/build.txt \
	requirements/runtime.txt requirements/tests.txt tools/install/setup_env.sh \
	tools/install/build_mmcv.sh

.PHONY: install demo demo-real test benchmark clean

install: $(STAMP)

$(STAMP): $(INSTALL_INPUTS)
	bash tools/install/setup_env.sh
	touch $(STAMP)

## The main job on the embedded default: the pipeline on generated data, CPU.
demo: $(STAMP)
	$(PY) tools/demo.py --work-dir work_dirs/demo

## The real-photo table on any VOC-layout folder (ImageNet EfficientNet-Lite0 preset):
##   make demo-real DATA=<path>/VOCdevkit/VOC2012
## with a saliency detector trained on real salient objects (images/, masks/, e.g. ECSSD), or
## a checkpoint of it:
##   make demo-real DATA=... SAL_DATA=<path>/ecssd     make demo-real DATA=... SAL_CKPT=<.pth>
demo-real: $(STAMP)
	@test -n "$(DATA)" || { echo 'usage: make demo-real DATA=<VOCdevkit/VOC2012 folder> [SAL_DATA=<images/ + masks/ folder>] [SAL_CKPT=<checkpoint>]'; exit 2; }
	$(PY) tools/demo.py --preset effnet --data-root $(DATA) --work-dir work_dirs/demo_real \
		$(if $(SAL_DATA),--sal-data $(SAL_DATA)) $(if $(SAL_CKPT),--sal-ckpt $(SAL_CKPT))

## The test suite (what CI runs).
test: $(STAMP)
	$(PY) -m pytest tests -q -p no:cacheprovider

## Speed tables (docs/benchmarks.md); slow on CPU.
benchmark: $(STAMP)
	for b in gradcam saliency pseudo crf segmentor; do $(PY) benchmarks/bench_$$b.py || exit 1; done

clean:
	rm -rf work_dirs
