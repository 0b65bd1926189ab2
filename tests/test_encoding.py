"""The encoder: layer numbering, truncation equality, pooling with/without special tokens, hashing, prompts."""

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoTokenizer

from retrieval_xfer.encoding.batching import DEFAULT_MAX_TOKENS, batch_plan
from retrieval_xfer.encoding.loader import default_layer, load_encoder, resolve_layer
from retrieval_xfer.errors import RxError

SENTENCES = ["the cat sat on the mat", "der hund läuft", "le petit chat dort sur la maison rouge", "sky"]


def reference_embeddings(folder, sentences, layer, skip_special=False):
    """Masked mean of the FULL model's hidden_states[layer], computed independently with numpy."""
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).eval()
    batch = tokenizer(sentences, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch, output_hidden_states=True).hidden_states[layer].numpy()
    mask = batch["attention_mask"].numpy().astype(bool)
    if skip_special:
        mask &= ~np.isin(batch["input_ids"].numpy(), tokenizer.all_special_ids)
    pooled = np.stack([hidden[i][mask[i]].mean(0) for i in range(len(sentences))])
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def test_default_layer_reproduces_xtreme_settings():
    assert default_layer(24) == 14  # XTREME's LAYER=13 for XLM-R Large, in hidden_states numbering
    assert default_layer(12) == 8  # mBERT's LAYER=7
    assert default_layer(1) == 1


def test_resolve_layer_range_and_last():
    assert resolve_layer(-1, 12, "m") == 12
    assert resolve_layer(0, 12, "m") == 0
    with pytest.raises(RxError, match="out of range: m has 12 layers"):
        resolve_layer(13, 12, "m")
    with pytest.raises(RxError):
        resolve_layer(-2, 12, "m")


@pytest.mark.parametrize("layer", [0, 1, 2, 4])
def test_truncated_encoder_equals_full_model_hidden_state(tiny_model, layer):
    encoder = load_encoder(str(tiny_model), layer, show_progress=False)
    ours = encoder.encode(SENTENCES)
    expected = reference_embeddings(tiny_model, SENTENCES, layer)
    cosines = (ours * expected).sum(axis=1)
    assert cosines.min() >= 0.99999
    assert encoder.spec.layer == layer and encoder.spec.num_layers == 4


def test_truncation_really_drops_layers(tiny_model):
    encoder = load_encoder(str(tiny_model), 2, show_progress=False)
    assert encoder.model[0].auto_model.config.num_hidden_layers == 2
    assert len(encoder.model[0].auto_model.encoder.layer) == 2


def test_pooling_can_skip_special_tokens(tiny_model):
    with_special = load_encoder(str(tiny_model), 3, show_progress=False).encode(SENTENCES)
    without = load_encoder(str(tiny_model), 3, pool_skip_special=True, show_progress=False).encode(SENTENCES)
    assert (without * reference_embeddings(tiny_model, SENTENCES, 3, skip_special=True)).sum(1).min() >= 0.99999
    assert (with_special * without).sum(1).max() < 0.9999  # the special tokens do change the mean


def test_vectors_are_unit_length_and_in_input_order(tiny_model):
    encoder = load_encoder(str(tiny_model), 2, batch_size=2, show_progress=False)
    vectors = encoder.encode(SENTENCES)
    assert vectors.dtype == np.float32 and vectors.shape == (4, 32)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    one_by_one = np.stack([encoder.encode([s])[0] for s in SENTENCES])
    np.testing.assert_allclose(vectors, one_by_one, atol=1e-5)


def test_token_budget_batches_fit_the_budget_and_cover_every_sentence():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 120, size=500)
    batches = batch_plan(lengths, batch_size=32, max_tokens=1000)
    rows = np.concatenate(batches)
    assert sorted(rows.tolist()) == list(range(500))  # every sentence once
    assert list(lengths[rows]) == sorted(lengths, reverse=True)  # longest first
    for batch in batches:  # the padded size of each pass stays in the budget (a lone sentence may exceed it)
        assert len(batch) * lengths[batch].max() <= 1000 or len(batch) == 1
    assert len(batches[-1]) > len(batches[0])  # short sentences share a pass by more
    assert batch_plan([500, 3], batch_size=32, max_tokens=100)[0].tolist() == [0]  # over the budget: alone
    assert [len(b) for b in batch_plan(lengths, batch_size=32)] == [32] * 15 + [20]


