"""The ``simulated`` chat backend: the synthetic world's parts answer the study's prompts.

It sits above the stages, where the embedded parts of tasks, teachers and supervision are put
together with the world (``guiding.world`` itself imports no stage; ``guiding.llm.backends`` names
this class by its path, so the generation interface imports none either).

It reads a prompt as a model would, except exactly: ``guiding.llm.prompts.identify`` finds the
template and its fields, and the world's problems are a regular language (``read_problem``). It then
answers in the output format the template asks for, with the embedded implementations doing the
work: the exact decomposition, the simulated teachers (the request's ``model`` names the teacher,
whose per-step error comes from config ``teachers``), the exact step checker, the exact filters and
the template paraphraser. Its judges may err on purpose (config ``llm.simulated_judges``): each
verdict flipped with a given probability, so that the judge agreement table measures a judge that
is not the truth. Every answer is determined by the request (its seed above all), so the
embedded default runs the very same prompts, client, cache, parsers and filters as paper mode.
"""

from __future__ import annotations

import json
import random

from .answers import extract_answer
from .artifacts import OPERATIONS
from .llm.backends import PermanentError
from .llm.backends.in_process import InProcessBackend
from .llm.prompts import identify
from .llm.requests import ChatRequest
from .llm.schemas import schema_in
from .supervision.embedded import paraphrase_problem, paraphrase_solution
from .tasks.embedded import decompose, ill_defined, near_duplicate
from .teachers.embedded import SimulatedTeacher
from .world.program import check_steps, read_problem, reference_solution, solution_steps


