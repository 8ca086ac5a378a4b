"""Loading a saved model: transformers' load report is kept for real problems, not for the unused pooler layer."""

from __future__ import annotations

import logging

import torch

from sncse.encoders import SentenceEncoder
from sncse.encoders.builders import _UnusedPoolerReport

REPORT = ("\x1b[1mBertModel LOAD REPORT\x1b[0m from: runs/x\n"
          "Key                 | Status  | \n"
          "--------------------+---------+-\n"
          "{rows}\n\nNotes:\n- MISSING:\tthose params were newly initialized because missing from the checkpoint.")


def _kept(rows: str) -> bool:
    record = logging.LogRecord("transformers.modeling_utils", logging.WARNING, __file__, 1,
                               REPORT.format(rows=rows), None, None)
    return _UnusedPoolerReport().filter(record)


def test_only_the_pooler_missing_is_not_reported():
    assert not _kept("pooler.dense.bias   | \x1b[31mMISSING\x1b[0m | \npooler.dense.weight | MISSING | ")
    assert not _kept("pooler.dense.{bias, weight} | MISSING | ")


def test_other_problems_are_reported():
    assert _kept("pooler.dense.bias   | MISSING | \nencoder.layer.0.attention.self.query.weight | MISSING | ")
    assert _kept("pooler.dense.bias   | UNEXPECTED | ")
    assert _kept("embeddings.word_embeddings.weight | MISMATCH | ")
    record = logging.LogRecord("transformers.modeling_utils", logging.WARNING, __file__, 1, "another warning",
                               None, None)
    assert _UnusedPoolerReport().filter(record)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_a_saved_tiny_model_loads_silently_with_the_same_weights(tiny_backbone, tmp_path):
    from transformers.utils import logging as hf_logging

    backbone, tokenizer = tiny_backbone
    model = SentenceEncoder(backbone, tokenizer, pooler="cls_before_pooler", mlp="none")
    model.save(tmp_path / "m")
    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_warning()  # the library's default, where a Python user meets the report
    records = _Records()
    logging.getLogger("transformers.modeling_utils").addHandler(records)
    try:
        loaded = SentenceEncoder.load(tmp_path / "m", device="cpu")
    finally:
        logging.getLogger("transformers.modeling_utils").removeHandler(records)
        hf_logging.set_verbosity(level)
    assert not [m for m in records.messages if "LOAD REPORT" in m]
    saved = model.backbone.state_dict()
    for name, value in loaded.backbone.state_dict().items():
        if not name.startswith("pooler."):
            assert torch.equal(value, saved[name]), name
