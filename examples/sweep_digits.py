"""Sweep the learning rate and hidden size of a digits MLP with Ray Tune, stopping bad trials
early with ASHA.

Each trial is an ordinary ``nn.fit``; the ``nn.distributed.TuneReport`` callback reports its
History (loss, accuracy, val_loss, val_accuracy) after every epoch, which is what ASHA needs to
stop the trials that fall behind. Two trials run at once, one CPU each::

    python examples/sweep_digits.py --trials 16 --epochs 20

On a cluster, start Ray there first (``ray start --head`` and ``ray start --address=...``) and
run the script with ``RAY_ADDRESS`` set: the same sweep then spreads its trials over the machines.
"""

from __future__ import annotations

import argparse
import tempfile

import nn


def train_digits(config: dict, epochs: int) -> None:
    """One trial: an MLP with ``config["hidden"]`` units trained by Adam at ``config["lr"]``."""
    x, y = nn.data.load_digits()
    x_train, x_val, y_train, y_val = nn.data.train_test_split(x, y, test_size=0.2, seed=0,
                                                              stratify=y)
    model = nn.MLP([64, config["hidden"], 10])
    optimizer = nn.optim.Adam(model.parameters(), lr=config["lr"])
    nn.fit(model, nn.CrossEntropyLoss(), optimizer, (x_train, y_train), epochs=epochs,
           batch_size=32, validation_data=(x_val, y_val), metrics=["accuracy"], seed=0,
           callbacks=[nn.distributed.TuneReport()], verbose=0)


def main(argv: list[str] | None = None):
    """Run the sweep; return Tune's ResultGrid (one Result per trial)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=16, help="configurations to try")
    parser.add_argument("--epochs", type=int, default=20, help="most epochs per trial")
    parser.add_argument("--concurrent", type=int, default=2, help="trials running at once")
    parser.add_argument("--storage", default=None, help="folder for Tune's results")
    args = parser.parse_args(argv)

    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    trainable = tune.with_resources(tune.with_parameters(train_digits, epochs=args.epochs),
                                    {"cpu": 1})
    tuner = tune.Tuner(
        trainable,
        param_space={"lr": tune.loguniform(1e-4, 1e-1), "hidden": tune.choice([16, 32, 64, 128])},
        tune_config=tune.TuneConfig(
            metric="val_accuracy", mode="max", num_samples=args.trials,
            max_concurrent_trials=args.concurrent,
            scheduler=ASHAScheduler(max_t=args.epochs, grace_period=1, reduction_factor=2)),
        run_config=tune.RunConfig(name="sweep_digits", verbose=0,
                                  storage_path=args.storage or tempfile.mkdtemp()),
    )
    return tuner.fit()


if __name__ == "__main__":
    results = main()
    best = results.get_best_result()
    print(f"best of {len(results)} trials: {best.config} -> val_accuracy "
          f"{best.metrics['val_accuracy']:.4f} after {best.metrics['epoch']} epochs")
