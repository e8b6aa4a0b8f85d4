"""Exercises of notebook 03_shapley_axioms: values by hand, dividends, and which axiom a scheme breaks."""
from __future__ import annotations

from math import factorial

import numpy as np
import sympy as sp

from ..axioms import AXIOMS, EFFICIENCY, LINEARITY, NULL_PLAYER, SYMMETRY
from ..coalitions import table_players
from ..game_builders import weighted_voting_game
from ..games import Game
from ..schemes import SCHEMES, violated_axioms
from ..shapley import dividends_from_table, harsanyi_dividends, semivalue_from_table, shapley_weights
from .checker.comparing import compare_choices, compare_vector
from .checker.reading import fold, read_sympy
from .checker.verdicts import INCORRECT, INVALID, InvalidAnswer, Verdict, type_name
from .core import Exercise, array_function_exercise, register
from .feedback import register_shapley_values_exercise

__all__ = ["NOTEBOOK", "VOTING_WEIGHTS", "VOTING_QUOTA", "VOTING_PLAYERS", "voting_game", "coalition_label"]

NOTEBOOK = "03_shapley_axioms"
VOTING_WEIGHTS, VOTING_QUOTA, VOTING_PLAYERS = (3, 2, 1), 4, ["A", "B", "C"]


def voting_game() -> Game:
    """Three parties with 3, 2 and 1 votes; a coalition wins with 4 votes (used by nb03.2 and nb03.5)."""
    return weighted_voting_game(VOTING_WEIGHTS, VOTING_QUOTA, VOTING_PLAYERS)


# nb03.2 -------------------------------------------------------------------------------------
register_shapley_values_exercise(
    "nb03.2", "Shapley values of a weighted voting game", NOTEBOOK, voting_game,
    wrong_answers=lambda: [
        ([sp.Rational(1, 2), sp.Rational(1, 3), sp.Rational(1, 6)], "symmetry axiom fails"),  # ∝ votes
        ([sp.Rational(1, 3)] * 3, "Not right yet for"),
        ([1, 1, 0], "efficiency axiom fails"),
        ([0.6667, 0.1667, 0.1667], "exact values"),
        ([2 / 3, 1 / 6, 1 / 6], "your values are right"),
    ],
)


# nb03.5 -------------------------------------------------------------------------------------
def coalition_label(members, players) -> str:
    """``("B", "A") -> "AB"``: members in the players' order (the empty coalition is "").

    Parameters
    ----------
    members : iterable of str
        Player names.
    players : sequence of str
        All players, in order.

    Returns
    -------
    str
    """
    return "".join(p for p in players if p in set(members))


def _read_dividends(answer, players) -> dict[str, object]:
    """A reader's dividends ``{coalition: c_T}``; keys are tuples/sets of names or strings like "AB" (case folded)."""
    if type(answer) is not dict:
        raise InvalidAnswer(f"your answer should be a dict {{coalition: dividend}}, e.g. {{('A', 'B'): 1, ...}}; "
                            f"got {type_name(answer)}.")
    by_fold = {fold(p): p for p in players}
    out = {}
    for key, value in answer.items():
        if type(key) is str:
            members = list("".join(key.replace(",", " ").split()))      # the players are single letters
        elif type(key) in (tuple, list, frozenset, set) and all(type(m) is str for m in key):
            members = list(key)
        else:
            raise InvalidAnswer(f"a key of type {type_name(key)} is not a coalition: use tuples of names like "
                                "('A', 'B') or strings like 'AB'.")
        if not members:
            raise InvalidAnswer("the key for the empty coalition ∅ has no dividend to give: dividends are defined "
                                "for non-empty coalitions (c_∅ = U(∅) = 0 here).")
        if any(fold(m) not in by_fold for m in members):
            raise InvalidAnswer(f"a key is not a coalition of the players {players}.")
        label = coalition_label([by_fold[fold(m)] for m in members], players)
        if label in out:
            raise InvalidAnswer(f"the coalition {_braces(label)} has two keys.")
        out[label] = value
    return out


def _braces(label: str) -> str:
    return "{" + ", ".join(label) + "}" if label else "∅"


