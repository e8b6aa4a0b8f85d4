"""Comparing: the verifiers of object answers (a number, a vector, names, choices, an expression).

Each ``compare_*`` reads its answer's plain copy (:func:`~creditlib.exercises.checker.plain_copy.plain_copy`,
applied by the decorator ``_reads_a_plain_copy``, so nothing it does runs code of the reader's objects), reads
the copy in the form it asks for (:mod:`~creditlib.exercises.checker.reading`), decides
(:mod:`~creditlib.exercises.checker.deciding`) and returns a
:class:`~creditlib.exercises.checker.verdicts.Verdict` whose message says what kind of mistake was made
without giving the answer away. The exercises (:mod:`creditlib.exercises.core`) are built from these.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Mapping, Sequence

import sympy as sp

from .deciding import (EXACT_HINT, ROUNDED, UNSURE, WRONG, decide, float_example, float_policy, float_status,
                       rounded_note, value_at)
from .plain_copy import is_one_of, plain_copy
from .reading import fold, read_expression, read_list, read_number, read_sympy
from .verdicts import (CORRECT, INCORRECT, INVALID, UNDECIDED, InvalidAnswer, NotAttemptedAnswer, Verdict,
                       not_attempted, shorten, show_value, type_name, unreadable_verdict)

__all__ = ["compare_number", "compare_vector", "compare_names", "compare_choices", "compare_expression"]

# ---------------------------------------------------------------------------- reading the answer, in every comparison
def _reads_a_plain_copy(compare: Callable[..., Verdict]) -> Callable[..., Verdict]:
    """Make ``compare(answer, ...)`` read :func:`~creditlib.exercises.checker.plain_copy.plain_copy` ``(answer)``
    (an answer that cannot be copied is ``invalid``), so that nothing it does runs code of the reader's objects."""
    @functools.wraps(compare)
    def reading_a_copy(answer: Any, *args: Any, **kwargs: Any) -> Verdict:
        try:
            answer = plain_copy(answer)
        except InvalidAnswer as err:
            return Verdict(INVALID, str(err))
        return compare(answer, *args, **kwargs)
    return reading_a_copy


def _reading(read: Callable[[], Any], what: str) -> Any:
    """Run one step that reads an answer; a stub, an unreadable answer or garbage comes back as its Verdict."""
    try:
        return read()
    except NotAttemptedAnswer:
        return not_attempted()
    except InvalidAnswer as err:
        return Verdict(INVALID, str(err))
    except Exception as err:
        return unreadable_verdict(what, err)


# ---------------------------------------------------------------------------- comparing numbers
@_reads_a_plain_copy
def compare_number(answer: Any, expected: Any, *, tol: float | None = None, what: str = "your answer") -> Verdict:
    """Compare one number with an exact expected value.

    ``tol=None`` asks for an exact answer: ints, fractions and sympy numbers or
    constant expressions equal to the expected value pass; floats are
    ``invalid`` (the message says whether they are numerically right). With
    ``tol``, numbers within ``tol·max(1, |expected|)`` pass.

    Parameters
    ----------
    answer : object
        The reader's number.
    expected : number or sympy.Expr
        The exact value.
    tol : float, optional
        Relative tolerance; ``None`` asks for an exact value.
    what : str
        How the message names the answer (e.g. ``"your answer"``).

    Returns
    -------
    Verdict
        ``correct`` for the exact value (or one within ``tol``); floats without ``tol`` are ``invalid``.
    """
    a = _reading(lambda: read_number(answer, what), what)
    if type(a) is Verdict:
        return a
    e = read_sympy(expected, "the expected value")
    if tol is not None:
        a_val = value_at(a, {})
        if a_val is None:
            return Verdict(INVALID, f"{what} ({show_value(a)}) does not evaluate to a real number.")
        if abs(float(a_val) - float(e)) <= tol * max(1.0, abs(float(e))):
            return Verdict(CORRECT, f"Correct (within the tolerance {tol:g}).")
        return Verdict(INCORRECT, f"{what} ({float(a_val):.6g}) is off by more than the tolerance {tol:g}.")
    if a.has(sp.Float):
        return float_policy(a, e, what=what)
    verdict = decide(a, e, what=what)
    if verdict.status == INCORRECT:
        return Verdict(INCORRECT, f"{what} ({show_value(a)}) is not right.")
    return Verdict(verdict.status, "Correct." if verdict.passed else verdict.message)


