"""Helpers shared by the HuggingFace reference scripts in bench/hf/ (not run on its own).

Model sizes, the tokenizer built from our vocab file, and the 128-token blocking of plain
text used by trainer_baseline.py (training) and mlm_heldout_eval.py (scoring): each non-empty
line is tokenized without special tokens, all ids are concatenated, and every run of
block_size - 2 ids is wrapped as [CLS] ... [SEP] (one [CLS]/[SEP] pair per block, as our
instances have; run_mlm.py's group_texts would instead keep the [CLS]/[SEP] the tokenizer adds to
every line). A trailing remainder shorter than a full block is dropped, as group_texts does.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_VOCAB = os.path.join(REPO, "data", "vocab", "bert-base-uncased", "vocab.txt")
SHARED_CORPUS = os.path.join(os.path.dirname(REPO), "shared", "data", "corpus")

# (layers, hidden, heads, intermediate): the sizes of src/model/config.ts.
SIZES = {
    "tiny": (2, 128, 2, 512),
    "mini": (4, 256, 4, 1024),
    "small": (4, 512, 8, 2048),
    "medium": (8, 512, 8, 2048),
    "base": (12, 768, 12, 3072),
    "large": (24, 1024, 16, 4096),
}


def die(message: str) -> None:
    """One clear line on stderr, exit 1."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def load_tokenizer(vocab_path: str, lowercase: bool = True):
    """BertTokenizerFast over our vocab.txt. `vocab=` (not `vocab_file=`, which in transformers
    5.18 silently builds a 5-token vocabulary)."""
    from transformers import BertTokenizerFast

    if not os.path.isfile(vocab_path):
        die(f"{vocab_path}: no such vocab file")
    tok = BertTokenizerFast(vocab=vocab_path, do_lower_case=lowercase)
    with open(vocab_path, encoding="utf-8") as f:
        expected = sum(1 for _ in f)
    if tok.vocab_size != expected:
        die(f"{vocab_path}: tokenizer has {tok.vocab_size} tokens, the file {expected}")
    return tok


def text_blocks(tok, files: list[str], block_size: int = 128, max_blocks: int | None = None,
                chunk_lines: int = 20000) -> tuple[np.ndarray, float]:
    """[n, block_size] int64 blocks of the files (see the module docstring) and the seconds spent
    tokenizing. Stops reading once max_blocks blocks are complete."""
    started = time.perf_counter()
    body = block_size - 2
    ids: list[int] = []
    need = None if max_blocks is None else max_blocks * body

    def flush(lines: list[str]) -> None:
        for row in tok(lines, add_special_tokens=False)["input_ids"]:
            ids.extend(row)

    for path in files:
        if not os.path.isfile(path):
            die(f"{path}: no such text file")
        lines: list[str] = []
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line:
                    lines.append(line)
                if len(lines) >= chunk_lines:
                    flush(lines)
                    lines = []
                    if need is not None and len(ids) >= need:
                        break
        if lines and (need is None or len(ids) < need):
            flush(lines)
        if need is not None and len(ids) >= need:
            break
    n = len(ids) // body
    if max_blocks is not None:
        n = min(n, max_blocks)
    if n == 0:
        die(f"{', '.join(files)}: fewer than {body} tokens, not one {block_size}-token block")
    arr = np.asarray(ids[: n * body], dtype=np.int64).reshape(n, body)
    blocks = np.empty((n, block_size), dtype=np.int64)
    blocks[:, 0] = tok.cls_token_id
    blocks[:, 1:-1] = arr
    blocks[:, -1] = tok.sep_token_id
    return blocks, time.perf_counter() - started


def mlm_model(arch: str, size: str, vocab_size: int, pad_id: int, cls_id: int, sep_id: int,
              max_positions: int | None = None):
    """A freshly initialised HF masked-LM: `bert` (BertForMaskedLM, post-LN) or
    `roberta-prelayernorm` (RobertaPreLayerNormForMaskedLM, pre-LN). HF's default dropout (0.1),
    initializer_range 0.02, tied decoder."""
    layers, hidden, heads, inter = SIZES[size]
    common = dict(vocab_size=vocab_size, hidden_size=hidden, num_hidden_layers=layers,
                  num_attention_heads=heads, intermediate_size=inter, type_vocab_size=2,
                  pad_token_id=pad_id)
    if arch == "bert":
        from transformers import BertConfig, BertForMaskedLM

        cfg = BertConfig(max_position_embeddings=max_positions or 512, **common)
        return BertForMaskedLM(cfg)
    if arch == "roberta-prelayernorm":
        from transformers import RobertaPreLayerNormConfig, RobertaPreLayerNormForMaskedLM

        # RoBERTa numbers positions from pad_id + 1, so 512 tokens need 514 rows.
        cfg = RobertaPreLayerNormConfig(max_position_embeddings=max_positions or 514,
                                        bos_token_id=cls_id, eos_token_id=sep_id, **common)
        return RobertaPreLayerNormForMaskedLM(cfg)
    die(f"--arch: expected bert or roberta-prelayernorm, got {arch}")
    return None


def default_corpus(names: list[str]) -> list[str]:
    return [os.path.join(SHARED_CORPUS, n) for n in names]
