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
    for bad in ("C4:1", "60", "60:-1", "200:1", "60:nan", "60:inf"):
        with pytest.raises(ValueError):
            music.parse_token(bad)


def test_nothing_to_write_raises(tmp_path):
    with pytest.raises(ValueError, match="No note"):
        music.write_midi(["[START]"], str(tmp_path / "x.mid"))


def test_a_token_that_is_no_note_is_named_not_dropped(tmp_path):
    # Only the special tokens are skipped; "C4" used to vanish from the file.
    path = str(tmp_path / "x.mid")
    with pytest.raises(ValueError, match=r"Token 1 of the sequence: .*'C4'"):
        music.write_midi(["60:1", "C4", "64:1"], path)
    assert not os.path.exists(path)
    music.write_midi(["[START]", "60:1", "", "[UNK]", "64:1", "[END]"], path)
    with open(path, "rb") as f:
        assert music.midi_tokens(f.read())[:2] == ["60:1", "64:1"]  # then a rest to the bar
    # One string of tokens, as sequence_generator.generate takes an opening.
    assert music.midi_bytes("60:1 64:1") == music.midi_bytes(["60:1", "64:1"])
    for bpm in (0, -5, "fast", float("nan")):
        with pytest.raises(ValueError, match="bpm"):
            music.write_midi(["60:1"], path, bpm=bpm)
    with pytest.raises(ValueError, match="out of range"):
        music.note_token(200, 1)


def test_midi_tokens_name_what_is_no_midi_file():
    data = music.midi_bytes(["60:1", "62:1"])
    assert music.midi_tokens(data, max_notes=1) == ["60:1"]
    for bad in (0, -1):  # 0 returned every note, -1 dropped the last
        with pytest.raises(ValueError, match="max_notes"):
            music.midi_tokens(data, max_notes=bad)
    with pytest.raises(TypeError, match="max_notes"):  # as every int option
        music.midi_tokens(data, max_notes=1.5)
    with pytest.raises(ValueError, match="not a MIDI file"):
        music.midi_tokens(b"junk")
    with pytest.raises(ValueError, match="damaged MIDI file"):
        music.midi_tokens(b"MThd\0\0junk")
