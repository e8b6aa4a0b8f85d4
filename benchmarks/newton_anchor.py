"""The reference that issue 21 sets for ``train_on_subsets`` on convex models: a 25-line batched Newton method for
L2-regularised logistic regression, written for this one model (closed-form gradient and Hessian, no torch.func).

Every model k minimises ``mean_{i∈S_k} [softplus(z_i) − y_i z_i] + weight_decay/2 · ‖θ‖²`` with ``z = x·w + b``
(bias penalised too: the objective of ``creditlib.influence.training_objective``), all models advanced together,
full Newton steps (no line search: this objective is strongly convex and smooth, and the steps converge from
the starts used here) until every gradient norm is at most ``tol``. Imported by ``datamodels_training.py``;
run alone it prints its own rate. Asserts nothing.
Run: .venv/bin/python benchmarks/newton_anchor.py
"""
import time

import torch


def newton_anchor(X, y, masks, weight_decay, theta0, tol=1e-6, max_iter=100):
    """θ of shape (B, d + 1) (weights, then the bias) for the boolean ``masks`` (B, n) over the rows of X (n, d)."""
    A = torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype, device=X.device)], dim=1)          # bias column
    W = masks.to(X.dtype)
    W = W / W.sum(dim=1, keepdim=True).clamp_min(1.0)                                        # weights of the mean
    eye = weight_decay * torch.eye(A.shape[1], dtype=X.dtype, device=X.device)
    theta = theta0.expand(len(masks), -1).clone()
    for _ in range(max_iter):
        p = torch.sigmoid(theta @ A.T)                                                       # (B, n)
        g = (W * (p - y)) @ A + weight_decay * theta                                         # (B, P)
        if float(g.norm(dim=1).max()) <= tol:
            return theta
        H = (A.T * (W * p * (1 - p))[:, None, :]) @ A + eye                                  # (B, P, P)
        L = torch.linalg.cholesky(H)
        theta = theta - torch.cholesky_solve(g[..., None], L)[..., 0]
    raise RuntimeError("the Newton anchor did not converge")


if __name__ == "__main__":
    from creditlib.datamodels import subset_masks
    from creditlib.datasets import digit_pair

    X, y, _, _ = digit_pair(3, 5, n_train=100, seed=0)
    masks = torch.as_tensor(subset_masks(100, 0.5, 2000, seed=1))
    theta0 = torch.zeros(65, dtype=torch.float64)
    for threads in (1, torch.get_num_threads()):
        torch.set_num_threads(threads)
        start = time.perf_counter()
        newton_anchor(X, y, masks, 0.01, theta0)
        print(f"Newton anchor, {threads} thread(s): {len(masks) / (time.perf_counter() - start):,.0f} models/s")