def _voting_dividends() -> dict[str, sp.Expr]:
    c = harsanyi_dividends(voting_game(), exact=True)
    return {coalition_label([p for i, p in enumerate(VOTING_PLAYERS) if code >> i & 1], VOTING_PLAYERS): c[code]
            for code in range(1, len(c))}


def _verify_dividends(answer, expected) -> Verdict:
    players = VOTING_PLAYERS
    try:
        given = _read_dividends(answer, players)
    except InvalidAnswer as err:
        return Verdict(INVALID, str(err))
    missing = [_braces(label) for label in expected if label not in given]
    if missing:
        return Verdict(INVALID, f"give a dividend for every non-empty coalition (use 0 where it vanishes); "
                                f"missing: {', '.join(missing)}.")
    labels = list(expected)
    verdict = compare_vector([given[k] for k in labels], list(expected.values()), labels=[_braces(k) for k in labels])
    if verdict.status != INCORRECT:
        return verdict
    # Teach with the definition: which utilities do the reader's dividends fail to rebuild? (exact values here)
    values = voting_game().values()
    broken = []
    for code in range(1, 2 ** len(players)):
        S = coalition_label([p for i, p in enumerate(players) if code >> i & 1], players)
        rebuilt = sum(read_sympy(given[T]) for T in labels if set(T) <= set(S))
        if rebuilt != values[code]:
            broken.append(_braces(S))
    lead = f"Summing your dividends over T ⊆ S does not give U(S) for S = {'; '.join(broken)}. " if broken else ""
    return Verdict(INCORRECT, lead + verdict.message)


register(Exercise(
    id="nb03.5",
    title="Harsanyi dividends of the voting game",
    expects="a dict {coalition: c_T} over the 7 non-empty coalitions, keys like ('A', 'B') or 'AB', exact values.",
    notebook=NOTEBOOK,
    verify=_verify_dividends,
    reference=lambda: {tuple(k): v for k, v in _voting_dividends().items()},
    expected=_voting_dividends,
    wrong_answers=lambda: [
        ({("A",): 0, ("B",): 0, ("C",): 0, ("A", "B"): 1, ("A", "C"): 1, ("B", "C"): 0, ("A", "B", "C"): 1},
         "does not give U(S) for S = {A, B, C}"),
        ({"A": 0, "B": 0, "C": 0, "AB": 1, "AC": 1, "BC": 0}, "missing: {A, B, C}"),
        ([0, 0, 0, 1, 1, 0, -1], "should be a dict"),
        ({1: 0}, "is not a coalition"),
    ],
))


# nb03.3 -------------------------------------------------------------------------------------

_WHY_HOLDS = {
    EFFICIENCY: "its payments add up to U([N]) − U(∅) in every game",
    SYMMETRY: "it pays symmetric players equally in every game",
    NULL_PLAYER: "it pays a null player nothing in every game",
    LINEARITY: "its payments for U1 + U2 are the sums of the payments for U1 and for U2",
}


def _expected_violations() -> dict[str, set]:
    return {name: violated_axioms(scheme) for name, scheme in SCHEMES.items()}


def _explain(scheme: str, axiom: str, wrongly_named: bool) -> str:
    if wrongly_named:
        return f"{scheme} does not break {axiom}: {_WHY_HOLDS[axiom]}."
    return f"{scheme} breaks an axiom you did not name."


register(Exercise(
    id="nb03.3",
    title="Which axioms does each alternative scheme break?",
    expects=("a dict {scheme: set of axiom names} for the schemes " + ", ".join(repr(s) for s in SCHEMES)
             + "; axiom names from " + ", ".join(repr(a) for a in AXIOMS) + " (set() for none)."),
    notebook=NOTEBOOK,
    verify=lambda answer, expected: compare_choices(answer, expected, AXIOMS, explain=_explain),
    reference=_expected_violations,
    expected=_expected_violations,
    wrong_answers=lambda: [
        ({**_expected_violations(), "individual worth": {EFFICIENCY, SYMMETRY}},
         "individual worth does not break symmetry"),
        ({**_expected_violations(), "equal split": set()}, "equal split breaks an axiom you did not name"),
        ({**_expected_violations(), "leave one out": {"fairness"}}, "is not one of"),
        ({"equal split": {NULL_PLAYER}}, "has no entry for"),
        ({**_expected_violations(), "leave one out": 3}, "should be a name or a set of names"),
    ],
))


