"""A PyTorch training script, ported by changing its imports, trains the digits MLP.

Everything below is the loop PyTorch tutorials teach, written against nn's names:
``nn.Sequential``/``nn.Linear``/``nn.ReLU``, ``nn.CrossEntropyLoss``, ``nn.optim.Adam``,
``opt.zero_grad()``, ``loss.backward()``, ``opt.step()``, ``model.train()``/``model.eval()`` and
``ag.no_grad()`` for evaluation.
"""

import numpy as np

import autograd_core as ag
import nn
from nn.data import DataLoader, StandardScaler, load_digits, train_test_split


def test_pytorch_style_loop_learns_digits():
    ag.manual_seed(0)
    x, y = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, seed=0, stratify=y)
    scaler = StandardScaler().fit(x_train)
    x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
    loader = DataLoader(x_train, y_train, batch_size=32, shuffle=True, seed=0)

    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    loss_fn = nn.CrossEntropyLoss()
    opt = nn.optim.Adam(model.parameters(), lr=1e-3)

    for _epoch in range(15):
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()

    model.eval()
    with ag.no_grad():
        logits = model(ag.tensor(x_test))
    assert not logits.requires_grad
    accuracy = float(np.mean(logits.numpy().argmax(axis=1) == y_test))
    assert accuracy >= 0.95, accuracy
