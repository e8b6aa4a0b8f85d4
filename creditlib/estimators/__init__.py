"""Sampling estimators of Shapley and Banzhaf values (Section 10.2.3), beside the exact methods of
:mod:`creditlib.shapley` as in shapiq's approximator/exact split.

Every estimator takes a :class:`~creditlib.games.Game` and a ``budget`` of utility evaluations, never spends more,
takes ``seed`` as scikit-learn does, and returns a :class:`ShapleyEstimate` (values, standard errors, evaluations
spent, method). One module per family:

* ``_permutation``: :func:`shapley_permutation`, Monte Carlo over random orders (Lemma 10.2.6);
* ``_difference``: :func:`shapley_difference`, the matched-difference estimator of Problem 10.2.7, with
  :func:`difference_allocation` and :func:`difference_terms`;
* ``_msr``: :func:`banzhaf_msr`, Data Banzhaf's maximum-sample-reuse estimator (Wang & Jia 2023) from subsets
  drawn with p = 1/2;
* ``_base``: :class:`ShapleyEstimate` and the budget checks the estimators share.
"""
from ._base import ShapleyEstimate
from ._difference import difference_allocation, difference_terms, shapley_difference
from ._msr import banzhaf_msr
from ._permutation import shapley_permutation

__all__ = ["ShapleyEstimate", "shapley_permutation", "shapley_difference", "difference_allocation",
           "difference_terms", "banzhaf_msr"]