# ---------------------------------------------------------------------------- comparing vectors
@_reads_a_plain_copy
def compare_vector(answer: Any, expected: Sequence, *, labels: Sequence[str] | None = None,
                   tol: float | None = None, diagnose: Callable[[list], list[str]] | None = None,
                   one_hint: bool = False, what: str = "your answer") -> Verdict:
    """Compare a vector of numbers entry by entry (exactly, or within ``tol``).

    ``diagnose(values) -> [hints]`` runs on the reader's values (plain sympy
    numbers) and explains structural problems, e.g. an axiom that fails. The
    message names the entries that are wrong (per-entry feedback, on purpose),
    never their right values. With ``one_hint`` a hint from ``diagnose`` replaces
    the names of the wrong entries: for Shapley values the two together hand over
    the answer (the right entries, then an axiom for the rest). Floats where
    ``tol`` is None are ``invalid``; the message names the entries that are wrong
    even allowing for the rounding of the digits given, or says that the values
    agree to those digits (:func:`~creditlib.exercises.checker.deciding.float_status`), and suggests a fraction only
    when it is the right one.

    Parameters
    ----------
    answer : object
        The reader's vector (see :func:`~creditlib.exercises.checker.reading.read_list`).
    expected : sequence
        The exact values.
    labels : sequence of str, optional
        Entry names used in messages and as dict keys.
    tol : float, optional
        Relative tolerance; ``None`` asks for exact values.
    diagnose : callable, optional
        ``diagnose(values) -> [hints]``.
    one_hint : bool, default=False
        Give a hint from ``diagnose`` instead of naming the wrong entries, never both (floats: no hint).
    what : str
        How messages name the vector (e.g. ``"your answer"``); entries are named by ``labels``.

    Returns
    -------
    Verdict
        ``correct`` when every entry is; otherwise the message names the wrong entries, not their values.
    """
    names = list(labels) if labels is not None else [str(i) for i in range(len(expected))]
    values = _reading(lambda: [read_number(v, f"the entry for {n}")
                               for v, n in zip(read_list(answer, len(expected), labels, what), names)], what)
    if type(values) is Verdict:
        return values
    expected = [read_sympy(e, "the expected value") for e in expected]
    hints = list(diagnose(values)) if diagnose is not None else []
    if tol is None and any(v.has(sp.Float) for v in values):
        status = [float_status(v, e) for v, e in zip(values, expected)]
        wrong = [n for n, s in zip(names, status) if s == WRONG]
        unsure = [n for n, s in zip(names, status) if s == UNSURE]
        rounded = [f for v, s in zip(values, status) if s == ROUNDED for f in sorted(v.atoms(sp.Float), key=float)]
        lead = f"This exercise asks for exact values ({EXACT_HINT}), and floats are not exact."
        if wrong and one_hint and hints:
            return Verdict(INVALID, f"{lead} {hints[0]} The checker names the wrong entries once no such hint "
                                    "applies.")
        if wrong:
            judged = (f"Even allowing for the rounding of the digits you gave, your values are not right yet for: "
                      f"{', '.join(wrong)}.")
            return Verdict(INVALID, " ".join(hints + [lead, judged]))
        if unsure:
            return Verdict(INVALID, f"{lead} The checker cannot tell whether your values for {', '.join(unsure)} "
                                    "are right: give them exactly.")
        if rounded:
            return Verdict(INVALID, f"{lead} Your values agree with the right ones to the digits you gave, but "
                                    f"{rounded_note(rounded)}.")
        example = float_example(next(v for v in values if v.has(sp.Float)))
        return Verdict(INVALID, f"{lead} Read as the fractions they stand for, your values are right: write e.g. "
                                f"{example}.")
    verdicts = [compare_number(v, e, tol=tol, what=f"the entry for {n}") for v, e, n in zip(values, expected, names)]
    wrong = [n for n, v in zip(names, verdicts) if v.status == INCORRECT]
    unsure = [n for n, v in zip(names, verdicts) if v.status == UNDECIDED]
    if not wrong and not unsure:
        return Verdict(CORRECT, "Correct: every entry is right.")
    if wrong and one_hint and hints:
        return Verdict(INCORRECT, f"{hints[0]} The checker names the wrong entries once no such hint applies.")
    if wrong:
        return Verdict(INCORRECT, " ".join(hints + [f"Not right yet for: {', '.join(wrong)}."]))
    return Verdict(UNDECIDED, f"The checker could not decide the entries for {', '.join(unsure)}; give them as "
                              "exact fractions.")


