#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Trains a small MLP (784-256-128-10, ReLU) on Fashion-MNIST with NumPy and
writes its float32 weights as .npy files: a real trained network for the
README's fp8-quantize example. Needs Debian's python3-numpy and
dataset-fashion-mnist (the IDX files under /usr/share/datasets/fashion-mnist).

    tools/train_fashion_mlp.py OUT_DIR

writes OUT_DIR/fc{1,2,3}.weight.npy (out x in, as Linear layers store them)
and fc{1,2,3}.bias.npy, and prints the test accuracy. Deterministic (seed 0).
"""
import gzip
import os
import sys

import numpy as np

DATA = "/usr/share/datasets/fashion-mnist"


def idx(name):
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out, exist_ok=True)
    x = idx("train-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255.0
    y = idx("train-labels-idx1-ubyte.gz").astype(np.int64)
    xt = idx("t10k-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255.0
    yt = idx("t10k-labels-idx1-ubyte.gz").astype(np.int64)
    rng = np.random.default_rng(0)
    sizes = [784, 256, 128, 10]
    w = [rng.normal(0, np.sqrt(2.0 / sizes[i]), (sizes[i + 1], sizes[i])).astype(np.float32) for i in range(3)]
    b = [np.zeros(sizes[i + 1], np.float32) for i in range(3)]

    def forward(a):
        acts = [a]
        for i in range(3):
            a = a @ w[i].T + b[i]
            if i < 2:
                a = np.maximum(a, 0)
            acts.append(a)
        return acts

    lr, batch = 0.05, 128
    for epoch in range(8):
        order = rng.permutation(len(x))
        for s in range(0, len(x), batch):
            idxs = order[s:s + batch]
            acts = forward(x[idxs])
            logits = acts[-1] - acts[-1].max(axis=1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(axis=1, keepdims=True)
            p[np.arange(len(idxs)), y[idxs]] -= 1
            g = p / len(idxs)
            for i in (2, 1, 0):
                gw, gb = g.T @ acts[i], g.sum(axis=0)
                if i > 0:
                    g = (g @ w[i]) * (acts[i] > 0)
                w[i] -= lr * gw
                b[i] -= lr * gb
        acc = (forward(xt)[-1].argmax(axis=1) == yt).mean()
        print(f"epoch {epoch + 1}: test accuracy {acc:.4f}")
    for i in range(3):
        np.save(os.path.join(out, f"fc{i + 1}.weight.npy"), w[i])
        np.save(os.path.join(out, f"fc{i + 1}.bias.npy"), b[i])


if __name__ == "__main__":
    main()
