"""audio/chorale: the chorale encoding, the model's sampling grammar, rendering (MIDI, sound, piano roll), the
adapter's bad-input messages, the training command and the CLI."""

from __future__ import annotations

import io
import json
import struct
import wave

import numpy as np
import pytest
import torch

from genai_demo.adapters.chorale import FROM_SCRATCH, ChoraleAdapter
from genai_demo.contract import GenAIError, ParameterError
from genai_demo.data import chorales as C
from genai_demo.models import chorale as M
from genai_demo.music import (Note, in_key_share, notes_of, parallel_fifths_octaves, piano_roll, synthesize, to_midi,
                              to_wav, voice_range)


@pytest.fixture(scope="module")
def few_chorales(tmp_path_factory):
    """Eight real chorales from music21's corpus, parsed into a private cache (seconds, not the minute of all)."""
    cache = tmp_path_factory.mktemp("chorales")
    return C.load_chorales(cache, paths=C.corpus_paths()[:12], progress=False), cache


def check_grammar(tokens: list[int]) -> None:
    assert tokens[0] == C.BOS and tokens[1] in (C.MAJOR, C.MINOR)
    body = tokens[2:]
    assert len(body) % C.TOKENS_PER_BAR == 0
    for i, t in enumerate(body):
        if i % C.TOKENS_PER_BAR == 0:
            assert t == C.BAR, f"token {i} should open a bar"
        else:
            assert t in (C.HOLD, C.REST) or t >= C.FIRST_PITCH, f"token {i} is {C.VOCAB[t]} inside a bar"


# -- data -------------------------------------------------------------------------------------------------------

def test_real_chorales_encode_as_bars_of_four_voices_in_c_or_a(few_chorales):
    chorales, _ = few_chorales
    assert len(chorales) >= 6  # most of the first 12 files are four-voice 4/4 chorales
    for c in chorales:
        check_grammar(c.tokens)
        notes = notes_of(c.tokens)
        assert all(n.voice in range(4) and n.length >= 1 for n in notes)
        assert in_key_share(notes, c.mode) > 0.85, c.name  # transposed to C major / A minor
        ranges = voice_range(notes)
        assert ranges["soprano"][1] > ranges["bass"][1] and ranges["soprano"][0] > ranges["bass"][0]


def test_cache_round_trip_and_a_broken_cache_is_rebuilt(few_chorales, tmp_path):
    chorales, cache = few_chorales
    again = C.load_chorales(cache, paths=[], progress=False)  # no paths to parse: must come from the cache
    assert [c.tokens for c in again] == [c.tokens for c in chorales]
    (tmp_path / "chorales.json").write_text("{not json")
    rebuilt = C.load_chorales(tmp_path, paths=C.corpus_paths()[:3], progress=False)
    assert rebuilt and json.loads((tmp_path / "chorales.json").read_text())["version"] == C.ENCODING_VERSION


def test_validation_split_is_by_name_and_about_a_tenth():
    names = [f"bwv{i}.{j}" for i in range(1, 200) for j in range(1, 4)]
    held = [n for n in names if C.is_validation(n)]
    assert 0.05 < len(held) / len(names) < 0.15
    assert held == [n for n in names if C.is_validation(n)]  # the same every time


def test_two_sixteenths_keep_the_first_and_the_next_beat_keeps_its_own_note():
    from music21 import meter, note, stream

    score = stream.Score()
    for voice in ([("C5", 0.5), ("D5", 0.25), ("E5", 0.25), ("F5", 1), ("G5", 2)], [("C4", 4)], [("E3", 4)],
                  [("C3", 4)]):
        part, bar = stream.Part(), stream.Measure()
        bar.append(meter.TimeSignature("4/4"))
        for name, length in voice:
            bar.append(note.Note(name, quarterLength=length))
        part.append(bar)
        score.append(part)
    soprano = C.tokens_to_voices(C.encode_score(score, "test").tokens)[0]
    assert soprano == [(72, 0, 1), (74, 1, 1), (77, 2, 2), (79, 4, 4)]  # E5 (the second sixteenth) is dropped


def test_tokens_decode_to_notes_with_holds_and_rests():
    tokens = [C.BOS, C.MAJOR, C.BAR] + [C.pitch_id(72), C.pitch_id(67), C.pitch_id(64), C.pitch_id(48)] \
        + [C.HOLD, C.REST, C.HOLD, C.pitch_id(43)] + [C.HOLD] * 24
    voices = C.tokens_to_voices(tokens)
    assert voices[0] == [(72, 0, 8)]  # held for the whole bar
    assert voices[1] == [(67, 0, 1)]  # then a rest
    assert voices[3] == [(48, 0, 1), (43, 1, 7)]


