"""retrieval_xfer: does English intermediate-task training improve zero-shot cross-lingual retrieval?"""

from pathlib import Path

from setuptools import find_packages, setup

here = Path(__file__).parent
version = {}
exec((here / "retrieval_xfer" / "version.py").read_text(), version)

setup(
    name="retrieval_xfer",
    version=version["__version__"],
    description="Intermediate-task training and zero-shot cross-lingual evaluation (BUCC, Tatoeba) with FAISS",
    long_description=(here / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["retrieval_xfer", "retrieval_xfer.*"]),
    package_data={"retrieval_xfer": ["resources/*.yaml", "resources/*.txt"]},  # CC-100 sizes, ISO 639 codes
    # Task cards live at the top level (tasks/); a non-editable install carries them here.
    data_files=[
        ("share/retrieval_xfer/tasks", [str(p.relative_to(here)) for p in sorted((here / "tasks").glob("*.yaml"))])
    ],
    install_requires=[
        "torch>=2.1",
        "sentence-transformers>=6.2,<7",
        "transformers>=5.0,<6",
        "faiss-cpu>=1.8",
        "datasets>=3.0",
        "click>=8.1",
        "accelerate>=1.0",
        "tqdm>=4.60",
        "pyyaml>=6.0",
        "numpy>=1.24",
        "safetensors>=0.4",
        "seqeval>=1.2",  # PAN-X entity F1 (conlleval semantics)
    ],
    extras_require={
        "dev": ["pytest>=8", "hypothesis>=6.100", "matplotlib>=3.7", "ruff>=0.6"],
        "plot": ["matplotlib>=3.7"],  # the report's pictures
        "ray": ["ray>=2.9"],  # rx export --ray, rx mine --ray
        # rx prepare's language identification (py3langid is the default; bench/language_id.py compares them)
        "lid": ["py3langid>=0.3", "lingua-language-detector>=2.0"],
        # rx prepare --split-sentences (bench/sentence_split.py compares them)
        "split": ["sentence-splitter>=1.4", "pysbd>=0.3"],
        # --backend onnx|openvino (--quantize int8: NNCF). The export goes through torch.onnx (dynamo) and needs
        # neither optimum-onnx nor optimum-intel, which cap transformers below what rx runs.
        "onnx": ["onnx>=1.16", "onnxscript>=0.2", "onnxruntime>=1.18", "nncf>=2.14"],
        "openvino": ["openvino>=2024.4", "onnx>=1.16", "onnxscript>=0.2", "nncf>=2.14"],
    },
    entry_points={"console_scripts": ["rx = retrieval_xfer.cli:main"]},
)
