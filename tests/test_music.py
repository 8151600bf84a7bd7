import os

import pytest

from cvseq import music


def test_tokens_round_trip_through_a_midi_file(tmp_path):
    tokens = ["67:1", "72:0.5", "71:0.5", "rest:1", "69:1", "67:4"]
    path = music.write_midi(["[START]", *tokens, "[END]"], str(tmp_path / "a.mid"))
    assert os.path.getsize(path) > 50
    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b"MThd"
    assert music.midi_tokens(data) == tokens


def test_parse_token():
    assert music.parse_token("60:1.5") == (60, 1.5)
    assert music.parse_token("rest:0.5") == (None, 0.5)
    for bad in ("C4:1", "60", "60:-1", "200:1"):
        with pytest.raises(ValueError):
            music.parse_token(bad)


def test_nothing_to_write_raises(tmp_path):
    with pytest.raises(ValueError, match="No note"):
        music.write_midi(["[START]"], str(tmp_path / "x.mid"))