# ---------------------------------------------------------------------------- comparing names
def _read_names(value: Any, vocabulary: Sequence[str], what: str, single: bool = False) -> set[str]:
    """A set of names from ``vocabulary`` (a single name counts as a set of one; with one-letter names,
    'BC' stands for {'B', 'C'}); never evaluated."""
    folded = {fold(v): v for v in vocabulary}
    letters = all(len(v) == 1 for v in vocabulary)

    def name(x: Any) -> str:
        if type(x) is not str:
            raise InvalidAnswer(f"{what} contains a {type_name(x)} where a name such as {vocabulary[0]!r} was "
                                "expected.")
        if fold(x) not in folded:
            raise InvalidAnswer(f"{shorten(repr(x), 40)} is not one of the names {list(vocabulary)}.")
        return folded[fold(x)]

    if type(value) is str and "," in value:
        names = ", ".join(repr(folded.get(fold(part), part.strip())) for part in value.split(","))
        raise InvalidAnswer(f"{what} is one string with commas in it; give a set of names such as "
                            f"{{{shorten(names, 60)}}}.")
    if type(value) is str:
        if letters and not single and fold(value) not in folded and len(fold(value).replace(" ", "")) > 1:
            return {name(c) for c in fold(value).replace(" ", "")}
        return {name(value)}
    if not is_one_of(type(value), (set, frozenset, list, tuple)):
        asked = "one name" if single else "a name or a set of names"
        raise InvalidAnswer(f"{what} should be {asked} from {list(vocabulary)}, e.g. {vocabulary[0]!r}; "
                            f"got {type_name(value)}.")
    return {name(x) for x in value}


@_reads_a_plain_copy
def compare_names(answer: Any, expected: set, vocabulary: Sequence[str], *, pairs: bool = False,
                  single: bool = False, explain: Callable[[set], list[str]] | None = None,
                  what: str = "your answer") -> Verdict:
    """Compare a set of names (a single name is a set of one, everywhere), or with ``pairs=True`` a set of
    unordered pairs of different names, with the expected set. With ``single=True`` exactly one name is asked.

    Names match ``vocabulary`` with case, spaces, '_' and '-' folded; they are never evaluated.
    The message says what kind of mistake was made (a name too many, one missing) and
    adds at most one of ``explain(given)``'s hints, so that it never lists the answer.

    Parameters
    ----------
    answer : object
        A name, or a set/list of names (pairs with ``pairs=True``).
    expected : set
        The expected names (or frozensets of two names).
    vocabulary : sequence of str
        Every name the exercise knows.
    pairs : bool, default=False
        Compare unordered pairs of names.
    single : bool, default=False
        Exactly one name is asked.
    explain : callable, optional
        ``explain(given) -> [hints]``.
    what : str
        How messages name the set of names.

    Returns
    -------
    Verdict
        ``correct`` for the expected set; otherwise the kind of mistake (a name too many, one missing).
    """
    def read() -> set:
        if answer is Ellipsis:
            raise NotAttemptedAnswer()
        if pairs:
            items = [answer] if type(answer) is tuple and len(answer) == 2 and type(answer[0]) is str else answer
            if not is_one_of(type(items), (set, frozenset, list, tuple)):
                raise InvalidAnswer(f"{what} should be a set of pairs such as "
                                    f"{{({vocabulary[0]!r}, {vocabulary[1]!r})}}; got {type_name(answer)}.")
            given = set()
            for item in items:
                if not is_one_of(type(item), (set, frozenset, list, tuple)) or len(item) != 2:
                    raise InvalidAnswer(f"{what} contains an item that is not a pair: give pairs like "
                                        f"({vocabulary[0]!r}, {vocabulary[1]!r}).")
                pair = frozenset(_read_names(list(item), vocabulary, what))
                if len(pair) != 2:
                    raise InvalidAnswer(f"{what} pairs a name with itself; a pair has two different names.")
                given.add(pair)
        else:
            given = _read_names(answer, vocabulary, what, single)
            if single and len(given) != 1:
                raise InvalidAnswer(f"{what} should be one name from {list(vocabulary)}; it has {len(given)}.")
        return given

    given = _reading(read, what)
    if type(given) is Verdict:
        return given
    target = {frozenset(e) for e in expected} if pairs else set(expected)
    if given == target:
        return Verdict(CORRECT, "Correct.")
    item = "pair" if pairs else "name"
    hints = sorted(h for h in (explain(given) if explain is not None else []) if h)[:1]
    if not single:
        if given - target:
            hints.append(f"Your answer includes a {item} that does not belong.")
        if target - given:
            hints.append(f"Your answer misses a {item}.")
    return Verdict(INCORRECT, " ".join(hints + ["Not right yet."]))


