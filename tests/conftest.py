"""Shared fixtures: tiny random encoders the tests build themselves, and paths to the optional real data."""

from __future__ import annotations

import contextlib
import logging
import os
import re
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests search the same examples on every run and machine (no example database carried between runs),
# so CI is deterministic; RX_HYPOTHESIS=explore searches anew (random seeds, more examples) to find new failures.
settings.register_profile("ci", derandomize=True, database=None, deadline=None)
settings.register_profile("explore", derandomize=False, database=None, deadline=None, max_examples=2000)
settings.load_profile("explore" if os.environ.get("RX_HYPOTHESIS") == "explore" else "ci")

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
WORDS = (
    "the a cat dog sat on mat house tree red blue green big small runs sleeps eats fish bird sky sun moon "
    "der die das hund katze haus baum rot blau grün groß klein läuft schläft isst fisch vogel himmel sonne "
    "le la chat chien maison arbre rouge bleu vert grand petit court dort mange poisson oiseau ciel soleil"
).split()


def _build_tiny_model(folder: Path, layers: int = 4, hidden: int = 32) -> Path:
    """A random XLM-R-style encoder with a WordPiece tokenizer trained on WORDS (<s> ... </s> framing)."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast, XLMRobertaConfig, XLMRobertaModel

    tok = Tokenizer(models.WordPiece(unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tok.train_from_iterator([" ".join(WORDS)] * 3, trainers.WordPieceTrainer(vocab_size=300, special_tokens=specials))
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", tok.token_to_id("<s>")), ("</s>", tok.token_to_id("</s>"))],
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        mask_token="<mask>",
        cls_token="<s>",
        sep_token="</s>",
        model_max_length=128,
    )
    torch.manual_seed(0)
    config = XLMRobertaConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=4,
        intermediate_size=2 * hidden,
        max_position_embeddings=130,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
    )
    XLMRobertaModel(config, add_pooling_layer=False).eval().save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A plain transformers folder: 4 layers, hidden 32, random weights."""
    return _build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="session")
def other_tiny_model(tmp_path_factory) -> Path:
    """A second random model of the same shape but other weights (for 'built by another model' checks)."""
    import torch

    folder = _build_tiny_model(tmp_path_factory.mktemp("tiny2") / "model")
    from transformers import XLMRobertaModel

    model = XLMRobertaModel.from_pretrained(folder)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(0.01 * torch.randn_like(param))
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_st_model(tiny_model, tmp_path_factory) -> Path:
    """The tiny model saved as a sentence-transformers folder (Transformer > mean Pooling > Normalize)."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Normalize, Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling

    folder = tmp_path_factory.mktemp("tiny_st") / "st"
    transformer = Transformer(str(tiny_model))
    SentenceTransformer(modules=[transformer, Pooling(32, "mean"), Normalize()]).save(str(folder))
    return folder


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, or skip the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA} (the project's ../shared/data)")
    return SHARED_DATA


def real_encoder_path() -> Path | None:
    """The folder written by ../shared/tools/offline-encoder/fetch-multilingual-e5-small.sh, if present."""
    folder = Path(os.environ.get("RX_ENCODER_DIR", Path.home() / ".cache/retrieval_xfer/multilingual-e5-small"))
    return folder if (folder / ".complete").exists() else None


@pytest.fixture(scope="session")
def real_encoder() -> Path:
    """The real multilingual encoder, or skip with the command that materialises it."""
    folder = real_encoder_path()
    if folder is None:
        pytest.skip(
            "real encoder absent: run ../shared/tools/offline-encoder/fetch-multilingual-e5-small.sh "
            "(make test does it)"
        )
    return folder


@pytest.fixture
def rx_log(caplog):
    """What rx logs (INFO and up, the ``retrieval_xfer`` logger tree) during the test: ``rx_log()`` returns the
    messages so far, in order; ``caplog.clear()`` forgets them."""
    caplog.set_level(logging.INFO, logger="retrieval_xfer")
    return lambda: [r.getMessage() for r in caplog.records if r.name.startswith("retrieval_xfer")]


@pytest.fixture
def rx_warns(caplog):
    """``with rx_warns(PATTERN):``: the block must log a warning (``retrieval_xfer`` tree) matching PATTERN."""

    @contextlib.contextmanager
    def expect(pattern: str = ""):
        start = len(caplog.records)
        with caplog.at_level(logging.WARNING, logger="retrieval_xfer"):
            yield
        said = [r.getMessage() for r in caplog.records[start:] if r.levelno >= logging.WARNING]
        assert any(re.search(pattern, message) for message in said), f"no warning matching {pattern!r}: {said}"

    return expect
