"""sncse.st's losses inside sentence-transformers give what ``sncse train``'s step gives.

For every registered loss (and a plugin's), the same tiny BERT weights, batch and MLP head in float64
with dropout off: the adapter's loss (the sum of the terms the trainer adds up) and every parameter
gradient, backbone and head, equal the project's training step (``sncse.train.step``) to 1e-10 of the
largest gradient. The gradient cache (``mini_batch_size``) equals the plain adapter.
"""

from __future__ import annotations

import importlib
import inspect
import textwrap
from pathlib import Path

import pytest
import torch

pytest.importorskip("sentence_transformers")
pytest.importorskip("datasets")

from sncse import registry  # noqa: E402
from sncse.config import load_config  # noqa: E402
from sncse.errors import SncseError  # noqa: E402
from sncse.st import NAMED_LOSSES, RegisteredLoss, SNCSELoss, sentence_transformer  # noqa: E402
from sncse.train.builders import batch_from_sentences, build_model, build_train_step  # noqa: E402
from sncse.train.seed import seed_everything  # noqa: E402

BATCH = 8
REL = 1e-10
#: the pooler each loss is checked with: every stock sentence-transformers pooling is covered
POOLER = {"sup": "avg_first_last", "infonce": "cls"}


def no_dropout(module: torch.nn.Module) -> torch.nn.Module:
    for m in module.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    return module


def columns_for(name: str, sentences: list[str]) -> dict[str, list[str]]:
    """A batch for loss ``name``: NLI-like triplets for a loss with hard negatives, else soft negatives."""
    s = sentences[:BATCH]
    sup = "hard_negative" in registry.get("losses", name).views
    return {"anchor": s, "positive": sentences[BATCH : 2 * BATCH] if sup else s,
            "soft_negative": ["it is not true that " + x for x in s], "hard_negative": sentences[2 * BATCH : 3 * BATCH]}


def project_step(name: str, pooler: str, columns: dict[str, list[str]]):
    """``sncse train``'s step on the tiny BERT in float64, dropout off: (model, loss, gradients by name)."""
    cfg = load_config(None, ["model.encoder=tiny-bert", "model.dropout=0.0", "train.device=cpu",
                             f"loss.name={name}", f"model.pooler={pooler}"])
    seed_everything(0)
    model = build_model(cfg, "cpu").double()
    step = build_train_step(cfg, model=model, total_steps=10)
    sup = "hard_negative" in step.loss_fn.views
    batch = batch_from_sentences(model, step.views, columns["anchor"], negations=columns["soft_negative"],
                                 positives=columns["positive"] if sup else None,
                                 hard_negatives=columns["hard_negative"] if sup else None)
    out = step.forward_backward(batch)
    grads = {n.removeprefix("backbone."): p.grad for n, p in model.named_parameters() if p.grad is not None}
    return model, out.loss.item(), grads


def adapter(name: str | type, pooler: str, head: torch.nn.Module, **options):
    """The same tiny BERT as a stock SentenceTransformer and the adapter with a copy of the project's head."""
    st = no_dropout(sentence_transformer("tiny-bert", pooler=pooler, max_seq_length=32).double())
    loss = RegisteredLoss(st, name, **options) if isinstance(name, str) else name(st, **options)
    loss.double()
    loss.head.load_state_dict(head.state_dict())
    return st, loss


def adapter_step(st, loss, columns: dict[str, list[str]]):
    """The loss as SentenceTransformerTrainer computes it (the sum of the terms) and its gradients."""
    features = [st.preprocess(columns[c]) for c in loss.columns]
    terms = loss(features, None)
    total = torch.stack(list(terms.values())).sum()
    total.backward()
    grads = {n.removeprefix("0.model."): p.grad for n, p in st.named_parameters() if p.grad is not None}
    grads.update({f"head.{n}": p.grad for n, p in loss.head.named_parameters()})
    return terms, total.item(), grads


def assert_same(got: tuple[float, dict], truth: tuple[float, dict], what: str) -> None:
    loss, grads = got
    ref_loss, ref_grads = truth
    assert abs(loss - ref_loss) <= REL * abs(ref_loss), what
    assert grads.keys() == ref_grads.keys(), what
    scale = max(g.abs().max().item() for g in ref_grads.values())
    for n, g in ref_grads.items():
        assert grads[n].dtype == torch.float64
        err = (grads[n] - g).abs().max().item()
        assert err <= REL * scale, f"{what}: {n}: {err:.2e} vs {scale:.2e}"


@pytest.mark.parametrize("name", sorted({registry.base_name(n) for n in registry.available("losses")}))
def test_every_registered_loss_equals_the_training_step(name, sentences) -> None:
    pooler = POOLER.get(name, "mean")
    columns = columns_for(name, sentences)
    model, ref_loss, ref_grads = project_step(name, pooler, columns)
    st, loss = adapter(name, pooler, model.head)
    terms, total, grads = adapter_step(st, loss, columns)
    assert_same((total, grads), (ref_loss, ref_grads), name)
    assert set(terms) == set(loss.objective(torch.randn(4, 8), torch.randn(4, 8), negation=torch.randn(4, 8),
                                            hard_negative=torch.randn(4, 8)).parts)


