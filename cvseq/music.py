"""Notes as tokens, and back to MIDI files (via music21).

A note is one token `"pitch:duration"`: the MIDI pitch (60 is middle C)
and the length in quarter notes, e.g. `"67:1"` (G4, a quarter) or
`"72:0.5"` (C5, an eighth); a rest is `"rest:duration"`. A melody is a list
of such tokens, which `sequence_generator` models learn and generate.

Example:

>>> tokens = ["67:1", "72:1", "74:0.5", "76:0.5", "rest:1", "74:2"]
>>> write_midi(tokens, "melody.mid")
'melody.mid'
"""

import math
import os
import tempfile

from cvseq import text
from cvseq._validation import check_int, check_number


def _music21():
    try:
        import music21
    except ImportError as err:  # pragma: no cover - a dependency
        raise ImportError("cvseq.music needs music21: pip install music21") from err
    return music21


# The lengths, in quarter notes, a MIDI file holds as written: a 256th
# triplet's order of magnitude to 64 bars of 4/4.
MIN_LENGTH, MAX_LENGTH = 1 / 64, 256.0
# MIDI stores the tempo as microseconds per quarter note in 24 bits.
MIN_BPM = 60_000_000 / (2**24 - 1)


def note_token(pitch, quarter_length):
    """The token of a note (`pitch` int MIDI number, or None for a rest);
    `parse_token` reads it back (a pitch outside 0-127 or a length that is
    not above 0 is a ValueError)."""
    if pitch is not None and (isinstance(pitch, bool) or not float(pitch).is_integer()):
        raise ValueError(f"`pitch` must be a whole MIDI note number (0-127). Received: "
                         f"pitch={pitch!r}.")
    name = "rest" if pitch is None else str(int(pitch))
    token = f"{name}:{float(quarter_length):g}"
    parse_token(token)
    return token


def parse_token(token):
    """`(pitch or None, quarter_length)` of a token; ValueError if malformed."""
    try:
        name, length = str(token).split(":")
        pitch = None if name == "rest" else int(name)
        quarter_length = float(length)
    except ValueError:
        raise ValueError(
            f"A note token is 'pitch:duration' (e.g. '67:1') or 'rest:duration'. "
            f"Received: {token!r}."
        ) from None
    if (not math.isfinite(quarter_length) or quarter_length <= 0
            or (pitch is not None and not 0 <= pitch <= 127)):
        raise ValueError(f"Note token out of range: {token!r}.")
    if not MIN_LENGTH <= quarter_length <= MAX_LENGTH:
        # MIDI files cannot hold shorter notes (music21 wrote 1e-9 as a quarter
        # and dropped 0.001); a longer one is split into thousands of tied
        # notes (1e7 quarters took over 13 GB).
        raise ValueError(
            f"Note token {token!r}: a length from {MIN_LENGTH:g} to {MAX_LENGTH:g} "
            "quarter notes is written to MIDI as it is.")
    return pitch, quarter_length


def stream_tokens(stream, *, transpose=0, merge_ties=False):
    """Tokens of a music21 stream's notes and rests, in order.

    Chords (several notes at once) keep their highest note: the melody.
    `transpose` semitones are added to every pitch. `merge_ties=True`
    joins a note tied across bar lines into one token (`midi_tokens` does:
    music21 splits a long note at the bar lines it reads into a MIDI file);
    the `bach_chorales` tokens keep the score's notation.
    """
    tokens, previous = [], None
    for element in stream.flatten().notesAndRests:
        length = element.quarterLength
        if length <= 0:  # grace notes
            continue
        pitch = None if element.isRest else max(p.midi for p in element.pitches) + transpose
        tie = getattr(element, "tie", None)
        if (merge_ties and tie is not None and tie.type in ("continue", "stop")
                and tokens and previous == pitch):
            # The rest of a note tied across a bar line: one note, not two attacks.
            _, held = parse_token(tokens[-1])
            tokens[-1] = note_token(pitch, held + length)
            continue
        tokens.append(note_token(pitch, length))
        previous = pitch
    return tokens


def tokens_to_stream(tokens, *, bpm=90):
    """A music21 `Stream` playing the tokens. Special tokens (`"[START]"`,
    `"[END]"`, `"[UNK]"`, padding `""`) are skipped; any other token must
    be a note (`parse_token`), else a ValueError names it."""
    if isinstance(tokens, str):
        tokens = tokens.split()  # "60:1 62:1", as sequence_generator takes it
    check_number("bpm", bpm, unit=" (beats a minute)")
    if bpm < MIN_BPM:
        raise ValueError(
            f"`bpm` must be at least {MIN_BPM:.2f}: a MIDI file cannot hold a slower "
            f"tempo (it would be saved as another). Received: bpm={bpm!r}.")
    music21 = _music21()
    stream = music21.stream.Stream()
    stream.append(music21.tempo.MetronomeMark(number=bpm))
    for index, token in enumerate(tokens):
        if str(token) in (text.PAD, text.OOV, text.START, text.END):
            continue  # the vocabulary's special tokens: no notes
        try:
            pitch, length = parse_token(token)
        except ValueError as err:
            raise ValueError(f"Token {index} of the sequence: {err}") from None
        if pitch is None:
            stream.append(music21.note.Rest(quarterLength=length))
        else:
            stream.append(music21.note.Note(pitch, quarterLength=length))
    return stream


def write_midi(tokens, path, *, bpm=90):
    """Writes note tokens to a standard MIDI file any player opens.

    Args:
        tokens: list of str (or one str of them, space-separated). Note
            tokens (`"67:1"`, `"rest:0.5"`, ...); the special tokens
            (`"[START]"`, `"[END]"`, `"[UNK]"`, `""`) are skipped, and any
            other is a ValueError (it used to be dropped without a word).
        path: str. The `.mid` file to write.
        bpm: int. Tempo in quarter notes per minute. Defaults to 90.

    Returns:
        `path`.
    """
    stream = tokens_to_stream(tokens, bpm=bpm)
    if not stream.notesAndRests:
        raise ValueError("No note tokens to write: the sequence is empty.")
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    stream.write("midi", fp=path)
    return path


def midi_bytes(tokens, *, bpm=90):
    """The MIDI file of `write_midi`, as bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_midi(tokens, os.path.join(tmp, "notes.mid"), bpm=bpm)
        with open(path, "rb") as f:
            return f.read()


def midi_tokens(data, *, max_notes=None):
    """Note tokens of a MIDI file given as bytes (e.g. TFDS `groove`).

    The file is quantized to sixteenth notes and triplets by music21;
    simultaneous notes keep the highest.
    """
    check_int("max_notes", max_notes, allow_none=True)
    data = bytes(data)
    if not data.startswith(b"MThd"):
        raise ValueError(f"`data` is not a MIDI file (it does not start with 'MThd'). "
                         f"Received {len(data)} bytes starting {data[:8]!r}.")
    music21 = _music21()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "input.mid")
        with open(path, "wb") as f:
            f.write(data)
        try:
            stream = music21.converter.parse(path, format="midi")
        except music21.midi.MidiException as err:
            raise ValueError(f"`data` is a damaged MIDI file: {err}") from err
    tokens = stream_tokens(stream.chordify(), merge_ties=True)
    return tokens if max_notes is None else tokens[:max_notes]


__all__ = [
    "midi_bytes",
    "midi_tokens",
    "note_token",
    "parse_token",
    "stream_tokens",
    "tokens_to_stream",
    "write_midi",
]
