"""The embedded default's student: a tokenizer trained on the generated corpus and a tiny
Llama-architecture model created from a config (no download). Saved with ``save_pretrained``
so that every later rule loads it exactly as it would load a hub model."""

from __future__ import annotations

from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

PAD, EOS, USER, ASSISTANT = "<|pad|>", "<|eos|>", "<|user|>", "<|assistant|>"

# The assistant turn ends in EOS, so generation stops where the training completions stopped.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'user' %}" + USER + "\n{{ message['content'] }}\n"
    "{% elif message['role'] == 'assistant' %}" + ASSISTANT + "\n{{ message['content'] }}{{ eos_token }}"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}" + ASSISTANT + "\n{% endif %}"
)


def train_tokenizer(texts: list[str], vocab_size: int):
    """Byte-level BPE with every digit its own token (numbers are read digit by digit)."""
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[PAD, EOS, USER, ASSISTANT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token=PAD, eos_token=EOS, bos_token=None, padding_side="left"
    )
    wrapped.chat_template = CHAT_TEMPLATE
    return wrapped


def create_model(tokenizer, architecture: dict, seed: int):
    """A randomly initialised LlamaForCausalLM sized by ``architecture`` (LlamaConfig fields)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
        **architecture,
    )
    return LlamaForCausalLM(config)


class TinyStudentBase:
    """The tokenizer and tiny Llama of the ``student`` config section, built from the corpus."""

    def __init__(self, vocab_size: int, architecture: dict, seed: int = 0):
        self.seed, self.vocab_size, self.architecture = seed, vocab_size, architecture

    def build(self, texts: list[str], out_dir: str | Path) -> dict:
        return build_student_base(texts, out_dir, self.vocab_size, self.architecture, self.seed)


def build_student_base(texts: list[str], out_dir: str | Path, vocab_size: int, architecture: dict, seed: int) -> dict:
    tokenizer = train_tokenizer(texts, vocab_size)
    model = create_model(tokenizer, architecture, seed)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    out_dir = Path(out_dir)
    tokenizer.save_pretrained(out_dir)
    model.save_pretrained(out_dir)
    return {"vocab_size": len(tokenizer), "parameters": sum(p.numel() for p in model.parameters())}