# nb03.1 and nb03.4: eq. (10.12) and the Möbius transform, as functions ---------------------
def _draw_table(rng: np.random.Generator, most: int = 4) -> tuple:
    """A table of N = 1 … ``most`` players (half the draws from the upper half of that range), small integers."""
    n = int(rng.integers(1, most // 2 + 1) if rng.random() < 0.5 else rng.integers(most // 2 + 1, most + 1))
    return (rng.integers(-9, 10, size=2**n).astype(np.float64),)     # small integers: easy to read


def _draw_shapley_table(rng: np.random.Generator) -> tuple:
    # Up to the 8 players of the notebook's data game: N! overflows an int8 from N = 6, an int16 at N = 8.
    return _draw_table(rng, most=8)


def _exact_shapley_reference(values):
    return semivalue_from_table(values, shapley_weights(table_players(values)))


def _semivalue_by_subsets(weight):
    """A loop over players and subsets with a given weight w(N, |S|): the reference and plausible bugs."""
    def shapley_values(values):
        n = table_players(values)
        s = np.zeros(n)
        for i in range(n):
            for S in range(2**n):
                if not S >> i & 1:
                    s[i] += weight(n, bin(S).count("1")) * (values[S | 1 << i] - values[S])
        return s
    return shapley_values


def _moebius_by_subsets(sign):
    """c_T = Σ_{S ⊆ T} sign(|T|, |S|) U(S), by a loop over subsets: the reference and plausible bugs."""
    def dividends(values):
        n = table_players(values)
        c = np.zeros(2**n)
        for T in range(2**n):
            S = T
            while True:                                  # every subset S of T, T itself first, ∅ last
                c[T] += sign(bin(T).count("1"), bin(S).count("1")) * values[S]
                if S == 0:
                    break
                S = (S - 1) & T
        return c
    return dividends


array_function_exercise(
    id="nb03.1", title="Exact Shapley values by enumeration of eq. (10.12)", notebook=NOTEBOOK,
    expects="a function shapley_values(values) taking a float (2**N,) coalition table (values[code] = U(S), "
            "code = Σ_{i∈S} 2^i) and returning an (N,) NumPy array: eq. (10.12), "
            "s_i = Σ_{S ∌ i} |S|! (N−|S|−1)!/N! · (U(S ∪ {i}) − U(S)). The check uses tables of 1 to 8 players.",
    draw_input=_draw_shapley_table,
    reference=lambda: _semivalue_by_subsets(lambda n, k: factorial(k) * factorial(n - k - 1) / factorial(n)),
    expected=lambda: _exact_shapley_reference,
    wrong_answers=lambda: [
        (_semivalue_by_subsets(lambda n, k: factorial(k) * factorial(n - k) / factorial(n)), "is wrong on input"),
        (_semivalue_by_subsets(lambda n, k: 2.0 ** (1 - n)), "is wrong on input"),          # Banzhaf
        (_semivalue_by_subsets(lambda n, k: 1 / n), "is wrong on input"),                    # no weight by size
        (lambda values: [sum(values)], "is wrong on input"),                           # wrong shape
    ],
)

array_function_exercise(
    id="nb03.4", title="Harsanyi dividends by Möbius inversion", notebook=NOTEBOOK,
    expects="a function dividends(values) taking a float (2**N,) coalition table and returning the (2**N,) NumPy "
            "array c with c[T] = Σ_{S ⊆ T} (−1)^{|T|−|S|} U(S) (so c[0] = U(∅)).",
    draw_input=_draw_table,
    reference=lambda: _moebius_by_subsets(lambda t, s: (-1) ** (t - s)),
    expected=lambda: dividends_from_table,
    wrong_answers=lambda: [
        (_moebius_by_subsets(lambda t, s: 1), "is wrong on input"),                          # the zeta transform
        (_moebius_by_subsets(lambda t, s: (-1) ** s), "is wrong on input"),                  # sign of |S| only
        (lambda values: dividends_from_table(values)[1:], "is wrong on input"),              # ∅ dropped
    ],
)
