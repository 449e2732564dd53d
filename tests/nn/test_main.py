"""``python -m nn``: the plain-text help, the train options and what the training run reports."""

from __future__ import annotations

import subprocess
import sys

import pytest

import nn
from nn.__main__ import main, parser


def test_help_is_plain_text_and_names_the_options():
    text = parser().format_help()
    assert "``" not in text and "`" not in text
    for option in ("--epochs", "--lr", "--hidden", "--out", "example", "train"):
        assert option in text


def test_help_from_the_command_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "nn", "--help"], capture_output=True,
                            text=True, check=True, cwd=tmp_path)
    assert result.stdout.startswith("usage: python -m nn") and "`" not in result.stdout


def test_options_are_parsed_and_bad_values_refused(capsys):
    args = parser().parse_args(["train", "--epochs", "3", "--lr", "0.01", "--hidden", "32,16"])
    assert (args.mode, args.epochs, args.lr, args.hidden) == ("train", 3, 0.01, [32, 16])
    assert parser().parse_args([]).hidden == [256]
    for bad in (["--hidden", "32,x"], ["--hidden", "0"], ["--epochs", "0"], ["--lr", "-1"]):
        with pytest.raises(SystemExit):
            parser().parse_args(["train", *bad])
    assert "--hidden takes positive layer sizes" in capsys.readouterr().err


def test_train_reports_model_optimizer_epochs_and_how_to_load(tmp_path, capsys):
    main(["train", "--epochs", "1", "--hidden", "16", "--lr", "0.01", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "model: MLP 64-16-10 with ReLU, 1,210 parameters" in out  # 64*16+16 + 16*10+10
    assert "(0): Linear(in_features=64, out_features=16, bias=True)" in out
    assert "training: Adam (lr 0.01), cross-entropy loss, 1 epoch of batches of 32" in out
    path = tmp_path / "digits_mlp.nnz"
    assert f"model = nn.load({str(path)!r})" in out and "model.predict(pixels)" in out
    model = nn.load(path)
    assert model.sizes == [64, 16, 10]
