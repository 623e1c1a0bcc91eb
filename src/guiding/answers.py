"""Final answers: extraction from model output, equivalence with the gold answer, parallel grading.

Every grader of the study goes through this module, so that one answer is read and judged the same
way everywhere.

- Extraction takes the last ``\\boxed{...}``/``\\fbox{...}`` with balanced braces. A box that never
  closes is a truncated generation and yields no answer: falling back to other patterns would credit
  ``\\boxed{1`` as the answer 1.
  Without a box, the last answer statement decides ("The answer is", "Final answer:", a line that
  starts "Answer:", Chinese 答案是/答案：/最终答案), then GSM8K's ``#### N``. A plain gold tuple
  ``(x, y)`` answered in as many boxes, one entry each, is read as that tuple.
- Plain numbers are compared exactly as floats; everything else goes to math-verify, gold first (its
  ``verify`` is not symmetric: it follows the gold's format, so the gold ``1<x<2`` accepts the
  predicted interval ``(1, 2)`` but the gold ``(1, 2)`` rejects ``1<x<2``) and wrapped in ``$...$``
  (``parse`` only reads LaTeX that is delimited or boxed).
- math-verify bounds its own work with ``signal.alarm``, which only works in a process's main thread,
  cannot interrupt long C-level arithmetic, and reports a timeout only as a logged warning and a False
  verdict. ``grade_many`` therefore grades in worker processes, not threads: a CPU timer ends a worker
  whose item exceeds the limit, whatever it is doing, and a fresh one takes its place. ``grade``
  reads the warnings to report math-verify's own timeouts.
- Benchmarks state answers in different forms (``FORMS``): multiple-choice letters, Gaokao cloze
  answers with several blanks, GSM8K's ``#### N``. Each form is normalised before grading, so that
  math-verify never sees a bare letter (it reads it as a variable) or a list of blanks (it would
  accept a subset).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import signal
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait

FORMS = ("plain", "letter", "multi_blank", "gsm8k")

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
# A command name ends at the first non-letter: \boxeda is another command, \boxed{ and \boxed 5 are boxes.
_BOX = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])")
_ARGUMENT = re.compile(r"\s*(?:(\{)|([^\s${}]+))")
_BRACE = re.compile(r"[{}]")
_PHRASE = re.compile(
    r"(?:the final answer is|the answer is|final answer\s*:)\s*:?"
    # a line that starts with the label "Answer:" ("**Answer:** 14"), and the Chinese statements
    r"|^[^\S\n]*(?:[#>*_]+[^\S\n]*)?answer[^\S\n]*(?:\*\*|__)?[^\S\n]*[:\uff1a]"
    r"|(?:最终)?答案(?!是否)[^\S\n]*(?:是|为|[:\uff1a])",
    re.IGNORECASE | re.MULTILINE,
)
# Only these statements override a box they follow: "the answer is" is too common in remarks.
_FINAL_PHRASE = re.compile(r"(?:the final answer is|final answer\s*:)\s*:?", re.IGNORECASE)
_DELIMITED = re.compile(r"\$\$?(.*?)\$|\\\((.*?)\\\)|\\\[(.*?)\\\]", re.DOTALL)
_SENTENCE_END = re.compile(r"\.(?:\s|$)|\u3002")
_HASHES = re.compile(r"####[ \t]*(.*)")
_TEXT_WRAPPER = re.compile(r"\\(?:text|textbf|mathrm|mathbf)\s*\{([^{}]*)\}")
_LETTER = re.compile(r"\(?([A-E])\)?\.?|\(?([A-E])\)\s+\S.*", re.DOTALL)
_BLANK_SEPARATOR = re.compile(r"[;；]")
_WHITESPACE = re.compile(r"\s+")
_THOUSANDS_COMMA = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_OPENING, _CLOSING = "([{", ")]}"
# A worker that makes no progress without using CPU (blocked, swapping) is stopped after this many limits.
_WALL_LIMIT_FACTOR = 10


def extract_answer(text: str) -> str | None:
    """The model's final answer in ``text``, stripped, or None; never raises.

    The last ``\\boxed``/``\\fbox`` decides: its balanced ``{...}`` content (or the token after
    ``\\boxed 5``), or None when its braces never close; unless a "The final answer is X" /
    "Final Answer: X" statement follows it, which then decides (a worked solution may box an
    intermediate value before stating its answer). A text without any box falls back to
    "the (final) answer is X" / "Final Answer: X" / a line "Answer: X" / "答案是 X" (the last
    occurrence of any), then to GSM8K's ``#### X``.
    """
    last_box = deque(_BOX.finditer(text), maxlen=1)
    if last_box:
        stated_after = _phrase_answer(text[last_box[0].end() :], _FINAL_PHRASE)
        if stated_after and _looks_like_a_value(stated_after):
            return stated_after
        return _box_content(text, last_box[0].end())
    return _phrase_answer(text) or _hashes_answer(text)


def normalize_gold(gold: str, form: str = "plain") -> list[str]:
    """The gold answer's blanks as the grader compares them: one blank except for ``multi_blank``.

    ``plain``: the stripped gold. ``letter``: the choice letter A-E (``B``, ``(B)``, ``\\text{B}``...).
    ``multi_blank``: the ``;``-separated blanks of a cloze answer (``$5$;$10$``), each without ``$``.
    ``gsm8k``: the number after the last ``####`` (or the whole gold), without thousands commas.
    Raises ValueError for an unknown form or a letter gold that is no letter.
    """
    if form == "plain":
        return [gold.strip()]
    if form == "letter":
        letter = _letter(gold)
        if letter is None:
            raise ValueError(f"not a choice letter: {gold!r}")
        return [letter]
    if form == "multi_blank":
        return _blanks(gold)
    if form == "gsm8k":
        return [_plain_number(gold.rsplit("####", 1)[-1])]
    raise ValueError(f"unknown answer form {form!r}; expected one of {FORMS}")


def answers_match(gold: str, predicted: str | None, form: str = "plain") -> bool:
    """Whether ``predicted`` (an extracted answer, or None) is equivalent to ``gold`` in ``form``.

    The plain form compares plain numbers as floats and anything else with math-verify, gold first.
    """
    pending = _pending(gold, predicted, form)
    if not pending:
        return pending is not None
    return _verify_all(pending)[0]


def grade(gold: str, text: str, form: str = "plain") -> dict:
    """Grade one model output: ``{"predicted": str | None, "correct": bool, "timed_out": bool}``.

    Runs math-verify in the calling thread, which must be the main thread (elsewhere its signal-based
    timeouts raise ValueError); ``timed_out`` reports its own limits (5 s per parse and per comparison).
    """
    predicted = _prediction(gold, text, form)
    pending = _pending(gold, predicted, form)
    correct, timed_out = _verify_all(pending) if pending else (pending is not None, False)
    return {"predicted": predicted, "correct": correct, "timed_out": timed_out}


def grade_many(
    items: Sequence[tuple[str, str]],
    workers: int | None = None,
    timeout: float = 3.0,
    forms: str | Sequence[str] = "plain",
) -> tuple[list[dict], dict]:
    """Grade (gold, model output) pairs in parallel; verdicts in the order of ``items``.

    ``forms`` is one form for all items or one per item. Extraction and the pairs decided without
    math-verify (plain numbers, letters, missing answers) stay in this process; the rest go to
    ``workers`` processes (default: the usable cores), forked from this one, so call it while no
    other thread runs. An item that uses ``timeout`` CPU seconds ends its worker (a CPU timer that
    stops it even inside C code), as does one that makes no progress for ten times as long in wall
    time; it counts as wrong and timed out (so does an item whose worker dies), and a fresh worker
    goes on. The limit is on CPU time so that a loaded machine, or more workers than cores, does not
    turn slow items into timeouts. The verdicts are those of ``grade``, item by item, whatever the
    number of workers, except for items over the limit (``grade`` has only math-verify's own limits,
    5 s of wall time per parse and per comparison, which apply in the workers too).

    Returns the verdicts and ``{"items", "correct", "timed_out", "no_answer", "workers"}``, where
    ``workers`` is the number of worker processes used (0 when nothing needed math-verify).
    """
    item_forms = [forms] * len(items) if isinstance(forms, str) else list(forms)
    if len(item_forms) != len(items):
        raise ValueError(f"{len(item_forms)} forms for {len(items)} items")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, not {timeout}")
    results: list[dict] = []
    remaining: dict[int, list[tuple[str, str]]] = {}
    for index, ((gold, text), form) in enumerate(zip(items, item_forms)):
        predicted = _prediction(gold, text, form)
        pending = _pending(gold, predicted, form)
        results.append({"predicted": predicted, "correct": pending == [], "timed_out": False})
        if pending:
            remaining[index] = pending
    used = min(workers or len(os.sched_getaffinity(0)), len(remaining))
    if remaining:
        for index, (correct, timed_out) in _run_pool(remaining, used, timeout).items():
            results[index].update(correct=correct, timed_out=timed_out)
    report = {
        "items": len(results),
        "correct": sum(r["correct"] for r in results),
        "timed_out": sum(r["timed_out"] for r in results),
        "no_answer": sum(r["predicted"] is None for r in results),
        "workers": used,
    }
    return results, report


def _box_content(text: str, start: int) -> str | None:
    """The argument of the box command ending at ``start``: balanced braces or one token."""
    argument = _ARGUMENT.match(text, start)
    if argument is None:
        return None
    if argument.group(2) is not None:  # \boxed 5: one token, whose trailing full stop is prose
        return argument.group(2).rstrip(".,;")
    opening = argument.start(1)
    depth = 0
    for brace in _BRACE.finditer(text, opening):
        depth += 1 if brace.group() == "{" else -1
        if depth == 0:
            return text[opening + 1 : brace.start()].strip()
    return None


def _phrase_answer(text: str, phrase: re.Pattern = _PHRASE) -> str | None:
    last_phrase = deque(phrase.finditer(text), maxlen=1)
    if not last_phrase:
        return None
    rest = text[last_phrase[0].end() :].lstrip()
    delimited = _DELIMITED.match(rest)
    if delimited is not None:
        answer = next(group for group in delimited.groups() if group is not None)
    else:
        answer = _SENTENCE_END.split(rest.split("\n", 1)[0], 1)[0]
    return answer.strip().rstrip(".").strip("$* \t") or None


def _looks_like_a_value(answer: str) -> bool:
    """A stated answer that can stand for a value: a number or some mathematics, not a remark
    such as "see above"."""
    return bool(re.search(r"\d|\\[A-Za-z]|[=+^/]", answer))


def _hashes_answer(text: str) -> str | None:
    found = _HASHES.findall(text)
    return (found[-1].strip() or None) if found else None


def _prediction(gold: str, text: str, form: str) -> str | None:
    """The answer read from ``text``; for ``multi_blank``, separate boxes count as the blanks; for a
    plain gold tuple such as ``(2, 3)``, as many last boxes holding one value each are its entries."""
    predicted = extract_answer(text)
    if form == "multi_blank" and predicted is not None:
        wanted = len(normalize_gold(gold, form))
        if wanted > 1 and len(_predicted_blanks(predicted, wanted)) < wanted:
            boxes = [_box_content(text, box.end()) for box in list(_BOX.finditer(text))[-wanted:]]
            if len(boxes) == wanted and None not in boxes:
                predicted = ";".join(boxes)
    if form == "plain" and predicted is not None:
        predicted = _tuple_from_boxes(gold, text, predicted) or predicted
    return predicted


_LABELLED_VALUE = re.compile(r"([A-Za-z])\s*=\s*(.+)", re.DOTALL)


def _tuple_from_boxes(gold: str, text: str, predicted: str) -> str | None:
    """A gold tuple ``(x, y)`` answered in as many boxes, one entry each (``x = \\boxed{2}``, ``y =
    \\boxed{3}``, or ``\\boxed{x = 2}``, ``\\boxed{y = 3}``), as the tuple ``(2, 3)``; None otherwise.

    Only when the answer read is the last box's own content and holds one value; the entries are
    the last boxes, each closed and holding one value. Boxes labelled with variables must name
    distinct ones in alphabetical order (``y = 3`` before ``x = 2`` leaves the order unknown)."""
    g = gold.strip().strip("$").strip()
    if not (g.startswith("(") and g.endswith(")")):
        return None
    wanted = len(_split_top_level_commas(g[1:-1]))
    boxes = list(_BOX.finditer(text))
    if wanted < 2 or len(boxes) < wanted or predicted != _box_content(text, boxes[-1].end()):
        return None
    entries = [_box_content(text, box.end()) for box in boxes[-wanted:]]
    if None in entries or any(len(_split_top_level_commas(e)) != 1 or not e for e in entries):
        return None
    labelled = [_LABELLED_VALUE.fullmatch(e) for e in entries]
    if any(labelled):
        names = [m.group(1) if m else None for m in labelled]
        if None in names or names != sorted(set(names)):
            return None
        entries = [m.group(2).strip() for m in labelled]
    return "(" + ", ".join(entries) + ")"


def _pending(gold: str, predicted: str | None, form: str) -> list[tuple[str, str]] | None:
    """What is left for math-verify: None when the answer is already wrong, [] when already right,
    otherwise the (gold, predicted) pairs that it must all accept."""
    golds = normalize_gold(gold, form)
    if predicted is None:
        return None
    if form == "letter":
        return [] if _letter(predicted) == golds[0] else None
    if form == "multi_blank":
        blanks = _predicted_blanks(predicted, len(golds))
        if len(blanks) != len(golds):
            return None
        # Identical strings match even where math-verify parses nothing (a blank written in words).
        pairs = [(g, p) for g, p in zip(golds, blanks) if _WHITESPACE.sub("", g) != _WHITESPACE.sub("", p)]
    else:
        pairs = [(golds[0], _plain_number(predicted) if form == "gsm8k" else predicted.strip())]
    pending = []
    for g, p in pairs:
        if _NUMBER.match(g) and _NUMBER.match(p):
            if float(g) != float(p):
                return None
        else:
            pending.append((g, p))
    return pending


def _verify_all(pairs: list[tuple[str, str]]) -> tuple[bool, bool]:
    """math-verify on every pair, gold first: (all equivalent, some math-verify limit was hit)."""
    from math_verify import parse, verify  # imported lazily: it pulls in sympy and antlr

    timeouts = _TimeoutCounter()
    logger = logging.getLogger("math_verify")
    logger.addHandler(timeouts)
    try:
        correct = all(verify(parse(f"${g}$"), parse(f"${p}$")) for g, p in pairs)
    finally:
        logger.removeHandler(timeouts)
    return correct, timeouts.count > 0


class _TimeoutCounter(logging.Handler):
    """math-verify's timeouts: its parse and verify return [] and False, and only log a warning."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += record.getMessage().startswith("Timeout")


