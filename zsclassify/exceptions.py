"""Errors raised by zsclassify: one base class, and fields that say what happened.

Catch :class:`ZSClassifyError` for anything zsclassify raises on purpose. Each error
carries the numbers a caller needs to act (pairs left unjudged, what was spent), as
attributes rather than only in its message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._judge_quality import JudgeQuality
    from ._usage import JudgeUsage

__all__ = [
    "BudgetExceededError",
    "CacheError",
    "InvalidJudgeResponseError",
    "JudgeError",
    "JudgeSetupError",
    "ModelFileError",
    "UnsafeModelFileError",
    "WeakJudgeError",
    "ZSClassifyError",
]


class ZSClassifyError(Exception):
    """Base class of every error zsclassify raises on purpose."""


class JudgeError(ZSClassifyError, RuntimeError):
    """Some pairs could not be judged and the judge's ``on_failure`` is ``"raise"``.

    Attributes
    ----------
    failed_pairs : int
        Pairs of the call left without a score.
    usage : JudgeUsage or None
        What the judge had spent over its lifetime when it stopped.
    """

    def __init__(self, message: str, *, failed_pairs: int = 0, usage: JudgeUsage | None = None) -> None:
        super().__init__(message)
        self.failed_pairs = failed_pairs
        self.usage = usage


class WeakJudgeError(JudgeError):
    """The judge's own answers rate it too weak to trust, and the classifier was asked to raise.

    Raised by :meth:`ZeroShotClassifier.fit <zsclassify.ZeroShotClassifier.fit>` with
    ``on_weak_judge="raise"`` when the fitted model would be at or near zero-shot because of
    the judge (see ``judge_quality_``). The answers it gave are in its cache.

    Attributes
    ----------
    quality : JudgeQuality
        The estimates and the decision, as ``judge_quality_`` would have held them.
    usage : JudgeUsage or None
        What the judge had spent.
    """

    def __init__(self, message: str, *, quality: JudgeQuality, usage: JudgeUsage | None = None) -> None:
        super().__init__(message, usage=usage)
        self.quality = quality


class JudgeSetupError(JudgeError):
    """The judge cannot work as configured; the fit stops at the first such answer, whatever ``on_failure`` says.

    A rejected key (401 / 403), an unknown model or invalid request (400 / 404), a request too
    large (413), a missing optional package, or a server that does not speak the API (e.g. an
    HTML page with status 200). Asking again would fail the same way, so nothing more is sent;
    answers that arrived before are in the cache.

    Attributes
    ----------
    status_code : int or None
        The HTTP status the server answered with, when there was one.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        failed_pairs: int = 0,
        usage: JudgeUsage | None = None,
    ) -> None:
        super().__init__(message, failed_pairs=failed_pairs, usage=usage)
        self.status_code = status_code


class CacheError(ZSClassifyError, OSError):
    """The judgment cache cannot be read or written.

    Raised before any request is paid for when the cache cannot be opened; when a write
    fails mid-round, nothing more is sent and the answer being written is saved to a
    side file (``unsaved_file``) that :meth:`JudgmentCache.restore
    <zsclassify.judges.JudgmentCache.restore>` stores later. The message names the file
    and what to do (another ``cache=`` path, fix its permissions, delete a corrupted
    file, or stop the process holding its lock).

    Attributes
    ----------
    path : str
        The cache file.
    unsaved_file : str or None
        Where paid-for answers that could not be stored were written, if any.
    """

    def __init__(self, message: str, *, path: str = "", unsaved_file: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.unsaved_file = unsaved_file


class UnsafeModelFileError(ZSClassifyError, ValueError):
    """A model file holds types that loading would have to trust (and could run code); it was not loaded."""


class ModelFileError(ZSClassifyError, ValueError):
    """A file is not a readable model file: truncated, corrupt, or not written by :func:`~zsclassify.save_model`."""


class BudgetExceededError(ZSClassifyError, RuntimeError):
    """The next request would pass the judge's token or cost cap; nothing past the cap was sent.

    Attributes
    ----------
    reason : str
        Which cap, e.g. ``"1500 tokens > max_total_tokens=1400"``.
    failed_pairs : int
        Pairs of the call left without a score.
    usage : JudgeUsage or None
        What the judge had spent when it stopped.
    """

    def __init__(
        self, message: str, *, reason: str = "", failed_pairs: int = 0, usage: JudgeUsage | None = None
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.failed_pairs = failed_pairs
        self.usage = usage


class InvalidJudgeResponseError(ZSClassifyError, ValueError):
    """A judge returned something other than one score in [0, 1] (or NaN) per asked utterance.

    Attributes
    ----------
    label : str or None
        The label of the request whose answer is invalid (None when the number of answers is wrong).
    """

    def __init__(self, message: str, *, label: str | None = None) -> None:
        super().__init__(message)
        self.label = label
