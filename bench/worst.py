"""The worst cell of each benchmark figure against its target.

A benchmark that measures many shapes reports, per figure, the cell furthest from its
target (value / target, largest first), not the generator's favourite shape. Cells of one
figure may have different targets (`resolve cold` is held to 1x validate at 10,000 profiles
and 1.5x at the 20 MB store).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Figure:
    """One figure's cells: `add(cell, value, target)`, then `report()`."""

    name: str
    unit: str = ""
    digits: int = 2
    cells: list[tuple[str, float, float, bool]] = field(default_factory=list)

    def add(self, cell: str, value: float, target: float, at_least: bool = False) -> None:
        """One cell; `at_least`: the measurement was cut short, the value is a lower bound."""
        self.cells.append((cell, value, target, at_least))

    def report(self) -> str:
        if not self.cells:
            return f"  {self.name}: no cells measured"
        cell, value, target, at_least = max(self.cells, key=lambda c: c[1] / c[2])
        missed = sum(1 for _c, v, t, _a in self.cells if v > t)
        verdict = "meets" if value <= target else "MISSES"
        more = ">" if at_least else ""
        return (f"  {self.name}: worst {more}{value:.{self.digits}f}{self.unit} at {cell} = {more}{value / target:.2f}x"
                f" its target"
                f" (<= {target:g}{self.unit}; {verdict}; {missed} of {len(self.cells)} cells miss)")


def print_worst(title: str, figures: list[Figure]) -> None:
    print(f"\nworst cell per figure ({title}):")
    for figure in figures:
        print(figure.report())