# -- model ------------------------------------------------------------------------------------------------------

def test_sampling_keeps_the_grid_voice_ranges_and_is_seeded():
    torch.manual_seed(0)
    model = M.make_model("tiny", voice_ranges={"soprano": [60, 79], "alto": [55, 74], "tenor": [48, 67],
                                               "bass": [36, 60]}).eval()
    runs = [[s.token_id for s in M.sample(model, [C.BOS, C.MINOR], 14, torch.Generator().manual_seed(s))]
            for s in (3, 3, 4)]
    assert runs[0] == runs[1] and runs[0] != runs[2]
    tokens = [C.BOS, C.MINOR] + runs[0]
    check_grammar(tokens)
    assert len(tokens) == 2 + 14 * C.TOKENS_PER_BAR  # past the 12-bar window: the window slid
    for n in notes_of(tokens):
        low, high = model.config.voice_ranges[C.VOICES[n.voice]]
        assert low <= n.pitch <= high
    grid = [[t for t in tokens[2 + b * C.TOKENS_PER_BAR + 1 : 2 + (b + 1) * C.TOKENS_PER_BAR]] for b in range(14)]
    steps = [bar[i : i + 4] for bar in grid for i in range(0, 32, 4)]
    for v in range(4):  # a hold only where that voice sounded at the step before (a note, or a held note)
        sounding = False
        for step in steps:
            assert step[v] != C.HOLD or sounding, f"voice {v} holds after silence"
            sounding = step[v] != C.REST


def test_the_parallels_rule_leaves_none_and_off_the_model_alone_writes_some():
    torch.manual_seed(0)
    model = M.make_model("tiny", voice_ranges={"soprano": [60, 79], "alto": [55, 74], "tenor": [48, 67],
                                               "bass": [36, 60]}).eval()
    counts = {}
    for rule in (True, False):
        counts[rule] = sum(parallel_fifths_octaves(notes_of([C.BOS, C.MAJOR] + [
            s.token_id for s in M.sample(model, [C.BOS, C.MAJOR], 6, torch.Generator().manual_seed(seed),
                                         forbid_parallels=rule)])) for seed in range(4))
    assert counts[True] == 0 and counts[False] > 0  # an untrained model moves voices at random: parallels happen


def test_the_parallels_rule_judges_one_candidate_like_the_count_does():
    voices = M.Voices()
    for position, token in enumerate([C.BAR, C.pitch_id(67), C.pitch_id(64), C.pitch_id(55), C.pitch_id(48),
                                      C.pitch_id(69), C.HOLD, C.REST]):
        voices.start(position)
        voices.read(position, token)
    voices.start(8)  # the bass's slot: its choice is being made
    # Soprano G4 -> A4 (up); bass C3 -> D3 would be a parallel fifth (G over C, A over D); B2 moves down: fine.
    assert voices.makes_parallel(3, 50) and not voices.makes_parallel(3, 47)
    assert not voices.makes_parallel(3, 48)  # the bass stays: no motion, no parallel
    assert not voices.makes_parallel(1, 65)  # the alto's only voice above is the soprano: a third, not a fifth
    assert voices.makes_parallel(2, 57)  # tenor G3 -> A3 under soprano G4 -> A4: parallel octaves
    assert not voices.makes_parallel(2, 52)  # tenor down while the soprano goes up, the alto holds: fine


def test_nll_of_a_model_and_of_the_unigram_baseline():
    seqs = [[C.BOS, C.MAJOR] + [C.BAR] + [C.pitch_id(60), C.HOLD, C.HOLD, C.HOLD] * 8 for _ in range(3)]
    uni = M.unigram_nll(seqs, seqs)
    assert 0.5 < uni < 1.5  # a quarter of the note tokens are one pitch, three quarters hold
    model = M.make_model("tiny").eval()
    assert abs(M.nll_per_token(model, seqs) - np.log(len(C.VOCAB))) < 1.0  # untrained: near uniform


