"""Figures shared by notebooks."""
from __future__ import annotations

from .coalitions import all_coalitions
from .games import Game

__all__ = ["plot_coalition_lattice"]


def plot_coalition_lattice(game: Game, ax=None, value_format: str = "{:g}"):
    """The lattice of all coalitions (N ≤ 4): nodes by size with their utility, edges with the
    marginal gain ``U(S ∪ {i}) − U(S)`` of the player that is added (the terms of eq. (10.12)).

    Parameters
    ----------
    game : Game
        The game; all ``2^N`` utilities are evaluated once (``game.values()``) and shown as floats.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure sized for N.
    value_format : str, default="{:g}"
        Format of utilities and gains.

    Returns
    -------
    matplotlib Axes
        ``ax``, with the axis frame turned off.

    Raises
    ------
    ValueError
        More than 4 players.
    """
    import matplotlib.pyplot as plt

    n = game.n_players
    if n > 4:
        raise ValueError("The lattice is readable for at most 4 players.")
    ax = ax or plt.subplots(figsize=(2.6 * n + 1, 1.6 * n + 1))[1]
    masks = all_coalitions(n)
    values = [float(v) for v in game.values()]
    sizes = masks.sum(axis=1)
    position = {}
    for size in range(n + 1):
        codes = [c for c in range(2**n) if sizes[c] == size]
        for k, code in enumerate(codes):
            position[code] = (k - (len(codes) - 1) / 2, size)
    for code in range(2**n):
        for i in range(n):
            if not code >> i & 1:
                up = code | 1 << i
                (x0, y0), (x1, y1) = position[code], position[up]
                ax.plot([x0, x1], [y0, y1], color="0.75", zorder=1)
                ax.text(0.62 * x0 + 0.38 * x1, 0.62 * y0 + 0.38 * y1, f"+{game.players[i]}: "
                        + value_format.format(values[up] - values[code]), fontsize=7, color="tab:blue",
                        ha="center", va="center", bbox=dict(fc="white", ec="none", pad=0.2), zorder=2)
    for code, (x, y) in position.items():
        name = game.describe(masks[code]) if code else "∅"
        ax.text(x, y, f"{name}\n{value_format.format(values[code])}", ha="center", va="center", fontsize=9,
                bbox=dict(boxstyle="round", fc="lightyellow", ec="0.4"), zorder=3)
    ax.set_xlim(-(max(abs(x) for x, _ in position.values()) + 0.7), max(abs(x) for x, _ in position.values()) + 0.7)
    ax.set_ylim(-0.5, n + 0.5)
    ax.axis("off")
    return ax
