"""The ``--shard K/N`` option shared by the commands that split a corpus over machines."""

from __future__ import annotations

from typing import Annotated

import typer

ShardOpt = Annotated[str | None, typer.Option(
    "--shard", metavar="K/N",
    help="Process only shard K of N (K from 1): a contiguous range of whole chunks of input lines, written "
         "to the output name plus .shard-K-of-N. The N outputs concatenated in order equal one unsharded "
         "run (docs/scaling.md).")]