def _letter(answer: str) -> str | None:
    """The choice letter in ``B``, ``(B)``, ``B)``, ``B.``, ``\\text{(B)}``, ``(B) 4\\sqrt{2}``."""
    answer = answer.strip().strip("$")
    while (unwrapped := _TEXT_WRAPPER.sub(r"\1", answer)) != answer:
        answer = unwrapped
    letter = _LETTER.fullmatch(answer.strip())
    return None if letter is None else letter.group(1) or letter.group(2)


def _blanks(answer: str) -> list[str]:
    return [blank.strip().strip("$").strip() for blank in _BLANK_SEPARATOR.split(answer)]


def _predicted_blanks(answer: str, wanted: int) -> list[str]:
    """A prediction's blanks: separated by ``;``, or else, where several are wanted, by commas."""
    blanks = _blanks(answer)
    return _split_top_level_commas(answer) if len(blanks) != wanted and wanted > 1 else blanks


def _split_top_level_commas(answer: str) -> list[str]:
    """Blanks separated by commas outside brackets: ``5, 10`` has two, ``(0,1)`` and ``[0,2)`` one."""
    blanks, depth, start = [], 0, 0
    for i, char in enumerate(answer):
        depth += (char in _OPENING) - (char in _CLOSING)
        if char == "," and depth == 0:
            blanks.append(answer[start:i])
            start = i + 1
    blanks.append(answer[start:])
    return [blank.strip().strip("$").strip() for blank in blanks]


