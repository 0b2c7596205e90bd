"""The demo (python -m tinygrad_edu.demo): it trains, prints the accuracy, and writes three valid images,
each with a line saying what it shows; graph.png is the last training step, readable at its natural size."""
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("graphviz")

import matplotlib.image as mpimg  # noqa: E402

import tinygrad_edu  # noqa: E402
from tinygrad_edu.demo import main  # noqa: E402

pytestmark = [pytest.mark.lecture09]   # the demo: a model trained end to end, on the CPU or the GPU

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ("graph.png", "decision_boundary.png", "loss_curve.png")
ACCURACY_LINE = re.compile(r"^accuracy: train (\d\.\d{3}), test (\d\.\d{3})$", re.MULTILINE)
BATCHES_PER_EPOCH = 25                  # 800 training points in batches of 32


def assert_valid_png(path):
    """A PNG file (magic bytes), readable as an RGB(A) image, and not one flat colour."""
    assert path.is_file(), f"{path} was not written"
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG file"
    image = mpimg.imread(path)
    assert image.ndim == 3 and image.shape[2] in (3, 4), image.shape
    assert image.shape[0] > 100 and image.shape[1] > 100, image.shape
    assert image[..., :3].std() > 0.02, f"{path} looks blank"


def test_demo_trains_prints_the_accuracy_and_writes_three_images(tmp_path, capsys):
    out = tmp_path / "demo"                                   # a folder that does not exist yet
    assert main(["--epochs", "5", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    match = ACCURACY_LINE.search(printed)
    assert match, printed
    train, test = (float(a) for a in match.groups())
    assert 0.75 < train <= 1.0 and 0.75 < test <= 1.0        # moons are easy: even 5 epochs learn them
    for name in IMAGES:
        assert_valid_png(out / name)
        assert str((out / name).resolve()) in printed        # it says where the images are


def test_demo_prints_one_line_per_picture_saying_what_it_shows(tmp_path, capsys):
    assert main(["--epochs", "2", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    says = {}
    for name in IMAGES:
        lines = [line for line in printed.splitlines() if str((tmp_path / name).resolve()) in line]
        assert len(lines) == 1, lines
        says[name] = lines[0].split(f"{name}: ", 1)[1]
    assert says["graph.png"].startswith("the computation graph of the last training step (epoch 2, batch 25 of 25)")
    assert "each class" in says["decision_boundary.png"]
    assert "per epoch" in says["loss_curve.png"]


def test_demo_draws_the_graph_of_the_last_training_step_before_its_update(tmp_path, monkeypatch):
    import visualize
    from tinygrad_edu import optim
    updates, drawn = [], []
    real_step, real_draw = optim.Adam.step, visualize.draw_graph

    def counting_step(self):
        updates.append(1)
        return real_step(self)

    def spying_draw(loss, **options):
        drawn.append(len(updates))                                 # how many updates came before
        return real_draw(loss, **options)

    monkeypatch.setattr(optim.Adam, "step", counting_step)
    monkeypatch.setattr(visualize, "draw_graph", spying_draw)
    assert main(["--epochs", "3", "--out", str(tmp_path)]) == 0
    assert len(updates) == 3 * BATCHES_PER_EPOCH
    assert drawn == [len(updates) - 1]            # once, at the last step: after every update but its own


def test_demo_graph_is_readable_at_its_natural_size(tmp_path):
    assert main(["--epochs", "1", "--out", str(tmp_path)]) == 0
    width, height = struct.unpack(">II", (tmp_path / "graph.png").read_bytes()[16:24])
    # Top to bottom at screen resolution: the whole graph fits a screen at 100 %, its text 13 pixels high
    # (it used to be one 4800 x 1100 strip at 144 dpi, unreadable unless zoomed in and scrolled).
    assert 800 < width <= 1700 and 800 < height <= 1700, (width, height)
    assert width / height < 1.5


def test_demo_runs_as_a_module_from_the_command_line(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.pop("MPLBACKEND", None)
    env.pop("DISPLAY", None)                                  # no display: the demo must not need one
    done = subprocess.run([sys.executable, "-m", "tinygrad_edu.demo", "--epochs", "3", "--out", str(tmp_path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert ACCURACY_LINE.search(done.stdout), done.stdout
    for name in IMAGES:
        assert_valid_png(tmp_path / name)


def test_demo_is_reproducible_with_a_seed(tmp_path, capsys):
    main(["--epochs", "2", "--out", str(tmp_path / "a"), "--seed", "3"])
    first = ACCURACY_LINE.search(capsys.readouterr().out).groups()
    main(["--epochs", "2", "--out", str(tmp_path / "b"), "--seed", "3"])
    assert ACCURACY_LINE.search(capsys.readouterr().out).groups() == first


def test_demo_without_tqdm_prints_one_line_per_epoch(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)           # import tqdm now raises ImportError
    assert main(["--epochs", "2", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"^epoch 1/2: loss \d+\.\d+", printed, re.MULTILINE), printed
    assert re.search(r"^epoch 2/2: loss \d+\.\d+", printed, re.MULTILINE), printed


def test_demo_without_graphviz_still_draws_the_plots_and_says_what_to_install(tmp_path, capsys, monkeypatch):
    import visualize.render  # noqa: F401  (the module; the package attribute `render` is the function)
    monkeypatch.setattr(sys.modules["visualize.render"], "find_dot", lambda: None)
    assert main(["--epochs", "1", "--out", str(tmp_path)]) == 1
    assert "graphviz-pure" in capsys.readouterr().err
    assert not (tmp_path / "graph.png").exists()
    for name in ("decision_boundary.png", "loss_curve.png"):
        assert_valid_png(tmp_path / name)


@pytest.mark.skipif(tinygrad_edu.cuda_available(), reason="this machine has a GPU: --device cuda works here")
def test_demo_on_cuda_without_a_gpu_exits_2_with_the_install_hint(tmp_path, capsys):
    assert main(["--device", "cuda", "--out", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert "cuda" in captured.err and 'pip install -e ".[gpu]"' in captured.err
    assert "Traceback" not in captured.err
    assert not any((tmp_path / name).exists() for name in IMAGES)


@pytest.mark.gpu
@pytest.mark.skipif(not tinygrad_edu.cuda_available(), reason="needs CuPy and an NVIDIA GPU")
def test_demo_trains_on_the_gpu(tmp_path, capsys):
    assert main(["--device", "cuda", "--epochs", "3", "--out", str(tmp_path)]) == 0
    assert "training on cuda" in capsys.readouterr().out
    for name in IMAGES:
        assert_valid_png(tmp_path / name)


@pytest.mark.parametrize("epochs", ["0", "-3", "many"])
def test_demo_rejects_a_bad_number_of_epochs(tmp_path, epochs, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--epochs", epochs, "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "--epochs" in capsys.readouterr().err


def test_demo_help_names_its_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    usage = capsys.readouterr().out
    for option in ("--epochs", "--out", "--device", "--seed"):
        assert option in usage
