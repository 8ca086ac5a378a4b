"""Embed a corpus file into a ``.npy`` array (one row per line), resumable and shardable.

``encode_file`` writes ``OUT.npy`` plus a JSON sidecar ``OUT.npy.json``; ``merge_shards`` joins the
outputs of ``shard="K/N"`` runs into the array one unsharded run writes. See ``docs/encode_search.md``.
"""

from .corpus import CORPUS_FORMATS, read_corpus_lines
from .encode import encode_file, merge_shards, read_sidecar, sidecar_path

__all__ = ["CORPUS_FORMATS", "encode_file", "merge_shards", "read_corpus_lines", "read_sidecar", "sidecar_path"]