class SimulatedChat(InProcessBackend):
    """Answers every template of ``guiding.llm.prompts`` for the synthetic world's problems."""

    def __init__(
        self,
        endpoint: str = "simulated",
        teachers: dict[str, dict] | None = None,
        shuffle: bool = False,
        near_duplicate_fraction: float = 0.8,
        final_judge_flip: float = 0.0,
        step_judge_flip: float = 0.0,
        batch_size: int = 256,
        concurrency: int = 1,
    ):
        self.identity = endpoint
        # Only what makes a teacher's answers: its per-step error, error style and where it errs.
        self.teachers = {
            name: SimulatedTeacher(
                name, float(t["step_error"]), t["error_style"], error_ops=t.get("error_ops", OPERATIONS)
            )
            for name, t in (teachers or {}).items()
        }
        self.shuffle, self.near_duplicate_fraction = shuffle, near_duplicate_fraction
        # Each final verdict (1/0, not N/A) and each step verdict is flipped with these probabilities,
        # drawn from the request's seed: the same request, the same mistakes.
        for name, flip in (("final_judge_flip", final_judge_flip), ("step_judge_flip", step_judge_flip)):
            if not 0.0 <= float(flip) <= 1.0:
                raise ValueError(f"simulated: {name} must be a probability, got {flip!r}")
        self.final_judge_flip, self.step_judge_flip = float(final_judge_flip), float(step_judge_flip)
        self.batch_size, self.concurrency = batch_size, concurrency

    def respond(self, request: ChatRequest) -> tuple[str, str]:
        return self.answer(request), "stop"

    def answer(self, request: ChatRequest) -> str:
        """The answer to one request; a prompt of no known template is refused (PermanentError).

        A request that sends a JSON schema (``response_format``, structured outputs) gets the same
        decision as JSON of its template's shape (guiding.llm.schemas), as a constrained model writes it.
        """
        try:
            template, fields = identify(list(request.messages))
        except ValueError as e:
            raise PermanentError(f"simulated: {e}") from None
        seed = request.sampling.seed if request.sampling.seed is not None else request.key
        rng = random.Random(f"{seed}:{template.name}")
        if schema_in(request.response_format) is not None:
            structured = getattr(self, f"_{template.name}_json", None)
            if structured is None:
                raise PermanentError(f"simulated: template {template.name!r} has no JSON shape")
            return json.dumps(structured(request, fields, rng), ensure_ascii=False)
        return getattr(self, f"_{template.name}")(request, fields, rng)

    # ------------------------------------------------------------ one method per template

    # Each template with a JSON shape has a ``_<name>_json`` twin that makes the same decision
    # (the same draws from ``rng``) and returns it as that shape.

    def _subtasks(self, fields: dict, rng: random.Random) -> list[dict] | None:
        program = read_problem(fields["problem"])
        if program is None or len(program.steps) < int(fields["parts"]):
            return None
        task = {"id": "task", "program": program.to_dict()}
        return decompose(task, int(fields["parts"]), rng, self.shuffle)

    def _decompose(self, request: ChatRequest, fields: dict, rng: random.Random) -> str:
        subtasks = self._subtasks(fields, rng)
        if subtasks is None:
            return "I cannot split this solution into that many self-contained problems."
        items = [
            f"[[SUBTASK {i}]]\nProblem: {sub['problem']}\nSolution: {sub['solution']}\n[[END]]"
            for i, sub in enumerate(subtasks, start=1)
        ]
        return "\n".join(items)

    def _decompose_json(self, request: ChatRequest, fields: dict, rng: random.Random) -> dict:
        subtasks = self._subtasks(fields, rng) or []
        return {"subtasks": [{"problem": sub["problem"], "solution": sub["solution"]} for sub in subtasks]}

    def _teacher(self, request: ChatRequest) -> SimulatedTeacher:
        if request.model not in self.teachers:
            raise PermanentError(f"simulated: no teacher named {request.model!r} (known: {sorted(self.teachers)})")
        return self.teachers[request.model]

    def _solve(self, request: ChatRequest, fields: dict, rng: random.Random) -> str:
        teacher = self._teacher(request)
        program = read_problem(fields["problem"])
        if program is None:
            return "This problem does not define every quantity it uses, so it cannot be solved."
        return teacher.solve_program(program, rng)

    def _rewrite(self, request: ChatRequest, fields: dict, rng: random.Random) -> str:
        self._teacher(request)
        program = read_problem(fields["problem"])
        return reference_solution(program) if program is not None else fields["reference"]

    def _final_verdict(self, fields: dict, rng: random.Random) -> str:
        """ "1", "0" or "N/A"."""
        given, wanted = extract_answer(fields["solution"]), extract_answer(fields["reference"])
        if given is None or wanted is None:
            return "N/A"
        agrees = given.strip() == wanted.strip()
        return str(int(agrees != (rng.random() < self.final_judge_flip)))

    def _judge_final(self, request: ChatRequest, fields: dict, rng: random.Random) -> str:
        return f"Verdict: {self._final_verdict(fields, rng)}"

    def _judge_final_json(self, request: ChatRequest, fields: dict, rng: random.Random) -> dict:
        return {"verdict": self._final_verdict(fields, rng)}

    def _step_verdicts(self, fields: dict, rng: random.Random) -> list[bool] | None:
        program = read_problem(fields["problem"])
        if program is None:
            return None
        return [v != (rng.random() < self.step_judge_flip) for v in check_steps(program, fields["solution"])]

    def _judge_steps(self, request: ChatRequest, fields: dict, rng: random.Random) -> str:
        verdicts = self._step_verdicts(fields, rng)
        if verdicts is None:
            return "I cannot check a solution to a problem that is not well defined."
        return "\n".join(f"Step {i}: {int(v)}" for i, v in enumerate(verdicts, start=1))

    def _judge_steps_json(self, request: ChatRequest, fields: dict, rng: random.Random) -> dict:
        return {"steps": [int(v) for v in self._step_verdicts(fields, rng) or []]}

    @staticmethod
    def _well_defined(fields: dict) -> int:
        return int(read_problem(fields["problem"]) is not None and not ill_defined(fields["problem"]))

    def _filter_ill_defined(self, request: ChatRequest, fields: dict, rng: random.Random) -> str:
        return f"Answer: {self._well_defined(fields)}"

    def _filter_ill_defined_json(self, request: ChatRequest, fields: dict, rng: random.Random) -> dict:
        return {"answer": self._well_defined(fields)}

    def _filter_too_few_steps(self, request: ChatRequest, fields: dict, rng: random.Random) -> str:
        return f"Steps: {len(solution_steps(fields['solution']))}"

    def _filter_too_few_steps_json(self, request: ChatRequest, fields: dict, rng: random.Random) -> dict:
        return {"steps": len(solution_steps(fields["solution"]))}

    def _duplicate(self, fields: dict) -> int:
        sub, parent = read_problem(fields["problem"]), read_problem(fields["parent_problem"])
        if sub is None or parent is None:
            return 0
        return int(near_duplicate(len(sub.steps), len(parent.steps), self.near_duplicate_fraction))

    def _filter_near_duplicate(self, request: ChatRequest, fields: dict, rng: random.Random) -> str:
        return f"Answer: {self._duplicate(fields)}"

    def _filter_near_duplicate_json(self, request: ChatRequest, fields: dict, rng: random.Random) -> dict:
        return {"answer": self._duplicate(fields)}

    def _paraphrase(self, request: ChatRequest, fields: dict, rng: random.Random) -> str:
        rewrite = paraphrase_problem if fields["part"] == "problem" else paraphrase_solution
        return f"[[TEXT]]\n{rewrite(fields['text'], rng)}\n[[END]]"