def test_token_budget_gives_the_same_vectors(tiny_model):
    sentences = [" ".join(["word"] * n) for n in (1, 30, 2, 7, 15, 3, 60, 4)]
    fixed = load_encoder(str(tiny_model), 2, batch_size=3, show_progress=False)
    budget = load_encoder(str(tiny_model), 2, max_tokens=40, show_progress=False)
    assert [len(b) for b in budget.batches(sentences)] != [len(b) for b in fixed.batches(sentences)]
    np.testing.assert_allclose(budget.encode(sentences), fixed.encode(sentences), atol=1e-5)
    np.testing.assert_allclose(budget.encode(sentences), reference_embeddings(tiny_model, sentences, 2), atol=1e-5)


def test_token_budget_is_the_default_and_a_fixed_batch_is_the_alternative(tiny_model):
    from retrieval_xfer.encoding.options import EncoderOptions

    default = load_encoder(str(tiny_model), 2, show_progress=False)
    assert (default.batch_size, default.max_tokens) == (None, DEFAULT_MAX_TOKENS)
    fixed = load_encoder(str(tiny_model), 2, batch_size=3, show_progress=False)
    assert (fixed.batch_size, fixed.max_tokens) == (3, None)
    assert [len(b) for b in fixed.batches(SENTENCES)] == [3, 1]
    with pytest.raises(RxError, match="give --batch-size .* or --max-tokens .*, not both"):
        EncoderOptions(model=str(tiny_model), batch_size=8, max_tokens=512).load()


def test_prompt_is_prepended(tiny_model):
    prompted = load_encoder(str(tiny_model), 2, prompt="sky ", show_progress=False).encode(["the cat"])
    manual = load_encoder(str(tiny_model), 2, show_progress=False).encode(["sky the cat"])
    np.testing.assert_allclose(prompted, manual, atol=1e-6)


def test_weights_hash_is_stable_and_tells_models_apart(tiny_model, other_tiny_model):
    a = load_encoder(str(tiny_model), 2, show_progress=False).spec.weights_sha256
    b = load_encoder(str(tiny_model), 2, show_progress=False).spec.weights_sha256
    c = load_encoder(str(other_tiny_model), 2, show_progress=False).spec.weights_sha256
    assert a == b != c


def test_sentence_transformers_folder_keeps_its_pipeline_without_layer(tiny_st_model, tiny_model):
    own = load_encoder(str(tiny_st_model), show_progress=False)
    assert own.spec.pooling.startswith("own:") and own.spec.layer == 4
    np.testing.assert_allclose(own.encode(SENTENCES), reference_embeddings(tiny_model, SENTENCES, 4), atol=1e-5)
    layered = load_encoder(str(tiny_st_model), 2, show_progress=False)
    assert layered.spec.pooling == "mean"
    np.testing.assert_allclose(layered.encode(SENTENCES), reference_embeddings(tiny_model, SENTENCES, 2), atol=1e-5)


def test_plain_model_default_layer(tiny_model):
    assert load_encoder(str(tiny_model), show_progress=False).spec.layer == default_layer(4) == 4


def test_missing_model_folder_is_one_line_error(tmp_path):
    with pytest.raises(RxError, match="no such model folder"):
        load_encoder(str(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(RxError, match="not a model folder"):
        load_encoder(str(tmp_path / "empty"))


def test_unreachable_hub_fails_fast_with_one_line(monkeypatch):
    import time

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    tic = time.perf_counter()
    with pytest.raises(RxError, match="cannot be reached"):
        load_encoder("someone/not-cached-model")
    assert time.perf_counter() - tic < 10
