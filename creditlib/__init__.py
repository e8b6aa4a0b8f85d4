"""creditlib: small, tested reference implementations for the Credit Attribution course (Chapter 10).

Three layers, each importing only from the layers below it (docs/architecture.md has the full map):

**The attribution library** — what a practitioner imports.

* Floor: :mod:`creditlib.validation` (input checks, seeds, ``ConvergenceWarning``, the device rules),
  :mod:`creditlib.coalitions` (coalitions as bitmasks, coalition tables and the limit of exact enumeration),
  :mod:`creditlib.rationals` (exact numbers: ``Fraction`` inside, sympy ``Rational`` out) and
  :mod:`creditlib.contracts` (what each kind of function takes and returns, with a check per kind).
* Training and linear algebra: :mod:`creditlib.training` (a model as a function of its flat parameter vector,
  full-batch training, per-example gradients, losses) and :mod:`creditlib.solvers` (exact, CG, Neumann and LiSSA
  solvers on any symmetric operator).
* Section 10.1: :mod:`creditlib.influence` (Hessian-vector products, influence functions, leave-one-out).
* Section 10.2: :mod:`creditlib.games` (the :class:`~creditlib.games.Game`), :mod:`creditlib.game_builders`
  (games from dividends, at random, by voting, from features), :mod:`creditlib.chapter_games` (the chapter's own
  games), :mod:`creditlib.shapley` (exact Shapley and Banzhaf values, semivalues, dividends),
  :mod:`creditlib.estimators` (sampling estimators under a budget), :mod:`creditlib.axioms` (the axioms as checks),
  :mod:`creditlib.schemes` (other payment rules and the axioms they break).
* Section 10.3: :mod:`creditlib.subset_training` (many models trained on subsets), :mod:`creditlib.datamodels`
  (fitting datamodels, LDS), :mod:`creditlib.harmonic` (p-biased Fourier analysis, noise stability).
* Section 10.4: :mod:`creditlib.saliency` (gradients, integrated gradients, SmoothGrad, sanity checks, TCAV,
  attention) and :mod:`creditlib.models` (its tiny models).
* Section 10.5: :mod:`creditlib.interactions` (interaction indices, conditional values, best coalitions) and
  :mod:`creditlib.matched_pair` (the matched pair of Section 10.5.1).
* Data and figures: :mod:`creditlib.datasets` (bundled scikit-learn data), :mod:`creditlib.plotting` (the
  coalition lattice), :mod:`creditlib.testing` (matrices with a chosen spectrum, for tests and notebooks).

**The course harness** — :mod:`creditlib.exercises`: the exercise registry, ``check(id, answer)``, and the
answer checker (:mod:`creditlib.exercises.checker`) with its judge process, worker and sandbox.

**The notebook tooling** lives outside the package, in ``tools/`` (generating the readers' chapters, running the
solutions, working copies and progress).
"""
__version__ = "0.1.0"
