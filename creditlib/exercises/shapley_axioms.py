"""Exercises of notebook 03_shapley_axioms: values by hand, dividends, and which axiom a scheme breaks."""
from __future__ import annotations

import sympy as sp

from ..axioms import AXIOMS, EFFICIENCY, LINEARITY, NULL_PLAYER, SYMMETRY
from ..checking import INVALID, Verdict, _Invalid, compare_choices, compare_vector, to_sympy
from ..games import Game, weighted_voting_game
from ..schemes import SCHEMES, violated_axioms
from ..shapley import harsanyi_dividends
from .core import Exercise, register
from .feedback import register_shapley_values_exercise

NOTEBOOK = "03_shapley_axioms"
VOTING_WEIGHTS, VOTING_QUOTA, VOTING_PLAYERS = (3, 2, 1), 4, ["A", "B", "C"]


def voting_game() -> Game:
    """Three parties with 3, 2 and 1 votes; a coalition wins with 4 votes (used by nb03.1 and nb03.2)."""
    return weighted_voting_game(VOTING_WEIGHTS, VOTING_QUOTA, VOTING_PLAYERS)


# nb03.1 -------------------------------------------------------------------------------------
register_shapley_values_exercise(
    "nb03.1", "Shapley values of a weighted voting game", NOTEBOOK, voting_game,
    wrong_answers=lambda: [
        ([sp.Rational(1, 2), sp.Rational(1, 3), sp.Rational(1, 6)], "symmetry axiom fails"),  # ∝ votes
        ([sp.Rational(1, 3)] * 3, "Not right yet for"),
        ([1, 1, 0], "efficiency axiom fails"),
        ([0.6667, 0.1667, 0.1667], "exact values"),
    ],
)


# nb03.2 -------------------------------------------------------------------------------------
def coalition_label(members, players) -> str:
    """``("B", "A") -> "AB"``: members in the players' order (the empty coalition is "")."""
    return "".join(p for p in players if p in set(members))


def _read_dividends(answer, players) -> dict[str, sp.Expr]:
    """A reader's dividends ``{coalition: c_T}``; keys may be tuples, sets or strings like "AB"."""
    if not isinstance(answer, dict):
        raise _Invalid(f"your answer should be a dict {{coalition: dividend}}, e.g. {{('A', 'B'): 1, ...}}; "
                       f"got {type(answer).__name__}.")
    out = {}
    for key, value in answer.items():
        members = tuple(key)                                 # "AB" and ("A", "B") alike
        unknown = [m for m in members if m not in players]
        if unknown or not members:
            raise _Invalid(f"the key {key!r} is not a non-empty coalition of {players}.")
        out[coalition_label(members, players)] = to_sympy(value, f"the dividend of {key!r}")
    return out


def _voting_dividends() -> dict[str, sp.Expr]:
    c = harsanyi_dividends(voting_game(), exact=True)
    return {coalition_label([p for i, p in enumerate(VOTING_PLAYERS) if code >> i & 1], VOTING_PLAYERS): c[code]
            for code in range(1, len(c))}


def _verify_dividends(answer) -> Verdict:
    players, expected = VOTING_PLAYERS, _voting_dividends()
    try:
        given = _read_dividends(answer, players)
    except _Invalid as err:
        return Verdict(INVALID, str(err))
    missing = [label for label in expected if label not in given]
    if missing:
        return Verdict(INVALID, f"give a dividend for every non-empty coalition (use 0 where it vanishes); "
                                f"missing: {missing}.")
    # Teach with the definition: which utilities do the reader's dividends fail to rebuild?
    game = voting_game()
    values = game.values()
    broken = []
    for code in range(1, 2 ** len(players)):
        S = coalition_label([p for i, p in enumerate(players) if code >> i & 1], players)
        rebuilt = sum(given[T] for T in expected if set(T) <= set(S))
        if sp.nsimplify(rebuilt - values[code]) != 0:
            broken.append("{" + ", ".join(S) + "}")
    verdict = compare_vector([given[k] for k in expected], list(expected.values()), labels=list(expected))
    if verdict.passed or verdict.status == INVALID:
        return verdict
    return Verdict(verdict.status, f"Summing your dividends over T ⊆ S does not give U(S) for S = {', '.join(broken)}. "
                                   + verdict.message)


register(Exercise(
    id="nb03.2",
    title="Harsanyi dividends of the voting game",
    expects="a dict {coalition: c_T} over the 7 non-empty coalitions, keys like ('A', 'B') or 'AB', exact values.",
    notebook=NOTEBOOK,
    verify=_verify_dividends,
    reference=lambda: {tuple(k): v for k, v in _voting_dividends().items()},
    wrong_answers=lambda: [
        ({("A",): 0, ("B",): 0, ("C",): 0, ("A", "B"): 1, ("A", "C"): 1, ("B", "C"): 0, ("A", "B", "C"): 1},
         "does not give U(S) for S = {A, B, C}"),
        ({"A": 0, "B": 0, "C": 0, "AB": 1, "AC": 1, "BC": 0}, "missing: ['ABC']"),
        ([0, 0, 0, 1, 1, 0, -1], "should be a dict"),
    ],
))


# nb03.3 -------------------------------------------------------------------------------------
SCHEMES_ASKED = SCHEMES

_WHY_HOLDS = {
    EFFICIENCY: "its payments add up to U([N]) − U(∅) in every game",
    SYMMETRY: "it pays symmetric players equally in every game",
    NULL_PLAYER: "it pays a null player nothing in every game",
    LINEARITY: "its payments for U1 + U2 are the sums of the payments for U1 and for U2",
}


def _expected_violations() -> dict[str, set]:
    return {name: violated_axioms(scheme) for name, scheme in SCHEMES_ASKED.items()}


def _explain(scheme: str, axiom: str, wrongly_named: bool) -> str:
    if wrongly_named:
        return f"{scheme} does not break {axiom}: {_WHY_HOLDS[axiom]}."
    return f"{scheme} breaks an axiom you did not name."


register(Exercise(
    id="nb03.3",
    title="Which axioms does each alternative scheme break?",
    expects=("a dict {scheme: set of axiom names} for the schemes " + ", ".join(repr(s) for s in SCHEMES_ASKED)
             + "; axiom names from " + ", ".join(repr(a) for a in AXIOMS) + " (set() for none)."),
    notebook=NOTEBOOK,
    verify=lambda answer: compare_choices(answer, _expected_violations(), AXIOMS, explain=_explain),
    reference=_expected_violations,
    wrong_answers=lambda: [
        ({**_expected_violations(), "individual worth": {EFFICIENCY, SYMMETRY}},
         "individual worth does not break symmetry"),
        ({**_expected_violations(), "equal split": set()}, "equal split breaks an axiom you did not name"),
        ({**_expected_violations(), "leave one out": {"fairness"}}, "is not one of"),
        ({"equal split": {NULL_PLAYER}}, "has no entry for"),
        ({**_expected_violations(), "leave one out": "efficiency"}, "should be a set of names"),
    ],
))
