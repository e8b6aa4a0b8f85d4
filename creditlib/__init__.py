"""creditlib: small, tested reference implementations for the Credit Attribution course (Chapter 10).

Modules, one idea each:

* :mod:`creditlib.influence`: influence functions, Hessian-vector products, inverse-HVP solvers and
  leave-one-out retraining (Section 10.1).
* :mod:`creditlib.datasets`: small data sets shipped with scikit-learn (digits as tensors, breast-cancer players as arrays).
* :mod:`creditlib.datamodels`: training on many subsets, datamodels, LDS and the p-biased Fourier analysis
  that explains them (Section 10.3).
* :mod:`creditlib.games`: cooperative games, utilities vectorised over coalitions (Section 10.2).
* :mod:`creditlib.coalitions`: coalition tables indexed by bitmask and the limit of exact enumeration.
* :mod:`creditlib.shapley`: Shapley and Banzhaf values, exact by eq. (10.12), and estimators (Section 10.2.2).
* :mod:`creditlib.axioms`: the axioms of Section 10.2.1 as checks on any payment vector.
* :mod:`creditlib.schemes`: alternative payment rules and the axioms each breaks.
* :mod:`creditlib.interactions`: interaction indices, conditional values, best coalitions (Section 10.5).
* :mod:`creditlib.matched_pair`: the matched pair of Section 10.5.1.
* :mod:`creditlib.saliency`: gradients, integrated gradients, SmoothGrad, sanity checks, TCAV and attention (Section 10.4).
* :mod:`creditlib.models`: the tiny models of the saliency notebook (a digits CNN, an attention classifier, a token task).
* :mod:`creditlib.plotting`: the coalition lattice figure.
* :mod:`creditlib.testing`: helpers for tests and notebooks (matrices with a chosen spectrum).
* :mod:`creditlib.validation`: input validation shared by every module, ``ConvergenceWarning``, and the device
  rules (seeded draws made on the CPU and moved; NumPy results from CPU copies).
* :mod:`creditlib.checking`: sympy-based verification primitives (numbers, vectors, expressions, functions).
* :mod:`creditlib.sandbox`: the seccomp filter under which a reader's function answer runs.
* :mod:`creditlib.judging`: the judge process, started once per kernel, that forks a worker for every check.
* :mod:`creditlib.exercises`: the exercise registry and ``check(id, answer)``; the symbols answers are
  written in (:mod:`creditlib.exercises.symbols`).
"""
__version__ = "0.1.0"