def _plain_number(answer: str) -> str:
    """GSM8K's numbers: ``70,000``, ``\\$18`` and ``$18`` are 70000 and 18."""
    return _THOUSANDS_COMMA.sub("", answer.strip()).removeprefix("\\$").strip().strip("$").strip()


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: Connection
    item: int | None = None  # the index of the item it grades
    started: float = 0.0


def _serve(conn: Connection, cpu_limit: float) -> None:
    """A worker's loop: grade pending pairs until the parent closes the pipe, each within ``cpu_limit``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it ends the workers
    # SIGPROF's default action ends the process: the kernel does it, even while sympy is in C code.
    # (math-verify's own alarms use SIGALRM and the real-time timer, which this leaves alone.)
    signal.signal(signal.SIGPROF, signal.SIG_DFL)
    while True:
        try:
            pairs = conn.recv()
        except EOFError:
            return
        signal.setitimer(signal.ITIMER_PROF, cpu_limit)
        verdict = _verify_all(pairs)
        signal.setitimer(signal.ITIMER_PROF, 0)
        conn.send(verdict)


def _run_pool(pending: dict[int, list[tuple[str, str]]], workers: int, timeout: float) -> dict[int, tuple[bool, bool]]:
    """(correct, timed out) per item index, graded by ``workers`` processes under a per-item limit."""
    # fork, not spawn or forkserver: those re-run the caller's main module in each worker, and the
    # workflow's Snakemake scripts have no main guard. Imported before forking, math-verify is shared
    # by all workers, replacements included, for free.
    import math_verify  # noqa: F401

    context = multiprocessing.get_context("fork")
    wall_limit = _WALL_LIMIT_FACTOR * timeout
    queue = deque(pending)
    done: dict[int, tuple[bool, bool]] = {}
    pool: list[_Worker] = []
    try:
        while len(done) < len(pending):
            while len(pool) < workers and queue:
                pool.append(_start_worker(context, timeout))
            for worker in list(pool):
                if worker.item is None and queue:
                    worker.item, worker.started = queue.popleft(), time.monotonic()
                    try:
                        worker.conn.send(pending[worker.item])
                    except OSError:  # it died idle, killed from outside: the item waits for a fresh worker
                        queue.appendleft(worker.item)
                        _stop(worker)
                        pool.remove(worker)
            busy = [w for w in pool if w.item is not None]
            if not busy:
                continue
            ready = wait([w.conn for w in busy], max(0.0, min(w.started for w in busy) + wall_limit - time.monotonic()))
            for worker in busy:
                if worker.conn in ready:
                    try:
                        done[worker.item] = worker.conn.recv()
                        worker.item = None
                        continue
                    except (EOFError, OSError):  # its CPU timer ended it, or it died (out of memory...)
                        pass
                elif time.monotonic() < worker.started + wall_limit:
                    continue
                # The item is wrong and timed out; a fresh worker takes the place of this one.
                done[worker.item] = (False, True)
                _stop(worker)
                pool.remove(worker)
    finally:
        for worker in pool:
            _stop(worker)
    return done


def _start_worker(context: multiprocessing.context.BaseContext, cpu_limit: float) -> _Worker:
    parent_end, child_end = context.Pipe()
    process = context.Process(target=_serve, args=(child_end, cpu_limit), daemon=True)
    process.start()
    child_end.close()
    return _Worker(process, parent_end)


def _stop(worker: _Worker) -> None:
    """Kill at once: a busy worker may be stuck in C code, and an idle one holds nothing to save."""
    worker.conn.close()
    worker.process.kill()
    worker.process.join()
