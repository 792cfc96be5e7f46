"""Harmonise a melody: typed notes and MIDI files read safely, the soprano forced, the rule against parallels kept.

The tiny randomly initialised chorale model of ``tiny_weights`` (2 layers, 32 dims) on the CPU.
"""

from __future__ import annotations

import pytest
import torch

from genai_demo.adapters.harmonise import NUN_DANKET, ODE_TO_JOY, TWINKLE, HarmoniseAdapter
from genai_demo.contract import ParameterError
from genai_demo.data.chorales import BAR, HOLD, MAJOR, REST, TOKENS_PER_BAR, pitch_id
from genai_demo.melody import (MAX_MIDI_BYTES, MelodyError, MelodyNote, find_key, fit_octave, melody_text,
                               parse_melody, read_midi_melody, to_model_key)
from genai_demo.music import Note, notes_of, parallel_fifths_octaves, to_midi
from genai_demo.ui.audio_tab import format_audio_info, melody_from_midi
from genai_demo.ui.errors import for_page

RANGE = (52, 84)


@pytest.fixture(scope="module")
def harmoniser(tiny_weights):
    return HarmoniseAdapter(tiny_weights)


def test_a_typed_melody_is_read_on_the_eighth_note_grid():
    notes = parse_melody("C4 D4:2 | Eb4:0.5 R:1/2 F#4:1.5 bb4", RANGE)
    assert notes == [MelodyNote(60, 2), MelodyNote(62, 4), MelodyNote(63, 1), MelodyNote(None, 1),
                     MelodyNote(66, 3), MelodyNote(70, 2)]
    assert melody_text(notes) == "C4 D4:2 D#4:0.5 R:0.5 F#4:1.5 A#4"
    assert parse_melody(melody_text(notes), RANGE) == notes


@pytest.mark.parametrize("melody, reason, line", [
    ("C4 H4", "name", "'H4' is not a note name"),
    ("C4 do re mi", "name", "'do' is not a note name"),
    ("C4 C7", "range", "C7 is outside the soprano's range, E3 to C6"),
    ("C4 C2:2", "range", "C2 is outside the soprano's range"),
    ("C4:0.3", "grid", "lengths are whole eighth notes"),
    ("C4:x", "length", "'C4:x' has a length that is not a positive number"),
    ("C4:0", "length", "not a positive number"),
    ("C4:97", "too_long", "longer than 24 bars"),
    ("   ", "empty", "the melody is empty"),
    ("R R:2", "no_notes", "only rests"),
])
def test_a_melody_that_cannot_be_used_is_one_line(melody, reason, line):
    with pytest.raises(MelodyError, match=line) as e:
        parse_melody(melody, RANGE)
    assert e.value.reason == reason and "\n" not in str(e.value)


def test_the_key_is_heard_from_the_melody_and_moved_to_c_major_or_a_minor():
    assert find_key(parse_melody(ODE_TO_JOY, RANGE)) == (0, "major")
    assert find_key(parse_melody(TWINKLE, RANGE)) == (0, "major")
    assert find_key(parse_melody(NUN_DANKET, RANGE)) == (7, "major")  # G major
    assert find_key(parse_melody("D4 F4 A4 D5 C#5:2 D5:2", RANGE)) == (2, "minor")
    notes = parse_melody(NUN_DANKET, RANGE)
    assert to_model_key(notes, RANGE) == (5, "major")  # G4..C5 up a fourth: C5..F5 stays in range
    assert to_model_key(notes, (52, 70)) == (-7, "major")  # or down a fifth when up does not fit
    assert to_model_key(notes, RANGE, (9, "minor")) == (0, "minor")  # a key the visitor names
    with pytest.raises(MelodyError, match="too wide"):
        to_model_key(parse_melody("E3 C6", RANGE), RANGE, (7, "major"))  # G major: up 5 or down 7, neither fits


def test_the_top_line_of_a_midi_file_is_read_on_the_grid():
    chorale = [Note(0, 72, 0, 2), Note(1, 64, 0, 4), Note(0, 74, 2, 2), Note(3, 48, 0, 8), Note(0, 76, 4, 3),
               Note(0, 77, 9, 1)]
    notes = read_midi_melody(to_midi(chorale, 90))
    assert notes == [MelodyNote(72, 2), MelodyNote(74, 2), MelodyNote(76, 3), MelodyNote(None, 2), MelodyNote(77, 1)]
    moved, shift = fit_octave([MelodyNote(96, 2)], RANGE)
    assert shift == -12 and moved == [MelodyNote(84, 2)]  # the smallest move that fits


