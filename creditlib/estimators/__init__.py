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
* ``_antithetic``: :func:`shapley_antithetic`, permutation sampling over pairs of reversed orders;
* ``_stratified``: :func:`shapley_stratified`, Stratified SVARM (Kolpaczki et al. AAAI 2024);
* ``_kernel``: :func:`shapley_kernel`, KernelSHAP as constrained weighted least squares with paired sampling
  (Lundberg & Lee 2017; Covert & Lee 2021), and :func:`shapley_kernel_weights`, the Shapley kernel by size;
* ``_leverage``: :func:`shapley_leverage`, Leverage SHAP (Musco & Witter, ICLR 2025);
* ``_regression_adjusted``: :func:`shapley_regression_adjusted`, regression-adjusted Monte Carlo (Witter, Liu &
  Musco 2025): a linear or quadratic proxy plus an unbiased sampled correction;
* ``_sampling``: the paired, size-stratified coalition designs the three regression estimators share;
* ``_base``: :class:`ShapleyEstimate` and the budget checks the estimators share.

An estimator without an honest standard error of its own (KernelSHAP, Leverage SHAP) returns NaN ones and says so.
"""
from ._antithetic import shapley_antithetic
from ._base import ShapleyEstimate
from ._difference import difference_allocation, difference_terms, shapley_difference
from ._kernel import shapley_kernel, shapley_kernel_weights
from ._leverage import shapley_leverage
from ._msr import banzhaf_msr
from ._permutation import shapley_permutation
from ._regression_adjusted import shapley_regression_adjusted
from ._stratified import shapley_stratified

__all__ = ["ShapleyEstimate", "shapley_permutation", "shapley_difference", "difference_allocation",
           "difference_terms", "banzhaf_msr", "shapley_antithetic", "shapley_stratified", "shapley_kernel",
           "shapley_kernel_weights", "shapley_leverage", "shapley_regression_adjusted"]
