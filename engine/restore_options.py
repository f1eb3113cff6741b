"""The types of Restore Photo (`engine.restore`), torch-free like `engine.options`: the steps,
what the analysis of a scan found, the request, and each step's result with the words that
describe it — the CLI's summary line and the editor's layer names both come from here, so
they say the same thing."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from engine.options import MAX_DENOISE_STRENGTH, ColourHint, _hint_tuple, _unit_number


class RestoreStep(StrEnum):
    """The steps, in the order they run: damage is found and filled before denoising (the
    denoiser would smear a crack into a blur the inpainter cannot tell from the photo), the
    colours are recovered from the clean photo, and colour is added last, from its
    lightness."""

    DETECT = "detect"
    INPAINT = "inpaint"
    DENOISE = "denoise"
    COLOURS = "colours"
    COLORIZE = "colorize"

    @property
    def title(self) -> str:
        return _TITLES[self]


_TITLES = {
    RestoreStep.DETECT: "Find damage",
    RestoreStep.INPAINT: "Fill damage",
    RestoreStep.DENOISE: "Denoise",
    RestoreStep.COLOURS: "Restore colours",
    RestoreStep.COLORIZE: "Colorize",
}
ORDER = tuple(RestoreStep)


class ColorizeChoice(StrEnum):
    """AUTO: colour is added to a black-and-white or toned photo only; YES: to any photo (a
    colour print whose dyes are nearly gone); NO: never."""

    AUTO = "auto"
    YES = "yes"
    NO = "no"


def parse_steps(text: str) -> tuple[RestoreStep, ...]:
    """'detect,inpaint,denoise' -> the steps in running order, or InvalidRequest naming the
    unknown one (the CLI's --steps)."""
    from engine.errors import InvalidRequest

    chosen = set()
    for name in (part.strip().lower() for part in text.split(",")):
        if not name:
            continue
        try:
            chosen.add(RestoreStep(name))
        except ValueError:
            known = ", ".join(s.value for s in ORDER)
            raise InvalidRequest(f"unknown step {name!r}; choose from {known}") from None
    if not chosen:
        raise InvalidRequest("no steps given; choose from " + ", ".join(s.value for s in ORDER))
    return tuple(s for s in ORDER if s in chosen)


@dataclass(frozen=True, eq=False)
class RestoreRequest:
    """What Restore Photo does. `steps` None: what the analysis proposes (`ScanAnalysis`);
    a tuple: exactly those steps (the user chose), except that colorize always follows
    `colorize`. `mask` (bool H×W, True = damage) replaces the detector's: the user's edited
    mask, re-run. `hints` go to a colorizer that takes them (one that does not colours
    without them and says so). Strengths as in the single tasks."""

    steps: tuple[RestoreStep, ...] | None = None
    colorize: ColorizeChoice = ColorizeChoice.AUTO
    sensitivity: float = 0.5
    denoise_strength: float = 1.0
    colours_strength: float = 1.0
    colorize_strength: float = 1.0
    mask: Any = None  # np.ndarray | None; typed loosely so this module stays import-light
    hints: tuple[ColourHint, ...] = ()  # the user's colour pins, for a colorizer taking them

    def __post_init__(self) -> None:
        from engine.errors import InvalidRequest

        object.__setattr__(self, "hints", _hint_tuple(self.hints))
        if self.steps is not None:
            try:
                steps = {RestoreStep(s) for s in self.steps}
            except ValueError as exc:
                raise InvalidRequest(f"unknown restore step: {exc}") from None
            object.__setattr__(self, "steps", tuple(s for s in ORDER if s in steps))
        try:
            object.__setattr__(self, "colorize", ColorizeChoice(self.colorize))
        except ValueError:
            known = ", ".join(c.value for c in ColorizeChoice)
            raise InvalidRequest(
                f"colorize must be one of {known}, got {self.colorize!r}"
            ) from None
        for name in ("sensitivity", "colours_strength", "colorize_strength"):
            object.__setattr__(self, name, _unit_number(name, getattr(self, name)))
        strength = _unit_number("denoise_strength", self.denoise_strength, MAX_DENOISE_STRENGTH)
        object.__setattr__(self, "denoise_strength", strength)


@dataclass(frozen=True, eq=False)
class ScanAnalysis:
    """What `engine.restore.analyse_scan` found in a scan, and the steps it proposes."""

    grey: bool  # black-and-white (all channels equal)
    toned: float  # 0 a colour photo .. 1 a toned grey print (sepia, cyanotype)
    faded: float  # 0 unfaded .. 1 a faded print Restore Colours corrects fully
    noise_level: float  # what the denoiser removes, 8-bit levels RMS (0: no denoiser)
    mask: Any  # bool H×W proposed damage (np.ndarray), or None when not looked for
    sensitivity: float  # the detector's sensitivity that made `mask`
    detector: str  # "model", "classical" (no model installed) or "" (not run)
    available: frozenset[RestoreStep] = field(default_factory=frozenset)  # steps that can run

    @property
    def damage_percent(self) -> float:
        if self.mask is None or self.mask.size == 0:
            return 0.0
        return 100.0 * float(self.mask.mean())

    @property
    def monochrome(self) -> bool:
        """Grey or toned: a photo colorize may add colour to."""
        return self.grey or self.toned >= TONED_AT

    def findings(self) -> dict[RestoreStep, str]:
        """One line per step saying what was found (the dialog shows these)."""
        kind = "black-and-white" if self.grey else "toned" if self.monochrome else "colour"
        detector = " (classical detector)" if self.detector == "classical" else ""
        damage = percent(self.damage_percent, 2)
        found = self.damage_percent >= 0.005  # shows as 0.01 % or more
        level = self.noise_level
        fade = (
            f"faded (correction {percent(self.faded)})" if self.faded >= FADED_AT else "not faded"
        )
        colour = "colour can be added" if self.monochrome else "its own colours would be replaced"
        return {
            RestoreStep.DETECT: f"{damage} looks damaged{detector}" if found else "no damage found",
            RestoreStep.INPAINT: f"{damage} to fill" if found else "nothing to fill",
            RestoreStep.DENOISE: f"noise level {level:.1f} ({noise_word(level)})",
            RestoreStep.COLOURS: f"{kind} photo, {fade}",
            RestoreStep.COLORIZE: f"{kind} photo: {colour}",
        }

    def proposed(self, colorize: ColorizeChoice = ColorizeChoice.AUTO) -> tuple[RestoreStep, ...]:
        """The steps worth running on this scan (only those available)."""
        wanted = set()
        if self.damage_percent >= DAMAGE_AT:
            wanted |= {RestoreStep.DETECT, RestoreStep.INPAINT}
        if self.noise_level >= NOISE_AT:
            wanted.add(RestoreStep.DENOISE)
        if self.faded >= FADED_AT and not self.grey:
            wanted.add(RestoreStep.COLOURS)
        if colorize is ColorizeChoice.YES or (colorize is ColorizeChoice.AUTO and self.monochrome):
            wanted.add(RestoreStep.COLORIZE)
        return tuple(s for s in ORDER if s in wanted and s in self.available)


def percent(value: float, decimals: int = 0) -> str:
    """'0.65 %', '100 %': how every number of Restore Photo is written for people (a
    fraction 0..1 without decimals is a share; with them, `value` is already in %)."""
    return f"{value:.{decimals}f} %" if decimals else f"{round(100 * value)} %"


def noise_word(level: float) -> str:
    """The analysis' noise level in words (8-bit levels RMS, see `engine.noise_level`)."""
    if level < NOISE_AT:
        return "clean"
    return "light" if level < 4.0 else "moderate" if level < 7.0 else "heavy"


# The analysis' thresholds for proposing a step: the policy, in one place.
DAMAGE_AT = 0.05  # % of the pixels the detector marks (a few specks on a 24 MP scan)
# Below 1.5 levels RMS the denoiser's change is invisible at 100 %: nothing to propose. The
# sample scans measure 2.0-6.6, clean training photos 1.8-4.3 (`engine.noise_level`).
NOISE_AT = 1.5
FADED_AT = 0.1  # Restore Colours' own confidence (`engine.colour_restore`, step 5)
TONED_AT = 0.5


@dataclass(frozen=True, eq=False)
class StepResult:
    """One step's outcome: its picture (a bool mask for detect; None when it was skipped),
    the settings it used and one phrase for people ("2.1 % damage filled")."""

    step: RestoreStep
    image: Any  # np.ndarray | None
    settings: dict[str, Any]
    summary: str
    skipped: str | None = None  # why it did not run (no model installed, nothing to fill)

    @property
    def label(self) -> str:
        """The layer name in the editor: the step and what it did."""
        return f"{self.step.title}: {self.skipped or self.summary}"


@dataclass(frozen=True, eq=False)
class RestoreResult:
    """The restored photo, each step's result in running order, and the analysis."""

    image: Any  # np.ndarray: the last step's picture (the input's copy if none ran)
    steps: tuple[StepResult, ...]
    analysis: ScanAnalysis
    mask: Any = None  # the damage mask used (bool H×W) or None

    def step(self, step: RestoreStep) -> StepResult | None:
        return next((r for r in self.steps if r.step is step), None)

    def summary(self) -> str:
        """What was done, one phrase per step that ran (the CLI's line per file)."""
        done = [
            r.summary for r in self.steps if r.skipped is None and r.step is not RestoreStep.DETECT
        ]
        unavailable = [f"{r.step.value}: {r.skipped}" for r in self.steps if r.skipped]
        return ", ".join(done + unavailable) or "nothing to do"
