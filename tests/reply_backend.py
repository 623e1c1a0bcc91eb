"""A backend that gives every request the same reply, with a chosen finish reason and reasoning
returned apart: how a reasoning model behind vLLM or DeepSeek's API answers, for the reply tests.

``guiding serve --backend reply_backend:ScriptedReply --option reply=...`` (this folder on
PYTHONPATH) puts it behind an OpenAI-compatible endpoint; a RoleSpec with that backend asks it
directly. ``fail_after``: answers that many requests, then refuses every other one (a job that
stops midway).
"""

from guiding.llm.backends import PermanentError
from guiding.llm.backends.in_process import InProcessBackend
from guiding.llm.requests import Completion


class ScriptedReply(InProcessBackend):
    def __init__(
        self,
        endpoint: str = "scripted",
        reply: str = "",
        finish: str = "stop",
        reasoning: str | None = None,
        fail_after: int | None = None,
    ):
        self.identity, self.reply, self.finish, self.reasoning = endpoint, reply, finish, reasoning
        self.fail_after, self.answered = fail_after, 0
        self.batch_size, self.concurrency = 1, 1

    async def complete(self, requests):
        if self.fail_after is not None and self.answered >= self.fail_after:
            raise PermanentError("scripted: no more answers")
        self.answered += len(requests)
        return [Completion(self.reply, self.finish, 3, 5, 0.0, self.reasoning) for _ in requests]