def test_named_classes_are_the_registered_losses(sentences) -> None:
    """``SNCSELoss(model, alpha=...)`` is the registry's bml with those parameters; the signature is the
    loss class's (temperature, alpha, beta, bml_weight) plus the adapter's options."""
    assert set(NAMED_LOSSES) == {"bml", "pl", "nl", "mixcse", "infonce", "sup"}
    params = inspect.signature(SNCSELoss).parameters
    assert [params[k].default for k in ("temperature", "alpha", "beta", "bml_weight")] == [0.05, 0.1, 0.3, 1e-3]
    assert {"mlp_head", "gather_across_devices", "mini_batch_size"} <= set(params)
    columns = columns_for("bml", sentences)
    model, ref_loss, ref_grads = project_step("bml", "mean", columns)
    st, loss = adapter(SNCSELoss, "mean", model.head)
    assert loss.columns == ("anchor", "positive", "soft_negative") and loss.loss_name == "bml.v1"
    _, total, grads = adapter_step(st, loss, columns)
    assert_same((total, grads), (ref_loss, ref_grads), "SNCSELoss")
    other = SNCSELoss(st, alpha=0.05, bml_weight=0.5)
    assert (other.objective.alpha, other.objective.bml_weight) == (0.05, 0.5)
    config = other.get_config_dict()
    assert config["alpha"] == 0.05 and config["beta"] == 0.3 and config["loss"] == "bml.v1"
    assert "wang2022sncse" in other.citation


def test_the_gradient_cache_equals_the_plain_loss(sentences) -> None:
    """mini_batch_size=3 (chunks of 3, 3 and 2 rows per column) gives the plain adapter's loss, terms and
    gradients, the head's included; the trainer's backward reaches the model through the cache's hook."""
    cfg = load_config(None, ["model.encoder=tiny-bert", "train.device=cpu"])
    seed_everything(0)
    head = build_model(cfg, "cpu").double().head
    columns = columns_for("bml", sentences)
    plain_terms, plain, plain_grads = adapter_step(*adapter("bml", "mean", head), columns)
    st, cached = adapter("bml", "mean", head, mini_batch_size=3)
    assert cached.uses_gradient_cache and "gao2021gradcache" in cached.citation
    terms, total, grads = adapter_step(st, cached, columns)
    assert terms.keys() == plain_terms.keys()
    assert_same((total, grads), (plain, plain_grads), "mini_batch_size=3")


def test_plugin_loss_through_the_registry(tmp_path: Path, monkeypatch, sentences) -> None:
    """A third-party loss registered by entry point trains through RegisteredLoss by name, its parts
    weighted as its ``part_weights`` says (the terms add up to the loss)."""
    info = tmp_path / "sncse_stplugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: sncse-stplugin\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[sncse.losses]\nspread.v1 = stplugin:SpreadLoss\n", encoding="utf-8")
    (tmp_path / "stplugin.py").write_text(textwrap.dedent('''
        import torch.nn.functional as F
        from sncse.losses import ContrastiveLoss, LossOutput, cosine_matrix

        class SpreadLoss(ContrastiveLoss):
            """InfoNCE plus a weighted penalty on the mean similarity of anchors to their soft negatives."""
            name = "spread"
            views = ("positive", "negation")

            def __init__(self, temperature: float = 0.05, weight: float = 0.25):
                super().__init__(temperature)
                self.weight = weight

            def part_weights(self):
                return {"spread": self.weight}

            def forward(self, anchor, positive, negation=None, hard_negative=None, label_offset=0):
                self._check(anchor, positive, negation, hard_negative, label_offset)
                logits = cosine_matrix(anchor, positive) / self.temperature
                infonce = F.cross_entropy(logits, self._labels(anchor.shape[0], label_offset, logits.device))
                spread = cosine_matrix(anchor, negation).diagonal().mean()
                return LossOutput(infonce + self.weight * spread, {"infonce": infonce.detach(), "spread": spread.detach()})
        '''), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    assert "spread.v1" in registry.available("losses")
    columns = columns_for("spread", sentences)
    model, ref_loss, ref_grads = project_step("spread", "mean", columns)
    st, loss = adapter("spread", "mean", model.head, weight=0.25)
    terms, total, grads = adapter_step(st, loss, columns)
    assert_same((total, grads), (ref_loss, ref_grads), "plugin")
    assert set(terms) == {"infonce", "spread"} and loss.get_config_dict()["weight"] == 0.25


def test_infonce_without_head_is_multiple_negatives_ranking(sentences) -> None:
    """With mlp_head=False, InfoNCE is sentence-transformers' MultipleNegativesRankingLoss at scale 1/tau."""
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    st = no_dropout(sentence_transformer("tiny-bert", pooler="mean").double())
    features = [st.preprocess(sentences[:BATCH]), st.preprocess(sentences[BATCH : 2 * BATCH])]
    ours = NAMED_LOSSES["infonce"](st, mlp_head=False)(features, None)["infonce"]
    theirs = MultipleNegativesRankingLoss(st, scale=20.0)(features, None)
    assert abs(ours.item() - theirs.item()) <= REL * abs(theirs.item())


def test_wrong_columns_and_parameters_are_named(sentences) -> None:
    st = sentence_transformer("tiny-bert", pooler="mean")
    loss = SNCSELoss(st)
    with pytest.raises(SncseError, match=r"takes 3 columns, in this order: anchor, positive, soft_negative; "
                                         r"the dataset has 2"):
        loss([st.preprocess(sentences[:4]), st.preprocess(sentences[:4])], None)
    with pytest.raises(SncseError, match="has no parameter gamma; its parameters: temperature, alpha, beta, bml_weight"):
        SNCSELoss(st, gamma=1.0)
    with pytest.raises(SncseError, match="unknown loss 'nope'"):
        RegisteredLoss(st, "nope")
    with pytest.raises(SncseError, match="prompt pooler"):
        sentence_transformer("tiny-bert", pooler="prompt")