def test_training_lowers_the_loss_and_writes_a_card(few_chorales, tmp_path):
    from genai_demo.train.chorale import train

    _, cache = few_chorales
    out = tmp_path / "w"
    summary = train(cache, out, preset="tiny", max_steps=40, eval_every=20, batch_size=8, lr=3e-3)
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in log if "loss" in r]
    assert losses[-1] < losses[0]
    assert summary["final_losses"]["val_nll_per_note_token"] < np.log(len(C.VOCAB))
    assert (out / "model.safetensors").is_file() and (out / "openings.json").is_file()
    assert "unigram" in (out / "README.md").read_text()
    adapter = ChoraleAdapter(tmp_path)
    adapter.weights_root = out.parent
    (tmp_path / "audio-chorale").symlink_to(out)
    assert adapter.unavailable_reason() is None and adapter.openings


# -- rendering --------------------------------------------------------------------------------------------------

def test_midi_file_has_four_voice_tracks_the_notes_and_the_tempo():
    notes = [Note(0, 72, 0, 4), Note(1, 67, 0, 4), Note(2, 64, 0, 2), Note(3, 48, 0, 8)]
    data = to_midi(notes, tempo=90)
    assert data[:4] == b"MThd"
    fmt, tracks, ticks = struct.unpack(">HHH", data[8:14])
    assert (fmt, tracks, ticks) == (1, 5, 480)
    assert data.count(b"MTrk") == 5
    assert round(60_000_000 / 90).to_bytes(3, "big") in data  # the tempo meta event
    from music21 import converter

    score = converter.parse(data, format="midi")
    assert sorted(n.pitch.midi for n in score.flatten().notes) == [48, 64, 67, 72]


def test_sound_has_the_right_length_and_level_and_both_instruments_differ():
    notes = [Note(0, 72, 0, 8), Note(3, 48, 0, 8)]
    organ = synthesize(notes, tempo=120, instrument="organ")
    choir = synthesize(notes, tempo=120, instrument="choir")
    assert organ.dtype == np.float32 and np.isfinite(organ).all()
    assert 0.8 < np.abs(organ).max() <= 1.0
    assert abs(len(organ) / 22050 - (2.0 + 1.5)) < 0.1  # one bar at 120 bpm, plus the reverb's tail
    assert not np.allclose(organ[:len(choir)], choir[:len(organ)])
    with wave.open(io.BytesIO(to_wav(organ))) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (1, 2, 22050, len(organ))
    with pytest.raises(ValueError):
        synthesize(notes, 120, instrument="kazoo")


def test_piano_roll_and_musical_counts():
    img = piano_roll([Note(0, 72, 0, 8), Note(3, 48, 0, 8)], num_steps=16)
    assert img.width > 16 * 12 and img.height > (72 - 48) * 6
    # Soprano and bass a fifth + octaves apart, both moving up a step together: one parallel fifth.
    fifths = [Note(0, 67, 0, 1), Note(3, 48, 0, 1), Note(0, 69, 1, 1), Note(3, 50, 1, 1)]
    assert parallel_fifths_octaves(fifths) == 1
    contrary = [Note(0, 67, 0, 1), Note(3, 48, 0, 1), Note(0, 65, 1, 1), Note(3, 50, 1, 1)]
    assert parallel_fifths_octaves(contrary) == 0
    assert in_key_share([Note(0, 60, 0, 1), Note(0, 61, 1, 1)], "major") == 0.5
    assert in_key_share([Note(0, 68, 0, 1)], "minor") == 1.0  # G sharp: A minor's leading note


# -- the adapter ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def adapter(tiny_weights):
    return ChoraleAdapter(tiny_weights)


def test_adapter_streams_bars_then_sound_midi_and_roll(adapter):
    results = list(adapter.stream(num_bars=3, seed=5, tempo=100))
    assert [r.done for r in results] == [False, False, True]
    final = results[-1]
    rate, audio = final.audio
    assert rate == 22050 and len(audio) / rate > 3 * 4 * 60 / 100  # three bars of four beats at 100 bpm
    assert set(final.files) == {"chorale.mid", "chorale.wav"} and final.files["chorale.mid"][:4] == b"MThd"
    assert len(final.process) == 3 and final.images[0].width > 0
    assert len(adapter.generate(num_bars=24, seed=5).process) == 12  # a long piece keeps every other bar
    check_grammar(final.info["tokens"])
    again = adapter.generate(num_bars=3, seed=5, tempo=100)
    assert again.info["tokens"] == final.info["tokens"] and np.array_equal(again.audio[1], audio)


