"""creditlib: small, tested reference implementations for the Credit Attribution course (Chapter 10).

Modules, one idea each:

* :mod:`creditlib.games`: cooperative games, utilities vectorised over coalitions (Section 10.2).
* :mod:`creditlib.shapley`: Shapley values, exact by eq. (10.12).
* :mod:`creditlib.axioms`: the axioms of Section 10.2.1 as checks on any payment vector.
* :mod:`creditlib.checking`: sympy-based verification primitives (numbers, vectors, expressions, functions).
* :mod:`creditlib.exercises`: the exercise registry and ``check(id, answer)``.
"""
__version__ = "0.1.0"
