"""PyTorch reference of one IWAE/VAE training step, for side-by-side timing with ours (`iwae bench`).

Same model (784-200-200-(2x50) encoder, 50-200-200-784 decoder, tanh, Bernoulli logits), objective and
optimizer (Adam, lr 1e-3, betas 0.9/0.999, eps 1e-4) as the study's PyTorch code. It is a server: it
reads commands on stdin, one per line, and answers one JSON line on stdout, so the caller can alternate
A/B timing blocks with its own step in one invocation:

  {"cmd": "steps", "n": 50}   -> {"ms": [per-step milliseconds, ...]}
  {"cmd": "info"}             -> {"torch": "...", "threads": N}
  {"cmd": "quit"}
"""
import argparse
import json
import math
import sys
import time

import torch
from torch import nn


class Model(nn.Module):
    def __init__(self, hidden=200, latent=50, pixels=784):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(pixels, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 2 * latent)
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, pixels)
        )
        self.latent = latent

    def loss(self, x, k, objective):
        stats = self.encoder(x)
        mu, logvar = stats[:, : self.latent], stats[:, self.latent :]
        std = torch.exp(0.5 * logvar)
        eps = torch.randn(x.shape[0], k, self.latent)
        z = mu.unsqueeze(1) + std.unsqueeze(1) * eps
        logits = self.decoder(z)
        xk = x.unsqueeze(1)
        log_px = (xk * logits - nn.functional.softplus(logits)).sum(-1)
        if objective == "vae":
            kl = 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(-1)
            return (-log_px.mean(1) + kl).mean()
        log_pz = -0.5 * (z.pow(2) + math.log(2 * math.pi)).sum(-1)
        log_qz = -0.5 * (eps.pow(2) + logvar.unsqueeze(1) + math.log(2 * math.pi)).sum(-1)
        log_w = log_px + log_pz - log_qz
        bound = torch.logsumexp(log_w, 1) - math.log(k)
        return -bound.mean()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--objective", choices=["iwae", "vae"], default="iwae")
    parser.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = Model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-4)
    # Binarized random images: the step's cost does not depend on pixel values.
    batches = [torch.bernoulli(torch.full((args.batch, 784), 0.13)) for _ in range(64)]

    def step(i):
        optimizer.zero_grad()
        loss = model.loss(batches[i % len(batches)], args.k, args.objective)
        loss.backward()
        optimizer.step()
        return loss.item()

    # readline, not `for line in sys.stdin`: each command must be answered as soon as its line arrives.
    while True:
        line = sys.stdin.readline()
        if not line:
            break
        cmd = json.loads(line)
        if cmd["cmd"] == "steps":
            ms = []
            for i in range(int(cmd["n"])):
                t0 = time.perf_counter()
                step(i)
                ms.append((time.perf_counter() - t0) * 1000)
            print(json.dumps({"ms": ms}), flush=True)
        elif cmd["cmd"] == "info":
            print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
        elif cmd["cmd"] == "quit":
            break


if __name__ == "__main__":
    main()