@_reads_a_plain_copy
def compare_choices(answer: Any, expected: Mapping[str, set], vocabulary: Sequence[str], *,
                    explain: Callable[[str, str, bool], str] | None = None,
                    what: str = "your answer") -> Verdict:
    """Compare a dict ``{item: set of labels}`` with the expected sets, labels from a fixed vocabulary.

    Items and labels are matched with case, spaces, '_' and '-' folded; a single label counts
    as a set of one. The message names the items that are not right (per-entry feedback) and
    adds at most one hint ``explain(item, label, wrongly_named)``.

    Parameters
    ----------
    answer : object
        The reader's dict ``{item: set of labels}``.
    expected : mapping
        ``{item: set of labels}``.
    vocabulary : sequence of str
        Every label the exercise knows.
    explain : callable, optional
        ``explain(item, label, wrongly_named) -> hint``.
    what : str
        How the message names the answer (e.g. ``"your answer"``).

    Returns
    -------
    Verdict
        ``correct`` when every item is; otherwise the items that are not right.
    """
    if answer is Ellipsis:
        return not_attempted()
    if type(answer) is not dict:
        return Verdict(INVALID, f"{what} should be a dict {{item: set of names}}; got {type_name(answer)}.")
    items = {fold(k): k for k in expected}
    given: dict[str, set] = {}
    try:
        for key, labels in dict.items(answer):
            if type(key) is not str or fold(key) not in items:
                raise InvalidAnswer(f"{what} has a key that is not one of {list(expected)}.")
            if items[fold(key)] in given:
                raise InvalidAnswer(f"{what} has two keys for {items[fold(key)]!r}.")
            given[items[fold(key)]] = _read_names(labels, vocabulary, f"the entry for {items[fold(key)]!r}")
    except InvalidAnswer as err:
        return Verdict(INVALID, f"{err} (Use set() for none.)")
    except Exception as err:
        return unreadable_verdict(what, err)
    missing = [k for k in expected if k not in given]
    if missing:
        return Verdict(INVALID, f"{what} has no entry for {missing}; give one for each of {list(expected)}.")
    wrong = [k for k in expected if given[k] != set(expected[k])]
    if not wrong:
        return Verdict(CORRECT, "Correct for every item.")
    hints = []
    if explain is not None:
        k = wrong[0]
        extra, lacking = sorted(given[k] - set(expected[k])), sorted(set(expected[k]) - given[k])
        hints = [explain(k, extra[0], True) if extra else explain(k, lacking[0], False)]
    return Verdict(INCORRECT, " ".join([h for h in hints if h] + [f"Not right yet for: {', '.join(wrong)}."]))


# ---------------------------------------------------------------------------- comparing expressions
@_reads_a_plain_copy
def compare_expression(answer: Any, expected: sp.Expr, symbols: Sequence[sp.Symbol], *,
                       domain: Mapping[str, tuple] | None = None, seed: int = 0,
                       what: str = "your expression") -> Verdict:
    """Compare a symbolic expression with the expected one (see :func:`~creditlib.exercises.checker.deciding.decide`).

    Symbols are matched by *name*, so a reader's ``sp.Symbol('rho')`` matches the
    exercise's ``sp.Symbol('rho', positive=True)`` and takes its assumptions.
    Integrals, sums and products are evaluated first; a 1×1 matrix counts as its entry.
    Floats are ``invalid`` (the message says whether the exact form would be right).

    Parameters
    ----------
    answer : object
        The reader's expression.
    expected : sympy.Expr
        The expected expression.
    symbols : sequence of sympy.Symbol
        The exercise's symbols (from :mod:`creditlib.exercises.symbols`).
    domain : mapping, optional
        ``name → (low, high)`` bounds of the points tried (see :func:`~creditlib.exercises.checker.deciding.decide`).
    seed : int, default=0
        Seed of the random points.
    what : str
        How the message names the answer (e.g. ``"your answer"``).

    Returns
    -------
    Verdict
        ``correct`` only with a proof of equality (see :func:`~creditlib.exercises.checker.deciding.decide`);
        floats are ``invalid``.
    """
    a = _reading(lambda: read_expression(answer, symbols, what), what)
    if type(a) is Verdict:
        return a
    if a.has(sp.Float):
        return float_policy(a, expected, symbols, domain, what)
    return decide(a, expected, symbols, domain=domain, seed=seed, what=what)
