#!/usr/bin/python3
"""PyTorch's figures for the work `lpt bench vit` measures, on the same machine in the same run.

ViT-B/16 (torchvision vit_b_16, random weights) at 224x224, images/s for:
  forward  - inference, no grad;
  phase1   - one LPT phase-1 step: 10 deep prompt tokens per layer appended as real tokens
             (the reference code's route), frozen backbone, cosine head, SGD on prompts+head;
  phase2   - one phase-2 step as the reference code runs it: a full no-grad query pass with
             the shared prompts, top-2 key matching, then a full main pass with shared +
             group prompts in layers 6-11, backward and SGD on pool, keys and head.

Run with OMP_WAIT_POLICY=PASSIVE and the thread count of the machine (set by the caller):
    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 scripts/bench_torch_vit.py --batch 8 --threads 2
Prints one JSON object. Needs Debian's python3-torch and python3-torchvision.
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F
import torchvision

PROMPTS = 10
POOL = 20
CLASSES = 10


def embed(model, images):
    x = model._process_input(images)
    cls = model.class_token.expand(x.shape[0], -1, -1)
    x = torch.cat([cls, x], dim=1)
    return model.encoder.dropout(x + model.encoder.pos_embedding)


def run_layers(model, x, prompts_for_layer, first, last):
    """Runs layers [first, last) with prompt tokens appended per layer and dropped after."""
    tokens = x.shape[1]
    for i in range(first, last):
        p = prompts_for_layer(i)
        if p is not None:
            x = torch.cat([x, p], dim=1)
        x = model.encoder.layers[i](x)[:, :tokens]
    return x


def feature(model, x):
    return model.encoder.ln(x)[:, 0]


def timed(fn, seconds):
    fn()  # warm-up
    count, start = 0, time.perf_counter()
    while True:
        fn()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return elapsed / count


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--what", default="forward,phase1,phase2")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = torchvision.models.vit_b_16(weights=None).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    layers, width, batch = len(model.encoder.layers), model.hidden_dim, args.batch
    images = torch.randn(batch, 3, 224, 224)
    labels = torch.randint(0, CLASSES, (batch,))
    shared = (torch.randn(layers, PROMPTS, width) * 0.02).requires_grad_()
    pool = (torch.randn(POOL, layers // 2, PROMPTS, width) * 0.02).requires_grad_()
    keys = (torch.randn(POOL, width) * 0.02).requires_grad_()
    head = torch.randn(CLASSES, width).requires_grad_()
    result = {"torch": torch.__version__, "threads": torch.get_num_threads(), "batch": batch}

    def logits(f):
        return 20.0 * F.normalize(f, dim=-1) @ F.normalize(head, dim=-1).t()

    def forward():
        with torch.no_grad():
            model(images)

    def phase1():
        x = run_layers(model, embed(model, images),
                       lambda i: shared[i].expand(batch, -1, -1), 0, layers)
        loss = F.cross_entropy(logits(feature(model, x)), labels)
        loss.backward()
        with torch.no_grad():
            for t in (shared, head):
                t -= 0.01 * t.grad
                t.grad = None

    def phase2():
        frozen = shared.detach()  # phase 2 trains the pool, the keys and the head only
        x0 = embed(model, images)
        with torch.no_grad():  # the query pass: a full phase-1 model
            q = feature(model, run_layers(model, x0, lambda i: frozen[i].expand(batch, -1, -1),
                                          0, layers))
        sim = F.normalize(q, dim=-1) @ F.normalize(keys, dim=-1).t()
        top = sim.topk(2, dim=-1).indices
        group = pool[top].mean(dim=1)  # [B, L/2, P, C]

        def prompts(i):
            p = frozen[i].expand(batch, -1, -1)
            if i >= layers // 2:
                p = torch.cat([p, group[:, i - layers // 2]], dim=1)
            return p

        x = run_layers(model, x0, prompts, 0, layers)
        key_loss = -0.5 * F.cosine_similarity(q.unsqueeze(1), keys[top], dim=-1).sum(1).mean()
        loss = F.cross_entropy(logits(feature(model, x)), labels) + key_loss
        loss.backward()
        with torch.no_grad():
            for t in (pool, keys, head):
                t -= 0.01 * t.grad
                t.grad = None

    for name, fn in (("forward", forward), ("phase1", phase1), ("phase2", phase2)):
        if name in args.what.split(","):
            result[name + "_images_per_s"] = batch / timed(fn, args.seconds)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
