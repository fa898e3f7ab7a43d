"""PyTorch references of one training iteration, for side-by-side timing with ours (`iwae bench`).

Both train the study's model (784-200-200-(2x50) encoder, 50-200-200-784 decoder, tanh, Bernoulli
output) on the same objective with the same optimizer (Adam, lr 1e-3, betas 0.9/0.999, eps 1e-4). One
iteration = get a dynamically binarized batch, forward, backward, Adam step, read the loss values back.
They differ in how they compute it:

  study  what the study's own PyTorch code (iwae.py) does per iteration: a Dataset that binarizes one image
         per __getitem__ with torch.distributions.Bernoulli, fed by a DataLoader (batch 20, shuffled); a
         decoder ending in Sigmoid, log p(x|z) from torch.distributions.Bernoulli(probs) and the prior and
         posterior from torch.distributions.Normal; the IWAE loss as -(w~ * log w) with detached
         normalized weights (the study's 'original' mode), which has the gradient of -L_k, plus the
         log-likelihood, reconstruction and KL figures it logs; loss, NLL and KL read with .item().
         The VAE: binary cross-entropy against x repeated k times plus the closed-form KL.
  lean   a tight rewrite of the same iteration: one torch.bernoulli per batch, Bernoulli log-likelihood
         from logits (x l - softplus(l)), log-sum-exp for -L_k, one .item().

Progress bars and TensorBoard writes of the study's loop are left out of both (ours has none per step).
It is a server: it reads commands on stdin, one per line, and answers one JSON line on stdout, so the
caller can alternate timing blocks with its own iteration in one invocation:

  {"cmd": "steps", "n": 50, "style": "study"}  -> {"ms": [per-iteration milliseconds, ...]}
  {"cmd": "loss", "seed": 3}                   -> {"lean": float, "study": float}  (-L_k or the VAE loss
                                                  of both models from the same weights, data
                                                  and noise: a check that they compute the same objective)
  {"cmd": "info"}                              -> {"torch": "...", "threads": N, "styles": [...]}
  {"cmd": "quit"}
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.distributions as dists
from torch import nn
from torch.utils.data import DataLoader, Dataset

PIXELS, SIDE, HIDDEN, LATENT = 784, 28, 200, 50


def mlp(sizes, last=None):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i + 2 < len(sizes):
            layers.append(nn.Tanh())
    if last is not None:
        layers.append(last)
    return nn.Sequential(*layers)


def grey_images(count, seed):
    """Grey levels in [0, 1] with MNIST's mix (80.9 % are 0, 0.7 % are 1, the rest in between), as ours
    (lib/perf/our-step.ts) uses; the iterations' cost does not depend on the values themselves."""
    g = torch.Generator().manual_seed(seed)
    u = torch.rand(count, PIXELS, generator=g)
    return torch.where(u < 0.809, 0.0, torch.where(u < 0.816, 1.0, torch.rand(count, PIXELS, generator=g)))


class StudyModel(nn.Module):
    """The study's formulation: Sigmoid outputs and torch.distributions log-probabilities."""

    def __init__(self, k, objective):
        super().__init__()
        self.k, self.objective = k, objective
        self.encoder = nn.Sequential(nn.Flatten(), *mlp([PIXELS, HIDDEN, HIDDEN, 2 * LATENT]))
        self.decoder = mlp([LATENT, HIDDEN, HIDDEN, PIXELS], last=nn.Sigmoid())

    def forward(self, x, eps):
        mean, log_var = torch.chunk(self.encoder(x), 2, dim=1)
        mean, log_var = mean.unsqueeze(1), log_var.unsqueeze(1)
        z = mean + torch.exp(0.5 * log_var) * eps
        probs = self.decoder(z).view(-1, self.k, 1, SIDE, SIDE)
        return probs, z, mean, log_var

    def losses(self, x, eps):
        """(loss, reconstruction, KL), as the study's compute_loss returns them."""
        probs, z, mean, log_var = self.forward(x, eps)
        if self.objective == "vae":
            target = x.unsqueeze(1).repeat(1, self.k, 1, 1, 1)
            nll = nn.functional.binary_cross_entropy(probs, target, reduction="none").sum(dim=(2, 3, 4)).mean()
            kl = 0.5 * (mean.squeeze(1) ** 2 + log_var.squeeze(1).exp() - log_var.squeeze(1) - 1).sum(1).mean()
            return nll + kl, nll, kl
        log_px = dists.Bernoulli(probs).log_prob(x.unsqueeze(1)).sum(dim=(2, 3, 4))
        log_prior = dists.Normal(0, 1).log_prob(z).sum(2)
        log_posterior = dists.Normal(mean, torch.exp(0.5 * log_var)).log_prob(z).sum(2)
        log_w = log_px + log_prior - log_posterior
        _log_likelihood = (torch.logsumexp(log_w, 1) - math.log(self.k)).mean()
        w = torch.exp(log_w - log_w.max(1, keepdim=True)[0])
        w_tilde = (w / w.sum(1, keepdim=True)).detach()
        loss = -(w_tilde * log_w).sum(1).mean()
        reconstruction = -(w_tilde * log_px).sum(1).mean()
        kl = (w_tilde * (log_posterior - log_prior)).sum(1).mean()
        return loss, reconstruction, kl


