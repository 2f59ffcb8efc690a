"""Install wsss_mm. The heavy stack (torch, mmcv with ops) is installed by
tools/install/setup_env.sh, see docs/install.md; `pip install -e .` then adds
the package and its pure-Python requirements."""
import os.path as osp

from setuptools import find_packages, setup


def read_requirements(name: str) -> list:
    path = osp.join(osp.dirname(__file__), 'requirements', name)
    with open(path, encoding='utf-8') as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line]


def read_version() -> str:
    scope: dict = {}
    with open(osp.join(osp.dirname(__file__), 'wsss_mm', 'version.py'), encoding='utf-8') as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='wsss_mm',
    version=read_version(),
    description='Weakly supervised semantic segmentation from image-level labels '
    '(MMSegmentation-style plugin toolbox)',
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    packages=find_packages(exclude=('tests', 'configs', 'tools', 'docs', 'benchmarks', 'examples',
                                    'examples.*')),
    python_requires='>=3.9',
    install_requires=read_requirements('runtime.txt') + ['torch>=2.4', 'torchvision>=0.19'],
    extras_require=dict(tests=read_requirements('tests.txt')),
)
