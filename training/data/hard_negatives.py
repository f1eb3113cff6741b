"""Training crops centred where a detector was wrong (issue 21).

`training.mine_negatives` writes the pieces a detector marks on undamaged training photos;
a recipe's ``[hard_negatives]`` table names that file and the share of training samples to
centre on one of them::

    [hard_negatives]
    file = "runs/hard_negatives.json"
    share = 0.25
    files = ["runs/hard_negatives_round2.json"]   # optional: further rounds, one pool

Such a sample is otherwise an ordinary one: aged or not, damaged or clean by the
``[damage]`` table's own draws, so the network learns that a cream backdrop or a white rail
is not damage *and* still finds the damage drawn beside it. A piece is drawn with weight
``sqrt(area)``: the large false alarms (a whole backdrop) come up more often than specks
without crowding them out. Validation never uses them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training.data.folders import TrainingDataError

__all__ = ["HardNegativeConfig", "HardNegatives"]


@dataclass(frozen=True)
class HardNegativeConfig:
    """``file``: the JSON `training.mine_negatives` wrote; ``share``: the share of training
    samples centred on one of its pieces (0 = none, the file is then not read);
    ``min_area``: pieces covering less of their photo than this are not drawn (the file
    holds every near miss; a recipe may teach only the large false alarms); ``files``:
    further mined files (a second round, mined with the detector the first round made),
    their pieces drawn from one pool with ``file``'s so the first round's lessons stay."""

    file: str = ""
    share: float = 0.0
    min_area: float = 0.0
    files: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0.0 <= self.share <= 1.0:
            raise TrainingDataError(f"hard_negatives.share must be in [0, 1], got {self.share}")
        if self.share and not self.file:
            raise TrainingDataError("hard_negatives.share > 0 needs hard_negatives.file")

    @property
    def all_files(self) -> tuple[str, ...]:
        return (self.file, *self.files)


class HardNegatives:
    """The mined pieces that lie on `paths` (a dataset's photos), ready to draw from."""

    def __init__(
        self, photos: Sequence[dict], paths: Sequence[Path], min_area: float = 0.0
    ) -> None:
        where = {Path(path).resolve(): position for position, path in enumerate(paths)}
        self.positions: list[int] = []
        self.boxes: list[tuple[float, float, float, float]] = []
        weights = []
        for entry in photos:
            position = where.get(Path(entry["path"]).resolve())
            if position is None:  # a photo this dataset does not hold (e.g. validation's)
                continue
            for top, left, bottom, right, area in entry["pieces"]:
                if area < min_area:
                    continue
                self.positions.append(position)
                self.boxes.append((top, left, bottom, right))
                weights.append(np.sqrt(max(float(area), 1e-9)))
        if not self.positions:
            raise TrainingDataError(
                f"hard_negatives: no piece of the {len(photos)} mined photos lies on a "
                f"training photo and covers at least {min_area:g} of it"
            )
        self.weights = np.asarray(weights) / np.sum(weights)

    @classmethod
    def load(
        cls, files: str | Path | Sequence[str | Path], paths: Sequence[Path], min_area: float = 0.0
    ) -> HardNegatives:
        """The pieces of one mined file or of several, as one pool."""
        photos: list[dict] = []
        for file in [files] if isinstance(files, (str, Path)) else files:
            try:
                photos.extend(json.loads(Path(file).read_text())["photos"])
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise TrainingDataError(f"hard_negatives {file}: cannot read it ({exc})") from exc
        return cls(photos, paths, min_area)

    def __len__(self) -> int:
        return len(self.positions)

    def draw(self, rng: np.random.Generator) -> tuple[int, tuple[float, float]]:
        """A photo's place in `paths` and a point (y, x on the 0-1 scale) of one of its
        pieces, drawn uniformly inside the piece's box."""
        piece = int(rng.choice(len(self.positions), p=self.weights))
        top, left, bottom, right = self.boxes[piece]
        at = (float(rng.uniform(top, bottom)), float(rng.uniform(left, right)))
        return self.positions[piece], at
