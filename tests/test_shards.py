"""Shard K/N: contiguous whole-block line ranges that tile the input, and shard output names."""

from __future__ import annotations

import pytest

from sncse.errors import SncseError
from sncse.shards import Shard, parse_shard


@pytest.mark.parametrize(("lines", "count", "block"), [(0, 3, 1), (10, 3, 1), (1000, 7, 64), (5, 8, 1), (130, 3, 40)])
def test_ranges_tile_the_input_in_whole_blocks(lines, count, block):
    ranges = [Shard(k, count).line_range(lines, block) for k in range(1, count + 1)]
    assert ranges[0][0] == 0 and ranges[-1][1] == lines
    for (_, stop), (start, _) in zip(ranges, ranges[1:], strict=False):
        assert stop == start
    assert all(start % block == 0 for start, _ in ranges)
    sizes = [-(-(stop - start) // block) for start, stop in ranges]
    assert max(sizes) - min(sizes) <= 1  # balanced to one block


def test_parse_and_names(tmp_path):
    assert parse_shard(None).is_whole and parse_shard("2/8") == Shard(2, 8) and str(parse_shard(" 3 / 12 ")) == "3/12"
    for bad in ("0/3", "4/3", "2", "a/b", "1/0"):
        with pytest.raises(SncseError, match="K/N"):
            parse_shard(bad)
    assert Shard(2, 12).output_path(tmp_path / "emb.npy") == tmp_path / "emb.shard-02-of-12.npy"
    assert Shard(1, 3).output_path("w.negations.jsonl").name == "w.negations.shard-1-of-3.jsonl"
    assert Shard(1, 1).output_path("emb.npy").name == "emb.npy"
    assert Shard(3, 3).output_path("out").name == "out.shard-3-of-3"