def test_adapter_continues_a_real_opening_in_its_mode(adapter):
    label = next(iter(adapter.openings))
    result = adapter.generate(num_bars=2, continue_from=label, mode="major", seed=1)
    tokens = result.info["tokens"]
    assert result.info["mode"] == "minor" and tokens[1] == C.MINOR
    assert [C.VOCAB[t] for t in tokens[: 2 + 2 * C.TOKENS_PER_BAR]] == adapter.openings[label]["tokens"]
    assert len(tokens) == 2 + 4 * C.TOKENS_PER_BAR
    transposed = adapter.generate(num_bars=2, continue_from=label, seed=1, transpose=5)
    assert [n.pitch + 5 for n in notes_of(tokens)] == [n.pitch for n in notes_of(transposed.info["tokens"], 5)]


@pytest.mark.parametrize("params, expected", [
    ({"num_bars": 0}, "num_bars=0 is out of range"),
    ({"num_bars": 10000}, "num_bars=10000 is out of range"),
    ({"tempo": 0}, "tempo=0 is out of range"),
    ({"temperature": -1}, "temperature=-1 is out of range"),
    ({"continue_from": "BWV 9999 (nowhere)"}, "continue_from='BWV 9999 (nowhere)' is not a known choice"),
    ({"instrument": "kazoo"}, "instrument='kazoo' is not a known choice"),
])
def test_bad_input_gets_one_clear_line(adapter, params, expected):
    with pytest.raises(ParameterError) as e:
        adapter.generate(**params)
    assert str(e.value).startswith(expected) and "\n" not in str(e.value)


def test_missing_or_broken_weights_say_how_to_train(tmp_path):
    missing = ChoraleAdapter(tmp_path)
    assert "train them with: python -m genai_demo train audio/chorale" in missing.unavailable_reason()
    (tmp_path / "audio-chorale").mkdir()
    (tmp_path / "audio-chorale" / "config.json").write_text("{}")
    (tmp_path / "audio-chorale" / "model.safetensors").write_bytes(b"garbage")
    broken = ChoraleAdapter(tmp_path)
    assert "broken" in broken.unavailable_reason()
    with pytest.raises(GenAIError):
        broken.generate()
    assert broken.param("continue_from").choices == (FROM_SCRATCH,)  # no openings file: compose only


def test_cli_generate_writes_midi_and_wav(tiny_weights, tmp_path, capsys):
    from genai_demo.cli import main

    code = main(["--weights-dir", str(tiny_weights), "generate", "audio/chorale", "--seed", "2",
                 "--set", "num_bars=2", "--set", "instrument=choir", "--out", str(tmp_path)])
    assert code == 0
    assert (tmp_path / "chorale.mid").read_bytes()[:4] == b"MThd"
    with wave.open(str(tmp_path / "chorale.wav")) as w:
        assert w.getnframes() > 22050 * 2
    assert (tmp_path / "image_000.png").is_file() and json.loads((tmp_path / "info.json").read_text())["seed"] == 2
    assert main(["--weights-dir", str(tiny_weights), "generate", "audio/chorale", "--set", "tempo=0",
                 "--out", str(tmp_path)]) != 0
    assert "tempo=0 is out of range" in capsys.readouterr().err


def test_the_reverb_is_the_rooms_impulse_response_computed_once():
    from genai_demo import music

    notes = [Note(0, 72, 0, 8), Note(3, 48, 2, 6)]
    dry = synthesize(notes, tempo=120, reverb=False)
    music._reverb_spectrum.cache_clear()
    wet = [synthesize(notes, tempo=120) for _ in range(2)]
    assert music._reverb_spectrum.cache_info().hits >= 1  # the room's spectrum once for both pieces
    assert wet[0].tobytes() == wet[1].tobytes()
    # the same as convolving the (longer) unscaled dry sound with the impulse response, then scaling to -1 dBFS
    steps = music.seconds_per_step(120) * 8
    plain, rng = np.zeros(int((steps + 1.5) * 22050) + 1), np.random.default_rng(0)  # (the pipes' breath noise)
    for n in notes:
        tone = music._tone(n.pitch, int(n.length * music.seconds_per_step(120) * 22050) + int(0.06 * 22050), "organ",
                           22050, rng)
        start = int(n.start * music.seconds_per_step(120) * 22050)
        plain[start:start + len(tone)] += music.VOICE_GAIN[n.voice] * tone[: len(plain) - start]
    expected = np.convolve(plain, music._reverb_impulse(22050))[: len(plain)]
    expected *= 0.89 / np.abs(expected).max()
    assert len(wet[0]) == len(expected) and len(dry) < len(wet[0])
    assert np.abs(wet[0] - expected).max() < 1e-3
