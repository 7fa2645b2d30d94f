#!/usr/bin/env python3
"""Held-out masked-LM score of one HuggingFace model directory: the one evaluator for both sides of
the pretraining comparison (our `bert export --format hf` directories and HF's own checkpoints).

The model is loaded with AutoModelForMaskedLM (BertForPreTraining / BertForMaskedLM exports,
RobertaPreLayerNormForMaskedLM, ...). The text is cut into 128-token blocks exactly as
trainer_baseline.py cuts its training text ([CLS] + 126 word pieces + [SEP] per block, see
hf_common.py) and the first --blocks blocks are scored. Masking is fixed by --seed and independent
of the model: every non-special token is chosen with probability 0.15 (at least one per block);
a chosen token becomes [MASK] with probability 0.8, a random vocabulary token (never a bracketed
token such as [PAD] or [unused0]) with probability 0.1, and stays unchanged otherwise. So every
model sees the same inputs and is asked for the same tokens.

Prints one JSON line: held-out MLM loss (mean cross-entropy over masked positions, nats), MLM
accuracy (top-1), and the number of distinct top-1 predictions over the masked positions (1 means
the representation collapsed to a single prediction).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hf_common import DEFAULT_VOCAB, default_corpus, die, load_tokenizer, text_blocks  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model_dir", help="HF model directory (config.json + weights)")
    p.add_argument("--text", default=default_corpus(["gutenberg_03.txt"])[0],
                   help="held-out text file (default ../shared/data/corpus/gutenberg_03.txt)")
    p.add_argument("--vocab", default=DEFAULT_VOCAB,
                   help="vocab.txt used to tokenize (default: our bert-base-uncased vocab); a "
                   "vocab.txt in the model directory must be identical")
    p.add_argument("--cased", action="store_true", help="do not lower-case (default: uncased)")
    p.add_argument("--blocks", type=int, default=400, help="blocks scored (default 400)")
    p.add_argument("--block-size", type=int, default=128, help="tokens per block (default 128)")
    p.add_argument("--mask-prob", type=float, default=0.15, help="masking rate (default 0.15)")
    p.add_argument("--seed", type=int, default=12345, help="masking seed (default 12345)")
    p.add_argument("--batch-size", type=int, default=16, help="blocks per forward (default 16)")
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    p.add_argument("--label", default=None, help="free text copied into the JSON line")
    return p.parse_args(argv)


def fixed_masking(blocks: np.ndarray, special: set[int], replaceable: np.ndarray,
                  mask_id: int, prob: float, seed: int):
    """(inputs, labels) with labels -100 where nothing is predicted; depends only on the blocks and
    the seed."""
    rng = np.random.default_rng(seed)
    n, t = blocks.shape
    eligible = ~np.isin(blocks, np.fromiter(special, dtype=np.int64))
    chosen = (rng.random((n, t)) < prob) & eligible
    for i in np.nonzero(~chosen.any(axis=1))[0]:  # at least one prediction per block
        cand = np.nonzero(eligible[i])[0]
        chosen[i, cand[rng.integers(len(cand))]] = True
    action = rng.random((n, t))
    random_ids = replaceable[rng.integers(len(replaceable), size=(n, t))]
    inputs = blocks.copy()
    inputs[chosen & (action < 0.8)] = mask_id
    swap = chosen & (action >= 0.8) & (action < 0.9)
    inputs[swap] = random_ids[swap]
    labels = np.where(chosen, blocks, -100)
    return inputs, labels


def main(argv=None) -> None:
    args = parse_args(argv)
    import torch
    from transformers import AutoModelForMaskedLM

    torch.set_num_threads(args.threads)
    if not os.path.isfile(os.path.join(args.model_dir, "config.json")):
        die(f"{args.model_dir}: no config.json (expected a HF model directory)")
    own_vocab = os.path.join(args.model_dir, "vocab.txt")
    if os.path.isfile(own_vocab):
        with open(own_vocab, "rb") as a, open(args.vocab, "rb") as b:
            if a.read() != b.read():
                die(f"{own_vocab}: differs from {args.vocab} (the evaluator tokenizes with one vocab "
                    "for every model; pass --vocab)")
    tok = load_tokenizer(args.vocab, lowercase=not args.cased)
    blocks, tok_s = text_blocks(tok, [args.text], args.block_size, args.blocks)
    if len(blocks) < args.blocks:
        die(f"{args.text}: only {len(blocks)} blocks of {args.block_size} tokens, {args.blocks} asked")
    vocab_tokens = tok.convert_ids_to_tokens(list(range(tok.vocab_size)))
    replaceable = np.array([i for i, w in enumerate(vocab_tokens)
                            if not (w.startswith("[") and w.endswith("]"))], dtype=np.int64)
    special = {tok.cls_token_id, tok.sep_token_id, tok.pad_token_id, tok.mask_token_id,
               tok.unk_token_id}
    inputs, labels = fixed_masking(blocks, special, replaceable, tok.mask_token_id,
                                   args.mask_prob, args.seed)

    model = AutoModelForMaskedLM.from_pretrained(args.model_dir)
    model.eval()
    if model.config.vocab_size < tok.vocab_size:
        die(f"{args.model_dir}: vocab_size {model.config.vocab_size} < {tok.vocab_size} of {args.vocab}")
    started = time.perf_counter()
    loss_sum, correct, count = 0.0, 0, 0
    predictions: list[np.ndarray] = []
    with torch.no_grad():
        for s in range(0, len(inputs), args.batch_size):
            x = torch.from_numpy(inputs[s:s + args.batch_size])
            y = torch.from_numpy(labels[s:s + args.batch_size])
            out = model(input_ids=x, attention_mask=torch.ones_like(x),
                        token_type_ids=torch.zeros_like(x))
            sel = y != -100
            logits = out.logits[sel].float()
            target = y[sel]
            loss_sum += torch.nn.functional.cross_entropy(logits, target, reduction="sum").item()
            top1 = logits.argmax(dim=-1)
            correct += int((top1 == target).sum())
            count += int(target.numel())
            predictions.append(top1.numpy())
    top = np.concatenate(predictions)
    print(json.dumps({
        "model": args.model_dir,
        "label": args.label,
        "architecture": type(model).__name__,
        "text": os.path.basename(args.text),
        "blocks": int(len(blocks)),
        "masked": count,
        "mlm_loss": loss_sum / count,
        "mlm_accuracy": correct / count,
        "distinct_predictions": int(len(np.unique(top))),
        "seed": args.seed,
        "tokenize_s": round(tok_s, 2),
        "eval_s": round(time.perf_counter() - started, 2),
    }))


if __name__ == "__main__":
    main()
