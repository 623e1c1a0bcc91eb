"""A converter answering in this process, for the conversion tests: the source items it knows and
the replies a model might give them, well-formed in several formats and malformed.

``guiding serve --backend conversion_backend:ScriptedConverter`` (this folder on PYTHONPATH) puts
it behind an OpenAI-compatible endpoint; a RoleSpec with that backend name asks it directly.
"""

from guiding.llm.backends.in_process import InProcessBackend
from guiding.llm.prompts import identify

# Multiple-choice items as AGIEval's sat-math.jsonl holds them (question, options, label), each with
# the converter's reply (None: no request is expected) and what the conversion must give.
MULTIPLE_CHOICE = [
    {
        "question": "What is 2 + 3?",
        "options": ["(A)4", "(B)5", "(C)6", "(D)7"],
        "label": "B",
        "reply": "[[QUESTION]]\nWhat is 2 + 3?\n[[ANSWER]]\n5\n[[END]]",
        "expect": ("What is 2 + 3?", "5"),
    },
    {
        "question": "Solve 2x = 8 for x. Which of the following is x?",
        "options": ["(A)1", "(B)2", "(C)3", "(D)$4$"],
        "label": "D",
        "reply": "**Question:** Solve 2x = 8 for x. What is x?\n\n**Answer:** (D) $4$\n\nHope this helps!",
        "expect": ("Solve 2x = 8 for x. What is x?", "4"),
    },
    {
        "question": "Which of the following statements about f(x) = x^2 is true?",
        "options": ["(A)f is odd", "(B)f is even", "(C)f is linear", "(D)f is constant"],
        "label": "B",
        "reply": "The options are statements to judge.\n[[DROP]] statements",
        "expect": "dropped_statements",
    },
    {
        "question": "Which numbers are prime?",
        "options": ["(A)2", "(B)4", "(C)5", "(D)9"],
        "label": "AC",
        "reply": None,
        "expect": "several_correct_options",
    },
    {
        "question": "How many primes are below 10?",
        "options": None,
        "label": "4",
        "reply": None,
        "expect": ("How many primes are below 10?", "4"),
    },
    {
        "question": "What is 10 / 2?",
        "options": ["(A)2", "(B)3", "(C)5", "(D)8"],
        "label": "C",
        "reply": "Question: What is 10 / 2? (A) 2 (B) 3 (C) 5 (D) 8\nAnswer: 5",
        "expect": "options_left_in_question",
    },
    {
        "question": "What is 1 + 1?",
        "options": ["(A)2", "(B)3", "(C)4", "(D)5"],
        "label": "A",
        "reply": 'Sure.\n```json\n{"question": "What is 1 + 1?", "answer": "A) 2"}\n```',
        "expect": ("What is 1 + 1?", "2"),
    },
]

# Chinese cloze items as AGIEval's gaokao-mathcloze.jsonl holds them (question, answer).
CLOZE = [
    {
        "question": "已知 $x+1=3$, 则 $x=(\\quad)$",
        "answer": "2",
        "reply": "[[TRANSLATION]]\nGiven $x+1=3$, then $x=(\\quad)$.\n[[END]]",
        "expect": ("Given $x+1=3$, then $x=(\\quad)$.", "2"),
    },
    {
        "question": "已知 $a=2$, $b=3$, 则 $a+b=(\\quad)$, $a b=(\\quad)$",
        "answer": "$5$;$6$",
        "reply": "Here is the translation:\nGiven $a=2$, $b=3$, then $a+b=(\\quad)$ and $a b=(\\quad)$.",
        "expect": ("Given $a=2$, $b=3$, then $a+b=(\\quad)$ and $a b=(\\quad)$.", "$5$;$6$"),
    },
    {
        "question": "函数 $f(x)=x^{2}$, 则 $f(3)=(\\quad)$",
        "answer": "9",
        "reply": "[[TRANSLATION]]\n函数 $f(x)=x^{2}$, 则 $f(3)=(\\quad)$\n[[END]]",
        "expect": "not_translated",
    },
]

REPLIES = {item["question"]: item["reply"] for item in MULTIPLE_CHOICE + CLOZE if item["reply"] is not None}


class ScriptedConverter(InProcessBackend):
    """Answers the convert_open and translate prompts with the scripted reply of the item asked about."""

    batch_size = 1

    def __init__(self, endpoint: str = "scripted", concurrency: int = 8):
        self.identity = endpoint
        self.concurrency = concurrency

    def respond(self, request):
        template, fields = identify(list(request.messages))
        if template.name not in ("convert_open", "translate"):
            raise ValueError(f"the scripted converter answers no {template.name!r} prompt")
        return REPLIES[fields["question"]], "stop"
