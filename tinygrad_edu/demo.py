"""The demo: train a small MLP on the two moons and look at what happened.

    python -m tinygrad_edu.demo                       # 50 epochs on the CPU, a few seconds
    python -m tinygrad_edu.demo --device cuda         # the same on the GPU (needs the gpu extra)
    python -m tinygrad_edu.demo --epochs 200 --out results --seed 1

It trains nn.Sequential(Linear(2, 16), ReLU(), Linear(16, 16), ReLU(), Linear(16, 2)) with
CrossEntropyLoss and Adam on 800 points of make_moons (the training loop of lecture 8:
forward -> loss -> backward -> step), tests it on 200 more, prints both accuracies, and writes
three pictures into the output folder, with one line each saying what it shows:

    graph.png               the computation graph of the last training step (the last batch of the
                            last epoch): the values of its forward pass and the gradients of its
                            backward pass, drawn before optimizer.step() makes that last update.
                            Top to bottom, at screen resolution: readable at its natural size.
    decision_boundary.png   the regions the trained network gives to each class, with all 1000 points
    loss_curve.png          loss and accuracy per epoch, on the training and the test points

It needs the plotting extras (pip install -e ".[all]"): graphviz, graphviz-pure, matplotlib,
and tqdm for the progress bar (without tqdm it prints one line per epoch). This module is an
application of the engine, not part of it: nothing in tinygrad_edu imports it.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from . import backend, nn, optim
from .autograd import no_grad
from .data import DataLoader, TensorDataset, make_moons
from .tensor import Tensor

EXIT_OK = 0
EXIT_UNAVAILABLE = 2     # the device or the plotting extras are missing: nothing was trained
GRAPH_DPI = 96           # graph.png at screen resolution: about 1500 x 1400 pixels, its text 13 pixels high


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tinygrad_edu.demo",
        description="Train an MLP on the two moons with tinygrad_edu and write the computation graph, "
                    "the decision boundary and the loss curve as PNG images.")
    parser.add_argument("--epochs", type=_positive_int, default=50,
                        help="passes over the training points (default: %(default)s)")
    parser.add_argument("--out", default="tinygrad_edu_demo",
                        help="the folder the images go to; created if needed (default: ./%(default)s)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                        help="where to train: cpu (NumPy) or cuda (CuPy, needs an NVIDIA GPU) (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seeds the data, the initial weights and the batch order (default: %(default)s)")
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive int, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive int, got {value}")
    return value


def _progress(epochs: int):
    """A tqdm progress bar over the epochs, or a plain range when tqdm is not installed."""
    try:
        from tqdm import tqdm
    except ImportError:
        return range(epochs)
    return tqdm(range(epochs), desc="training", unit="epoch")


def _accuracy_and_loss(model: nn.Module, loss_fn: nn.Module, X: Tensor, y: Tensor) -> tuple[float, float]:
    """(accuracy, mean loss) of the model on all of X at once, without recording a graph."""
    with no_grad():
        logits = model(X)
        loss = loss_fn(logits, y).item()
        accuracy = (logits.argmax(axis=1) == y).astype("float32").mean().item()
    return accuracy, loss


def _step_graph(loss: Tensor, model: nn.Module, caption: str):
    """The graph of one training step, after loss.backward(): values, gradients, and a caption on top.

    Top to bottom (rankdir="TB"): the layers follow each other down the page, each one's
    weight and bias beside it, so the picture is about as wide as it is tall."""
    from visualize import draw_graph
    dot = draw_graph(loss, params=dict(model.named_parameters()), rankdir="TB")
    dot.attr(label=caption, labelloc="t", labeljust="l", fontsize="14")
    return dot


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo with command-line arguments `argv` (default: sys.argv[1:]); returns the exit code:
    0 when all three images were written, 1 when no Graphviz could draw graph.png (the other two
    are written), 2 when nothing ran (device "cuda" unavailable, plotting extras missing, bad options)."""
    args = build_parser().parse_args(argv)
    try:
        device = backend.parse_device(args.device)      # "cuda" without CuPy or a GPU fails here, clearly
    except RuntimeError as exc:
        print(f"tinygrad_edu.demo: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    try:
        import matplotlib
        if "matplotlib.pyplot" not in sys.modules:
            matplotlib.use("Agg")                        # files only: no display needed
        import matplotlib.pyplot as plt

        from visualize import plot_decision_boundary, plot_history, render
    except ImportError as exc:
        print(f"tinygrad_edu.demo: the demo draws pictures and needs the plotting extras ({exc}). "
              'Install them with: pip install -e ".[all]"', file=sys.stderr)
        return EXIT_UNAVAILABLE

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    # ---------------------------------------------------------------- data: 800 points to train, 200 to test
    backend.manual_seed(args.seed)
    X, y = make_moons(n_samples=1000, noise=0.2, random_state=args.seed)
    X_train, y_train, X_test, y_test = X[:800], y[:800], X[800:], y[800:]
    train_X, train_y = Tensor(X_train, device=device), Tensor(y_train, device=device)
    test_X, test_y = Tensor(X_test, device=device), Tensor(y_test, device=device)
    loader = DataLoader(TensorDataset(train_X, train_y), batch_size=32, shuffle=True, seed=args.seed)

    # ---------------------------------------------------------------- the model and the training loop
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2)).to(device)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    print(f"training on {device}: {len(X_train)} points of make_moons, {args.epochs} epochs\n{model}")

    history: dict[str, list[float]] = {"loss": [], "test_loss": [], "accuracy": [], "test_accuracy": []}
    graph, batches, graph_shows = None, len(loader), ""
    epochs = _progress(args.epochs)
    for epoch in epochs:
        model.train()
        total, seen = None, 0          # the loss sum stays on the device: read once per epoch
        for batch, (xb, yb) in enumerate(loader, start=1):
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            if epoch == args.epochs - 1 and batch == batches:
                # The trained model's last step, drawn before optimizer.step() moves the weights once
                # more: the boxes show the values this forward pass used and the gradients it produced.
                graph_shows = (f"the computation graph of the last training step (epoch {epoch + 1}, "
                               f"batch {batch} of {batches}), with values and gradients")
                graph = _step_graph(loss, model, (
                    f"The last training step: epoch {epoch + 1} of {args.epochs}, batch {batch} of {batches}, "
                    f"loss {loss.item():.4f}. Gradients from loss.backward(), before optimizer.step()."))
            optimizer.step()
            batch_total = loss.detach() * len(xb)
            total = batch_total if total is None else total + batch_total
            seen += len(xb)
        total = total.item()
        model.eval()
        train_accuracy, _ = _accuracy_and_loss(model, loss_fn, train_X, train_y)
        test_accuracy, test_loss = _accuracy_and_loss(model, loss_fn, test_X, test_y)
        history["loss"].append(total / seen)
        history["test_loss"].append(test_loss)
        history["accuracy"].append(train_accuracy)
        history["test_accuracy"].append(test_accuracy)
        if hasattr(epochs, "set_postfix"):
            epochs.set_postfix(loss=f"{total / seen:.4f}", test_acc=f"{test_accuracy:.3f}")
        else:
            print(f"epoch {epoch + 1}/{args.epochs}: loss {total / seen:.4f}, test accuracy {test_accuracy:.3f}")
    if hasattr(epochs, "close"):
        epochs.close()

    print(f"accuracy: train {history['accuracy'][-1]:.3f}, test {history['test_accuracy'][-1]:.3f}")

    # ---------------------------------------------------------------- the pictures, each with what it shows
    written, status = [], EXIT_OK
    try:
        written.append((Path(render(graph, out / "graph.png", "png", dpi=GRAPH_DPI)), graph_shows))
    except RuntimeError as exc:                          # no Graphviz executable: say so, draw the rest
        print(f"tinygrad_edu.demo: graph.png not written: {exc}", file=sys.stderr)
        status = 1

    fig = plot_decision_boundary(model, X, y, title=(
        f"Moons after {args.epochs} epochs: train accuracy {history['accuracy'][-1]:.1%}, "
        f"test {history['test_accuracy'][-1]:.1%}"))
    fig.savefig(out / "decision_boundary.png", dpi=120)
    plt.close(fig)
    written.append((out / "decision_boundary.png", f"the regions the trained network gives to each class, "
                                                   f"with all {len(X)} points (circled: misclassified)"))

    fig = plot_history(history, title="MLP on the two moons: loss and accuracy per epoch")
    fig.savefig(out / "loss_curve.png", dpi=120)
    plt.close(fig)
    written.append((out / "loss_curve.png", f"loss and accuracy per epoch ({args.epochs} epochs), "
                                            "on the training and the test points"))

    print(f"wrote {len(written)} images to {out.resolve()}:")
    for path, shows in written:
        print(f"  {path.resolve()}: {shows}")
    return status


if __name__ == "__main__":
    sys.exit(main())