class LeanModel(nn.Module):
    """The same model and objective with logits and log-sum-exp."""

    def __init__(self, k, objective):
        super().__init__()
        self.k, self.objective = k, objective
        self.encoder = mlp([PIXELS, HIDDEN, HIDDEN, 2 * LATENT])
        self.decoder = mlp([LATENT, HIDDEN, HIDDEN, PIXELS])

    def loss(self, x, eps):
        mean, log_var = self.encoder(x).chunk(2, dim=1)
        z = mean.unsqueeze(1) + torch.exp(0.5 * log_var).unsqueeze(1) * eps
        logits = self.decoder(z)
        log_px = (x.unsqueeze(1) * logits - nn.functional.softplus(logits)).sum(-1)
        if self.objective == "vae":
            kl = 0.5 * (mean.pow(2) + log_var.exp() - log_var - 1).sum(-1)
            return (-log_px.mean(1) + kl).mean()
        log_w = log_px - 0.5 * z.pow(2).sum(-1) + 0.5 * (eps.pow(2) + log_var.unsqueeze(1)).sum(-1)
        return -(torch.logsumexp(log_w, 1) - math.log(self.k)).mean()


class BinarizedImages(Dataset):
    """The study's data pipeline: one Bernoulli draw per image, per __getitem__, shaped [1, 28, 28]."""

    def __init__(self, grey):
        self.grey = grey.view(-1, 1, SIDE, SIDE)

    def __len__(self):
        return len(self.grey)

    def __getitem__(self, index):
        return dists.Bernoulli(self.grey[index]).sample().type(torch.float32)


def adam(model):
    return torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-4)


class StudyIteration:
    def __init__(self, grey, batch, k, objective):
        self.model, self.k = StudyModel(k, objective), k
        self.optimizer = adam(self.model)
        self.loader = DataLoader(BinarizedImages(grey), batch_size=batch, shuffle=True, num_workers=0, drop_last=True)
        self.batches = iter(self.loader)

    def next_batch(self):
        try:
            return next(self.batches)
        except StopIteration:
            self.batches = iter(self.loader)
            return next(self.batches)

    def __call__(self):
        x = self.next_batch()
        eps = torch.randn(x.shape[0], self.k, LATENT)
        self.optimizer.zero_grad()
        loss, reconstruction, kl = self.model.losses(x, eps)
        loss.backward()
        self.optimizer.step()
        return loss.item(), reconstruction.item(), kl.item()


class LeanIteration:
    def __init__(self, grey, batch, k, objective):
        self.model, self.k, self.batch = LeanModel(k, objective), k, batch
        self.optimizer = adam(self.model)
        self.grey, self.order, self.position = grey, torch.randperm(len(grey)), 0

    def __call__(self):
        if self.position + self.batch > len(self.grey):
            self.order, self.position = torch.randperm(len(self.grey)), 0
        x = torch.bernoulli(self.grey[self.order[self.position : self.position + self.batch]])
        self.position += self.batch
        eps = torch.randn(x.shape[0], self.k, LATENT)
        self.optimizer.zero_grad()
        loss = self.model.loss(x, eps)
        loss.backward()
        self.optimizer.step()
        return loss.item()


def same_objective_losses(k, objective, seed):
    """Both styles' loss on one binarized batch with the same weights and noise (the study's iteration
    reports the gradient-carrying -(w~ log w), whose value is the mean of log w under w~, not -L_k; its
    gradient is -L_k's. So the comparison uses -L_k from the study's log-likelihood for IWAE)."""
    torch.manual_seed(seed)
    lean, study = LeanModel(k, objective), StudyModel(k, objective)
    study_linears = [m for m in study.modules() if isinstance(m, nn.Linear)]
    lean_linears = [m for m in lean.modules() if isinstance(m, nn.Linear)]
    with torch.no_grad():
        for s, l in zip(study_linears, lean_linears):
            s.weight.copy_(l.weight)
            s.bias.copy_(l.bias)
        x = torch.bernoulli(grey_images(20, seed))
        eps = torch.randn(20, k, LATENT)
        lean_loss = lean.loss(x, eps).item()
        if objective == "vae":
            study_loss = study.losses(x.view(-1, 1, SIDE, SIDE), eps)[0].item()
        else:
            probs, z, mean, log_var = study.forward(x.view(-1, 1, SIDE, SIDE), eps)
            log_w = (
                dists.Bernoulli(probs).log_prob(x.view(-1, 1, 1, SIDE, SIDE)).sum(dim=(2, 3, 4))
                + dists.Normal(0, 1).log_prob(z).sum(2)
                - dists.Normal(mean, torch.exp(0.5 * log_var)).log_prob(z).sum(2)
            )
            study_loss = -(torch.logsumexp(log_w, 1) - math.log(k)).mean().item()
    return {"lean": lean_loss, "study": study_loss}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--objective", choices=["iwae", "vae"], default="iwae")
    parser.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--images", type=int, default=6000, help="grey images the iterations draw batches from")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    grey = grey_images(args.images, args.seed)
    iterations = {
        "study": StudyIteration(grey, args.batch, args.k, args.objective),
        "lean": LeanIteration(grey, args.batch, args.k, args.objective),
    }

    # readline, not `for line in sys.stdin`: each command must be answered as soon as its line arrives.
    while True:
        line = sys.stdin.readline()
        if not line:
            break
        cmd = json.loads(line)
        if cmd["cmd"] == "steps":
            iteration = iterations[cmd.get("style", "study")]
            ms = []
            for _ in range(int(cmd["n"])):
                t0 = time.perf_counter()
                iteration()
                ms.append((time.perf_counter() - t0) * 1000)
            print(json.dumps({"ms": ms}), flush=True)
        elif cmd["cmd"] == "loss":
            print(json.dumps(same_objective_losses(args.k, args.objective, int(cmd.get("seed", 0)))), flush=True)
        elif cmd["cmd"] == "info":
            print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "styles": sorted(iterations)}), flush=True)
        elif cmd["cmd"] == "quit":
            break


if __name__ == "__main__":
    main()
