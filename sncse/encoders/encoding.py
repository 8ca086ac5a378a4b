"""``encode`` and ``similarity``, one implementation for every sentence encoder (PyTorch, onnxruntime).

The contract: each distinct sentence is encoded once, in batches of length-sorted sentences (little
padding computed), and the rows come back in input order, optionally L2-normalised, as a numpy array
or a CPU tensor. An encoder supplies ``tokenize`` and ``inference_max_length`` and two steps of its
own: :meth:`Encodes._embed_batches` (the rows of the distinct sentences, in the runtime's own array
type) and :meth:`Encodes._rows` (normalise, put in input order, convert), so that each runtime keeps
its own arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import Any

import numpy as np

from ..config.schema import AmpMode
from ..progress import task


class Encodes:
    """``encode``/``similarity`` over an encoder's ``tokenize``, ``_embed_batches`` and ``_rows``."""

    inference_max_length: int

    def tokenize(self, sentences: Sequence[str], view: str = "original",
                 max_length: int | None = None) -> list[list[int]]:
        raise NotImplementedError

    def _embed_batches(self, ids: list[list[int]], batches: list[list[int]], amp: AmpMode,
                       advance: Callable[[int], None]) -> Any:
        """(len(ids), H) float32 rows of the token id lists ``ids``, embedded batch by batch (each batch
        a list of indexes into ``ids``), calling ``advance`` with each batch's size."""
        raise NotImplementedError

    def _rows(self, out: Any, order: list[int], normalize: bool, convert_to: str) -> Any:
        """``out[order]`` (``normalize``: after L2 normalisation), as numpy or a CPU tensor (``convert_to``)."""
        raise NotImplementedError

    def encode(
        self,
        sentences: Sequence[str],
        batch_size: int = 128,
        normalize: bool = False,
        convert_to: str = "numpy",
        view: str = "original",
        amp: AmpMode = "auto",
        show_progress: bool = True,
    ) -> Any:
        """Embed ``sentences`` -> (N, H) float32, in input order (``convert_to="tensor"``: a CPU tensor).

        Each distinct sentence is encoded once, and batches are formed from length-sorted sentences
        so that little padding is computed. ``amp``: the precision (:mod:`sncse.encoders.amp`; ``off`` is fp32)
        where the runtime has a choice.
        """
        if isinstance(sentences, str):
            raise TypeError("encode() takes a list of sentences, not a single string")
        sentences = list(sentences)
        unique = list(dict.fromkeys(sentences))
        ids = self.tokenize(unique, view=view, max_length=self.inference_max_length) if unique else []
        order = sorted(range(len(unique)), key=lambda i: -len(ids[i]))
        batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
        ctx = task("encoding", total=len(unique), unit="sent") if show_progress else nullcontext(lambda n: None)
        with ctx as advance:
            out = self._embed_batches(ids, batches, amp, advance)
        index = {s: i for i, s in enumerate(unique)}
        return self._rows(out, [index[s] for s in sentences], normalize, convert_to)

    def similarity(self, a: Sequence[str], b: Sequence[str], batch_size: int = 128) -> np.ndarray:
        """Cosine similarity matrix (len(a), len(b))."""
        ea = self.encode(a, batch_size=batch_size, normalize=True, show_progress=False)
        eb = self.encode(b, batch_size=batch_size, normalize=True, show_progress=False)
        return ea @ eb.T
