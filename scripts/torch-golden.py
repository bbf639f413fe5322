# Golden trajectories from torch.optim itself, for tests/each-build/optim-torch-golden.test.ts.
# Not part of the tests (they read the committed JSON and need no torch). Run with a Python that
# has torch (Debian: apt-get install python3-torch, torch 1.13):
#   /usr/bin/python3 scripts/torch-golden.py > tests/fixtures/torch-golden.json
# Every run is in float64, so it pins the algorithm (the tests compare the float64 oracle to it
# tightly and the float32 kernels within the trajectory tolerance). Inputs are float32 values.
import json
import numpy as np
import torch

SHAPES = [[3, 4], [5], [2, 3, 2]]
STEPS = 20
rng = np.random.default_rng(2024)
weights = [rng.normal(0, 0.5, size=s).astype(np.float32) for s in SHAPES]
grads = [[(rng.normal(0.3, 1.0, size=s)).astype(np.float32) for s in SHAPES] for _ in range(STEPS)]

CONFIGS = [
    ("RAdam", torch.optim.RAdam, {"lr": 0.01}),
    ("RAdam", torch.optim.RAdam, {"lr": 0.01, "betas": (0.5, 0.8), "eps": 1e-3, "weight_decay": 0.05}),
    ("RAdam", torch.optim.RAdam, {"lr": 0.01, "betas": (0.9, 0.6)}),
    ("NAdam", torch.optim.NAdam, {"lr": 0.01}),
    ("NAdam", torch.optim.NAdam, {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.05, "momentum_decay": 0.1}),
    ("Adamax", torch.optim.Adamax, {"lr": 0.01}),
    ("Adamax", torch.optim.Adamax, {"lr": 0.01, "betas": (0.5, 0.9), "eps": 1e-2, "weight_decay": 0.05}),
    ("Adagrad", torch.optim.Adagrad, {"lr": 0.05}),
    ("Adagrad", torch.optim.Adagrad, {"lr": 0.05, "lr_decay": 0.1, "weight_decay": 0.05, "initial_accumulator_value": 0.5, "eps": 1e-3}),
    ("Adadelta", torch.optim.Adadelta, {}),
    ("Adadelta", torch.optim.Adadelta, {"lr": 0.5, "rho": 0.5, "eps": 1e-3, "weight_decay": 0.05}),
    ("RMSprop", torch.optim.RMSprop, {}),
    ("RMSprop", torch.optim.RMSprop, {"centered": True, "alpha": 0.9}),
    ("RMSprop", torch.optim.RMSprop, {"lr": 1e-3, "momentum": 0.9, "weight_decay": 0.05}),
    ("RMSprop", torch.optim.RMSprop, {"centered": True, "momentum": 0.5, "weight_decay": 0.05, "eps": 1e-3}),
]

def camel(name):
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)

runs = []
for name, kind, options in CONFIGS:
    params = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in weights]
    opt = kind(params, **options)
    for step in grads:
        for p, g in zip(params, step):
            p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
    runs.append({
        "optimizer": name,
        "options": {camel(k): list(v) if isinstance(v, tuple) else v for k, v in options.items()},
        "weights": [p.detach().numpy().ravel().tolist() for p in params],
    })

print(json.dumps({
    "torch": torch.__version__,
    "shapes": SHAPES,
    "initial": [w.ravel().astype(np.float64).tolist() for w in weights],
    "grads": [[g.ravel().astype(np.float64).tolist() for g in step] for step in grads],
    "runs": runs,
}))