@pytest.mark.parametrize("data, reason", [
    (b"not a midi file at all", "midi_not"),
    (b"\x89PNG\r\n\x1a\n" + bytes(100), "midi_not"),
    (b"", "midi_not"),
    (b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\xff\xff\x00\x90", "midi_broken"),  # cut short
    (b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\xe7\x28", "midi_broken"),  # SMPTE time
    (b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\x00\x04\x00\xff\x2f\x00", "midi_empty"),
    (b"MThd" + bytes(MAX_MIDI_BYTES), "midi_large"),
])
def test_a_file_that_is_not_a_usable_midi_file_is_one_line(data, reason):
    with pytest.raises(MelodyError) as e:
        read_midi_melody(data)
    assert e.value.reason == reason


def test_the_page_reads_an_uploaded_file_only_up_to_its_limit(tmp_path):
    big = tmp_path / "big.mid"
    big.write_bytes(b"MThd" + bytes(20 * 1024 * 1024))
    assert melody_from_midi(big, RANGE) == (None, "This file is too large: a melody's MIDI file must be at most 64 kB.")
    text = tmp_path / "notes.mid"
    text.write_text("C4 D4 E4")
    assert melody_from_midi(text, RANGE, "ko") == (None, "이 파일은 MIDI 파일이 아닙니다.")
    good = tmp_path / "tune.mid"
    good.write_bytes(to_midi([Note(0, 96, 0, 2), Note(0, 98, 2, 6)], 80))
    melody, line = melody_from_midi(good, RANGE)
    assert melody == "C5 D5:3" and "Loaded 2 notes" in line and "Moved by -2 octave(s)" in line


def test_the_sampler_writes_the_soprano_as_given_and_draws_the_rest(tiny_weights):
    from transformers import GPT2LMHeadModel

    from genai_demo.models.chorale import harmonise

    model = GPT2LMHeadModel.from_pretrained(tiny_weights / "audio-chorale").eval()
    soprano = ([pitch_id(72)] + [HOLD] * 3 + [pitch_id(74), HOLD, REST, pitch_id(76)]) * 2

    def run(seed: int, rule: bool) -> list[int]:
        return [s.token_id for s in harmonise(model, soprano, MAJOR, torch.Generator().manual_seed(seed),
                                              forbid_parallels=rule)]

    tokens = run(0, True)
    assert len(tokens) == 2 * TOKENS_PER_BAR and tokens[::TOKENS_PER_BAR] == [BAR, BAR]
    bars = [tokens[i * TOKENS_PER_BAR + 1 : (i + 1) * TOKENS_PER_BAR] for i in range(2)]
    assert [t for bar in bars for t in bar[::4]] == soprano  # every soprano slot as given
    other = run(1, True)
    assert run(0, True) == tokens and other != tokens  # seeded
    for written in (tokens, other):  # the rule holds, whatever the untrained model prefers
        assert parallel_fifths_octaves(notes_of([0, MAJOR] + written)) == 0
    with pytest.raises(ValueError, match="whole bars"):
        next(harmonise(model, soprano[:5], MAJOR, torch.Generator()))


def test_a_harmonised_melody_keeps_its_soprano_key_and_comes_with_sound_roll_and_midi(harmoniser):
    melody = "G4 G4 A4 B4:2 A4:0.5 R:0.5 F#4 G4:3"  # G major, 2 bars and a half
    result = harmoniser.generate(melody=melody, seed=2, forbid_parallels=True)
    assert result.info["key"] == "G major" and result.info["mode"] == "major"
    written = notes_of(result.info["tokens"], result.info["transposed"])
    soprano = [(n.pitch, n.length) for n in written if n.voice == 0]
    assert soprano == [(n.pitch, n.steps) for n in parse_melody(melody, harmoniser.soprano_range) if n.pitch]
    assert parallel_fifths_octaves(written) == 0
    assert sorted(result.files) == ["harmonised.mid", "harmonised.wav"]
    assert result.files["harmonised.mid"][:4] == b"MThd" and result.audio[1].size > 0 and result.images
    assert "written in G major" in format_audio_info(result.info)
    assert "사장조로 씀" in format_audio_info(result.info, "ko")


def test_a_bad_melody_is_one_line_for_the_api_and_for_the_page_in_its_language(harmoniser):
    with pytest.raises(ParameterError, match=r"^melody: 'X9' is not a note name") as e:
        harmoniser.generate(melody="C4 X9")
    assert for_page(e.value, "en").startswith("Melody (the soprano): X9 is not a note name.")
    assert for_page(e.value, "ko").startswith("선율(소프라노): X9은(는) 음 이름이 아닙니다.")
    with pytest.raises(ParameterError, match="outside the soprano's range") as e:
        harmoniser.generate(melody="C4 C8")
    assert "소프라노 음역" in for_page(e.value, "ko")
    with pytest.raises(ParameterError, match="melody is 100,000 characters long"):
        harmoniser.generate(melody="C4 " * 33_333 + "C")
    with pytest.raises(ParameterError, match="key='H major' is not a known choice"):
        harmoniser.generate(key="H major")
