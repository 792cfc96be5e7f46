"""The quiz, model side: the shipped real digits, ten rounds with one real digit each, answers counted once, bad
answers refused in one line, and class totals that survive 30 visitors answering at once. Tiny models."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from genai_demo import i18n, quiz
from genai_demo.judge import DigitJudge
from genai_demo.refusal import Refusal
from genai_demo.registry import Registry


@pytest.fixture(scope="module")
def tiny(tiny_weights):
    registry = Registry(tiny_weights)
    return registry.get("image/gan"), DigitJudge(tiny_weights)


def make(tiny, seed: int = 1, totals: quiz.ClassTotals | None = None) -> quiz.Quiz:
    gan, judge = tiny
    return quiz.make_quiz(gan, seed, judge=judge, critic=lambda images, digits: [0.5] * len(images),
                          totals=totals or quiz.ClassTotals())


def test_the_shipped_real_digits():
    images, labels = quiz.real_digits()
    assert images.shape == (300, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [30] * 10
    assert quiz.SHEET.stat().st_size < 1_000_000
    assert all(images[i].max() > 200 and images[i].mean() < 100 for i in range(0, 300, 7))  # ink on black
    assert "CC BY-SA 3.0" in quiz.SHEET_INFO.read_text()


def test_ten_rounds_each_with_exactly_one_real_digit_and_the_same_seed_gives_the_same_quiz(tiny):
    images, _ = quiz.real_digits()
    sheet = {im.tobytes() for im in images}
    q, again, other = make(tiny, 1), make(tiny, 1), make(tiny, 2)
    assert len(q.rounds) == quiz.ROUNDS
    for played in q.rounds:
        assert len(played.tiles) == quiz.TILES and sum(t.real for t in played.tiles) == 1
        real = played.tiles[played.real_choice - 1]
        assert real.image.tobytes() in sheet and real.image.size == (28, 28)
        assert all(0 <= t.confidence <= 1 and 0 <= t.predicted <= 9 and t.critic == 0.5 for t in played.tiles)
        assert all(0 <= t.digit <= 9 for t in played.tiles)  # each generated digit knows what it was asked to be
    assert [r.real_choice for r in q.rounds] == [r.real_choice for r in again.rounds]
    assert [t.image.tobytes() for r in q.rounds for t in r.tiles] == \
        [t.image.tobytes() for r in again.rounds for t in r.tiles]
    assert [t.image.tobytes() for r in q.rounds for t in r.tiles] != \
        [t.image.tobytes() for r in other.rounds for t in r.tiles]


def test_answers_count_once_and_bad_ones_are_one_line_each(tiny):
    totals = quiz.ClassTotals()
    q = make(tiny, 3, totals)
    right = q.rounds[0].real_choice
    outcome = q.answer(1, right)
    assert outcome.right and outcome.score == 1 and outcome.picked is outcome.real
    for args, key, english in [((1, right), "quiz:answered", "Round 1 is already answered"),
                               ((11, 1), "quiz:no_round", "There is no round 11"),
                               ((0, 1), "quiz:no_round", "There is no round 0"),
                               (("two", 1), "quiz:no_round", "There is no round two"),
                               ((1.5, 1), "quiz:no_round", "There is no round 1.5"),
                               ((1, 5), "quiz:no_tile", "There is no digit 5"),
                               ((2, 1), "quiz:not_yet", "Round 2 is not shown yet")]:
        with pytest.raises(Refusal) as caught:
            q.answer(*args)
        assert caught.value.key == key and str(caught.value).startswith(english) and "\n" not in str(caught.value)
        assert caught.value.message("ko") != str(caught.value)  # and in Korean
    assert totals.snapshot() == {"image/gan": (1, 1)}  # the refused ones changed nothing
    assert q.next_round().number == 2
    with pytest.raises(Refusal, match="Answer round 2 first"):
        q.next_round()
    wrong = q.rounds[1].real_choice % quiz.TILES + 1
    miss = q.answer(2, wrong)
    assert not miss.right and miss.score == 1 and not miss.picked.real and miss.real.real
    for n in range(3, quiz.ROUNDS + 1):
        q.next_round()
        q.answer(n, 1)
    assert q.next_round() is None and q.answered == quiz.ROUNDS
    assert q.rounds[1] in q.misses()
    assert totals.snapshot()["image/gan"][0] == quiz.ROUNDS


def test_class_totals_survive_30_visitors_answering_at_once_each_twice(tiny):
    totals = quiz.ClassTotals()
    base = make(tiny, 4, totals)
    visitors = [quiz.Quiz(base.family, base.seed, [quiz.Round(r.number, r.tiles) for r in base.rounds], totals)
                for _ in range(30)]
    picks = [[(v + n) % quiz.TILES + 1 for n in range(quiz.ROUNDS)] for v in range(30)]
    start = threading.Barrier(60)
    accepted, refused = [], []

    def visitor(v: int) -> None:
        start.wait()
        q = visitors[v]
        for n in range(1, quiz.ROUNDS + 1):
            try:
                accepted.append(q.answer(n, picks[v][n - 1]).right)
            except Refusal as e:
                refused.append(e.key)
            if n < quiz.ROUNDS:
                try:
                    q.next_round()
                except Refusal as e:  # the other thread of this visitor got there first
                    refused.append(e.key)

    threads = [threading.Thread(target=visitor, args=(v % 30,)) for v in range(60)]  # every visitor sends twice
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    answers, found = totals.snapshot()["image/gan"]
    expected_found = sum(picks[v][n] == base.rounds[n].real_choice for v in range(30) for n in range(quiz.ROUNDS))
    assert answers == 30 * quiz.ROUNDS == len(accepted)  # none lost, none counted twice
    assert found == expected_found == sum(accepted)
    assert set(refused) <= {"quiz:answered", "quiz:not_yet", "quiz:answer_first"}


def test_the_book_keeps_one_quiz_per_visitor_and_forgets_the_oldest(tiny):
    book = quiz.QuizBook(limit=2)
    with pytest.raises(Refusal, match="No quiz yet"):
        book.get("a")
    a, b, c = make(tiny, 5), make(tiny, 6), make(tiny, 7)
    book.put("a", a), book.put("b", b)
    assert book.get("a") is a
    book.put("c", c)  # "b" was used least recently
    assert book.get("a") is a and book.get("c") is c
    with pytest.raises(Refusal):
        book.get("b")


def test_the_family_choice_is_named_in_both_languages(tiny):
    gan, _ = tiny
    family = quiz.quiz_params([gan])[1]
    assert family.choices == ("image/gan",) and family.default == "image/gan"
    assert family.choice_names["ko"]["image/gan"] == i18n.text("family:GAN", "ko")
    assert family.translations["ko"][0] == "만든 모델"
