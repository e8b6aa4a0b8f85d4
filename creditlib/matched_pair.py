"""The matched pair of Section 10.5.1: two critical points whose value depends on each other.

Two-dimensional data whose true boundary is the line ``y = x``: "easy" points
at least ``gap`` away from it (measured along ``y − x``), and two critical
points next to it, ``d_A = (1, 1.1)`` above the line (class 1) and
``d_B = (1.1, 1)`` below (class 0). A linear SVM is trained on a coalition of
points; ``U(S)`` is its accuracy on a held-out test set spread uniformly over
the square, so that misplacing the boundary costs accuracy.

Why a linear SVM (as in the chapter): its boundary depends only on the support
vectors, the points closest to it, so two points next to the true line can
*pin* it. Logistic regression weighs every point and shows the effect only
weakly; a soft margin (small ``C``) weakens it too (notebook 07 measures both).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from .games import Game
from .validation import check_int, check_positive, check_random_state

__all__ = ["D_A", "D_B", "MatchedPairData", "matched_pair_data", "fit_linear_svm", "svm_accuracy", "matched_pair_game",
           "pair_utilities"]

D_A = np.array([1.0, 1.1])
D_B = np.array([1.1, 1.0])


@dataclass(frozen=True)
class MatchedPairData:
    """Easy points, the two critical points and a test set (class 1 above ``y = x``), Section 10.5.1.

    Attributes
    ----------
    X_easy : ndarray of float64, shape (n_easy, 2)
        The easy training points, at least ``gap`` from the line.
    y_easy : ndarray of int, shape (n_easy,)
        Their labels (1 above the line, 0 below).
    X_test : ndarray of float64, shape (n_test, 2)
        Test points, uniform in the square.
    y_test : ndarray of int, shape (n_test,)
        Their labels by the true boundary (1 iff ``y > x``).
    d_A, d_B : ndarray of float64, shape (2,)
        The critical points ``(1, 1.1)`` (class 1) and ``(1.1, 1)`` (class 0).
    X : ndarray, shape (n_easy + 2, 2)
        All training points (property), easy ones first.
    y : ndarray, shape (n_easy + 2,)
        Their labels (property).
    players : list of str
        Player names (property): ``e0, e1, ..., d_A, d_B``.
    """

    X_easy: np.ndarray
    y_easy: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    d_A: np.ndarray = field(default_factory=D_A.copy)
    d_B: np.ndarray = field(default_factory=D_B.copy)

    @property
    def X(self) -> np.ndarray:
        """All training points, easy ones first, then ``d_A`` and ``d_B``."""
        return np.vstack([self.X_easy, self.d_A, self.d_B])

    @property
    def y(self) -> np.ndarray:
        """All training labels: ``y_easy``, then 1 for ``d_A`` and 0 for ``d_B``."""
        return np.concatenate([self.y_easy, [1, 0]])

    @property
    def players(self) -> list[str]:
        """Player names in the order of :attr:`X`: ``e0, e1, ...`` for the easy points, then ``d_A, d_B``."""
        return [f"e{i}" for i in range(len(self.y_easy))] + ["d_A", "d_B"]


def matched_pair_data(n_easy: int = 10, gap: float = 1.0, *, box: float = 3.0, n_test: int = 2000,
                      seed=0) -> MatchedPairData:
    """Draw ``n_easy`` easy points (half per class) uniformly in ``[−box, box]²`` with ``|y − x| ≥ gap``,
    and ``n_test`` test points uniformly in the square, labelled by the true boundary ``y = x``.

    Easy points are drawn by rejection, one candidate at a time; class 1 gets ``n_easy // 2`` of them,
    class 0 the rest. Then the test points, from the same generator.

    Parameters
    ----------
    n_easy : int, default=10
        Easy points (at least 2).
    gap : float, default=1.0
        Minimum ``|y − x|`` of an easy point, > 0 and below ``1.8 · box``.
    box : float, default=3.0
        Half-width of the square (> 0).
    n_test : int, default=2000
        Test points.
    seed : None, int or numpy.random.Generator, default=0
        Seed of all the draws; see :func:`creditlib.validation.check_random_state`.

    Returns
    -------
    MatchedPairData

    Raises
    ------
    TypeError
        ``n_easy`` is not an integer.
    ValueError
        ``n_easy < 2``, ``box`` or ``gap`` not a positive finite number, or ``gap ≥ 1.8 · box``
        (too little room for easy points).
    """
    n_easy = check_int(n_easy, "n_easy", low=2)
    box = check_positive(box, "box")
    gap = check_positive(gap, "gap")
    if gap >= 1.8 * box:
        raise ValueError(f"gap={gap} leaves (almost) no room for easy points in the square [−{box}, {box}]²: "
                         f"|y − x| is at most 2·box = {2 * box}. Use gap < 1.8·box (e.g. gap=1.0 with box=3.0).")
    rng = check_random_state(seed)
    want = {1: n_easy // 2, 0: n_easy - n_easy // 2}
    points, labels = [], []
    while want[0] + want[1] > 0:                # acceptance ≥ (0.2·box)²/(8·box²) = 1/200 per class: terminates fast
        p = rng.uniform(-box, box, size=2)
        label = 1 if p[1] - p[0] >= gap else 0 if p[0] - p[1] >= gap else None
        if label is not None and want[label] > 0:
            points.append(p)
            labels.append(label)
            want[label] -= 1
    X_test = rng.uniform(-box, box, size=(n_test, 2))
    return MatchedPairData(np.array(points), np.array(labels), X_test, (X_test[:, 1] > X_test[:, 0]).astype(int))


def fit_linear_svm(X: np.ndarray, y: np.ndarray, C: float = 1e3) -> tuple[np.ndarray, float] | None:
    """``(w, b)`` of a linear SVM (scikit-learn's ``SVC(kernel="linear")``), or None with a single class.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Training points.
    y : ndarray of shape (n,)
        Their labels.
    C : float, default=1e3
        The SVM's penalty (large: an almost hard margin). Convergence warnings are silenced.

    Returns
    -------
    (w, b) or None
        The weight vector (ndarray of shape (d,)) and intercept (float) of the boundary
        ``w·x + b = 0``; None when ``y`` has fewer than two classes.
    """
    from sklearn.svm import SVC

    if len(np.unique(y)) < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SVC(kernel="linear", C=C).fit(X, y)
    return model.coef_[0].copy(), float(model.intercept_[0])


def svm_accuracy(data: MatchedPairData, mask: np.ndarray, C: float = 1e3) -> float:
    """Test accuracy of the SVM trained on the points in ``mask``; with one class (or none) it predicts
    the class present (a coin flip, 1/2, for the empty set).

    Parameters
    ----------
    data : MatchedPairData
        The points; ``mask`` indexes ``data.X``.
    mask : ndarray of bool, shape (n_easy + 2,)
        The coalition of training points.
    C : float, default=1e3
        The SVM's penalty.

    Returns
    -------
    float
        Accuracy on ``data.X_test`` (the point ``w·x + b > 0`` is predicted class 1).
    """
    X, y = data.X[mask], data.y[mask]
    fit = fit_linear_svm(X, y, C)
    if fit is None:
        return float((data.y_test == y[0]).mean()) if len(y) else 0.5
    w, b = fit
    return float((((data.X_test @ w + b) > 0).astype(int) == data.y_test).mean())


def matched_pair_game(data: MatchedPairData, C: float = 1e3) -> Game:
    """The data-valuation game of the matched pair: players are the easy points, then ``d_A`` and ``d_B``.

    Each coalition trains one SVM (about half a millisecond). The game caches by coalition
    (``Game(cache=True)``), so a coalition is trained once and ``game.evaluations`` counts SVMs trained.

    Parameters
    ----------
    data, C
        As in :func:`svm_accuracy`.

    Returns
    -------
    Game
        ``U(S) =`` :func:`svm_accuracy` of S; players named as ``data.players``.
    """
    def utility(masks: np.ndarray) -> np.ndarray:
        return np.array([svm_accuracy(data, mask, C) for mask in masks])

    return Game(len(data.y), utility, data.players, cache=True)


def pair_utilities(data: MatchedPairData, C: float = 1e3) -> dict[str, float]:
    """``U(S)``, ``U(S ∪ {d_A})``, ``U(S ∪ {d_B})`` and ``U(S ∪ {d_A, d_B})`` for S = all easy points,
    the four numbers the chapter's story is about (Section 10.5.1).

    Parameters
    ----------
    data : MatchedPairData
        The points; S is ``data.X_easy``.
    C : float, default=1e3
        The SVM's penalty, as in :func:`svm_accuracy`.

    Returns
    -------
    dict of str to float
        Keys ``"S"``, ``"S+d_A"``, ``"S+d_B"``, ``"S+d_A+d_B"``; values are test accuracies.
    """
    easy = np.zeros(len(data.y), dtype=bool)
    easy[:-2] = True
    with_a, with_b = easy.copy(), easy.copy()
    with_a[-2] = True
    with_b[-1] = True
    return {name: svm_accuracy(data, mask, C) for name, mask in
            [("S", easy), ("S+d_A", with_a), ("S+d_B", with_b), ("S+d_A+d_B", with_a | with_b)]}
