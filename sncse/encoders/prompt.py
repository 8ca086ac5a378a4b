"""The prompt template's facts, shared by the encoder's tokenization and the pooler's exports.

A template holds ``{sentence}`` once and the placeholder ``[MASK]`` once; the placeholder stands for the
tokenizer's own mask token (RoBERTa: ``<mask>``). A sequence is the tokenizer's special tokens around
the template's text before the sentence, the sentence, and the text after it.
"""

from __future__ import annotations

from typing import Any

from ..errors import SncseError

MASK_PLACEHOLDER = "[MASK]"


def split_template(template: str, mask: str) -> tuple[str, str]:
    """The template's text before and after ``{sentence}``, with ``mask`` (the tokenizer's mask token)
    in place of the placeholder; a template without ``{sentence}`` or without exactly one placeholder
    is an SncseError."""
    if "{sentence}" not in template or template.count(MASK_PLACEHOLDER) != 1:
        raise SncseError(f"template must contain '{{sentence}}' and exactly one {MASK_PLACEHOLDER}: {template!r}")
    before, after = template.split("{sentence}")
    return before.replace(MASK_PLACEHOLDER, mask), after.replace(MASK_PLACEHOLDER, mask)


def special_wrap(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The special tokens ``tokenizer`` puts before and after a single sequence ([CLS] ... [SEP])."""
    probe = tokenizer("a", add_special_tokens=False)["input_ids"]
    full = tokenizer("a", add_special_tokens=True)["input_ids"]
    at = next(i for i in range(len(full)) if full[i : i + len(probe)] == probe)
    return full[:at], full[at + len(probe) :]
