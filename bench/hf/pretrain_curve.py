#!/usr/bin/env python3
"""Learning curve of HF BertForPreTraining trained on OUR pretraining instances.

Instances are the JSON lines `bert data inspect --json` prints (input_ids, token_type_ids,
masked_positions, original_ids, is_random_next), read in file order, --batch-size per step: the
order our `bert pretrain` consumes them with the same config and seed. Optimizer: torch AdamW
(torch's bias correction) with decoupled weight decay on every weight except biases and LayerNorm
(google-research/bert's exclusion), global-norm gradient clipping, learning rate warmed up linearly
from 0 over --warmup-steps and decayed linearly to 0 at --schedule-steps (the rate of the k-th
update, k from 0, is that of src/train/schedule.ts). The MLM head is applied to the masked
positions only (the same gradients as HF's full-sequence logits, cheaper); MLM loss is the mean
over the step's masked positions, as ours.

Output: per --every steps (default 50) the means of the per-step train MLM loss, NSP loss, MLM
accuracy and NSP accuracy; a table on stdout, or JSON lines with --jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hf_common import SIZES, die  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--instances", required=True,
                   help="JSON-lines file of instances (`bert data inspect --json` output); - = stdin")
    p.add_argument("--size", choices=sorted(SIZES), default="tiny",
                   help="model size (tiny = L2/H128/A2, intermediate 512)")
    p.add_argument("--vocab-size", type=int, default=30522, help="vocabulary size (default 30522)")
    p.add_argument("--steps", type=int, required=True, help="optimizer steps to run")
    p.add_argument("--schedule-steps", type=int, default=None,
                   help="steps the linear decay reaches 0 at (default --steps; ours: train.max_steps)")
    p.add_argument("--batch-size", type=int, default=32, help="instances per step (default 32)")
    p.add_argument("--lr", type=float, required=True, help="peak learning rate")
    p.add_argument("--warmup-steps", type=int, default=0, help="linear warm-up steps (default 0)")
    p.add_argument("--beta1", type=float, default=0.9, help="Adam beta1 (default 0.9)")
    p.add_argument("--beta2", type=float, default=0.999, help="Adam beta2 (default 0.999)")
    p.add_argument("--eps", type=float, default=1e-6, help="Adam epsilon (default 1e-6, ours)")
    p.add_argument("--weight-decay", type=float, default=0.01,
                   help="decoupled weight decay, not on biases/LayerNorm (default 0.01)")
    p.add_argument("--max-grad-norm", type=float, default=1.0, help="global-norm clip; 0 = none")
    p.add_argument("--dropout", type=float, default=0.1, help="hidden and attention dropout")
    p.add_argument("--seed", type=int, default=1, help="torch seed: initial weights and dropout")
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    p.add_argument("--every", type=int, default=50, help="steps per averaged row (default 50)")
    p.add_argument("--jsonl", action="store_true", help="JSON lines instead of a table")
    return p.parse_args(argv)


def read_instances(path: str, need: int) -> list[dict]:
    f = sys.stdin if path == "-" else open(path, encoding="utf-8")
    out = []
    try:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
                out.append({k: r[k] for k in ("input_ids", "token_type_ids", "masked_positions",
                                              "original_ids", "is_random_next")})
            except (ValueError, KeyError) as e:
                die(f"{path}:{n}: not a `bert data inspect --json` instance ({e})")
            if len(out) >= need:
                break
    finally:
        if f is not sys.stdin:
            f.close()
    if len(out) < need:
        die(f"{path}: {len(out)} instances, {need} needed (--steps x --batch-size)")
    return out


def collate(rows: list[dict]):
    import torch

    b = len(rows)
    t = max(len(r["input_ids"]) for r in rows)
    ids = torch.zeros(b, t, dtype=torch.long)
    types = torch.zeros(b, t, dtype=torch.long)
    att = torch.zeros(b, t, dtype=torch.long)
    rows_i, cols_i, labels = [], [], []
    for i, r in enumerate(rows):
        n = len(r["input_ids"])
        ids[i, :n] = torch.tensor(r["input_ids"])
        types[i, :n] = torch.tensor(r["token_type_ids"])
        att[i, :n] = 1
        for p in r["masked_positions"]:
            rows_i.append(i)
            cols_i.append(p)
            labels.append(r["original_ids"][p])
    nsp = torch.tensor([1 if r["is_random_next"] else 0 for r in rows], dtype=torch.long)
    return ids, types, att, torch.tensor(rows_i), torch.tensor(cols_i), torch.tensor(labels), nsp


def main(argv=None) -> None:
    args = parse_args(argv)
    import torch
    from transformers import BertConfig, BertForPreTraining

    schedule_steps = args.schedule_steps or args.steps
    if args.steps < 1 or args.batch_size < 1 or args.every < 1:
        die("--steps, --batch-size and --every must be positive")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    instances = read_instances(args.instances, args.steps * args.batch_size)
    layers, hidden, heads, inter = SIZES[args.size]
    cfg = BertConfig(vocab_size=args.vocab_size, hidden_size=hidden, num_hidden_layers=layers,
                     num_attention_heads=heads, intermediate_size=inter,
                     hidden_dropout_prob=args.dropout, attention_probs_dropout_prob=args.dropout)
    model = BertForPreTraining(cfg)
    model.train()
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if name.endswith("bias") or "LayerNorm" in name else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(args.beta1, args.beta2), eps=args.eps)

    def lr_factor(step: int) -> float:  # src/train/schedule.ts, linear decay
        if step < args.warmup_steps:
            return step / max(1, args.warmup_steps)
        progress = min(1.0, (step - args.warmup_steps) / max(1, schedule_steps - args.warmup_steps))
        return 1.0 - progress

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
    ce = torch.nn.functional.cross_entropy
    window: list[tuple[float, float, float, float, float]] = []
    if not args.jsonl:
        print(f"{'step':>6} {'mlm loss':>9} {'nsp loss':>9} {'mlm acc':>8} {'nsp acc':>8} {'lr':>9}"
              f" {'s/step':>7}", flush=True)
    started = time.perf_counter()
    for step in range(args.steps):
        rows = instances[step * args.batch_size:(step + 1) * args.batch_size]
        ids, types, att, ri, ci, labels, nsp = collate(rows)
        lr = opt.param_groups[0]["lr"]
        out = model.bert(input_ids=ids, token_type_ids=types, attention_mask=att)
        seq, pooled = out[0], out[1]
        mlm_logits = model.cls.predictions(seq[ri, ci])
        nsp_logits = model.cls.seq_relationship(pooled)
        mlm_loss = ce(mlm_logits, labels)
        nsp_loss = ce(nsp_logits, nsp)
        opt.zero_grad(set_to_none=True)
        (mlm_loss + nsp_loss).backward()
        if args.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
        opt.step()
        sched.step()
        with torch.no_grad():
            mlm_acc = (mlm_logits.argmax(-1) == labels).float().mean().item()
            nsp_acc = (nsp_logits.argmax(-1) == nsp).float().mean().item()
        loss_pair = (mlm_loss.item(), nsp_loss.item())
        if not all(v == v and abs(v) != float("inf") for v in loss_pair):
            die(f"step {step + 1}: non-finite loss {loss_pair}")
        window.append((*loss_pair, mlm_acc, nsp_acc, lr))
        if len(window) == args.every or step + 1 == args.steps:
            k = len(window)
            row = {
                "step": step + 1,
                "steps_averaged": k,
                "mlm_loss": sum(w[0] for w in window) / k,
                "nsp_loss": sum(w[1] for w in window) / k,
                "mlm_accuracy": sum(w[2] for w in window) / k,
                "nsp_accuracy": sum(w[3] for w in window) / k,
                "lr": window[-1][4],
                "seed": args.seed,
                "s_per_step": (time.perf_counter() - started) / (step + 1),
            }
            window = []
            if args.jsonl:
                print(json.dumps(row), flush=True)
            else:
                print(f"{row['step']:>6} {row['mlm_loss']:>9.4f} {row['nsp_loss']:>9.4f} "
                      f"{100 * row['mlm_accuracy']:>7.2f}% {100 * row['nsp_accuracy']:>7.2f}% "
                      f"{row['lr']:>9.2e} {row['s_per_step']:>7.3f}", flush=True)


if __name__ == "__main__":
    main()
