"""A training step on the GPU never waits for it: no device-to-host copy between two steps.

Every `.item()`, `float(t)`, `bool(t)` or `.numpy()` copies from the GPU and so waits until
all queued kernels have run; one of them inside the step would serialise the CPU and the GPU.
Real CuPy cannot count them, so these tests run on tests/fake_cupy (`pytest --fake-gpu`),
whose arrays count every copy back to the host; they skip elsewhere.
"""
import numpy as np
import pytest

import tinygrad_edu.nn.functional as F
from tinygrad_edu import Tensor, backend, nn, optim
from tinygrad_edu.data import DataLoader, TensorDataset

pytestmark = [pytest.mark.lecture09]   # the GPU: a training step that never waits for the device




def syncs_in_steps(cupy, step, warmup=1, steps=3):
    for _ in range(warmup):
        step()
    cupy._fake_reset_sync_count()
    for _ in range(steps):
        step()
    return cupy._fake_sync_count


MODELS = {
    "mlp": (lambda: nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 16), nn.Sigmoid(),
                                  nn.Linear(16, 5)), (8, 20)),
    "mlp_gelu_dropout_batchnorm": (lambda: nn.Sequential(nn.Linear(20, 32), nn.BatchNorm1d(32), nn.GELU(),
                                                         nn.Dropout(0.2), nn.Linear(32, 5)), (8, 20)),
    "cnn": (lambda: nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Flatten(), nn.Linear(4 * 4 * 4, 5)), (8, 1, 8, 8)),
}
OPTIMIZERS = {
    "SGD": lambda params: optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=1e-4),
    "Adam": lambda params: optim.Adam(params, lr=1e-3),
    "AdamW": lambda params: optim.AdamW(params, lr=1e-3, amsgrad=True),
}


@pytest.mark.gpu
@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("model_name", sorted(MODELS))
def test_a_training_step_makes_no_host_copy(model_name, opt_name, fake_cupy):
    make_model, shape = MODELS[model_name]
    model = make_model().to("cuda")
    optimizer = OPTIMIZERS[opt_name](model.parameters())
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=shape).astype(np.float32), device="cuda")
    y = Tensor(rng.integers(0, 5, shape[0]), device="cuda")
    total = []

    def step():
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        total.append(loss.detach())          # kept on the device, read after the loop

    assert syncs_in_steps(fake_cupy, step) == 0
    assert np.isfinite(sum(t.item() for t in total))


@pytest.mark.gpu
def test_an_epoch_over_a_gpu_data_loader_reads_the_loss_once(fake_cupy):
    rng = np.random.default_rng(1)
    data = TensorDataset(Tensor(rng.normal(size=(64, 6)).astype(np.float32)), Tensor(rng.integers(0, 3, 64)))
    loader = DataLoader(data, batch_size=16, shuffle=True, seed=0, device="cuda")
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3)).to("cuda")
    optimizer = optim.Adam(model.parameters(), lr=1e-2)

    def epoch():
        total = None
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total = loss.detach() if total is None else total + loss.detach()
        return total

    epoch()
    fake_cupy._fake_reset_sync_count()
    total = epoch()
    assert fake_cupy._fake_sync_count == 0
    total.item()
    assert fake_cupy._fake_sync_count == 1


def launches(cupy, fn):
    cupy._fake_reset_sync_count()
    fn()
    return cupy._fake_launch_count


@pytest.mark.gpu
@pytest.mark.parametrize("opt_name", ["SGD", "Adam", "AdamW"])
def test_the_optimizer_step_is_one_kernel_per_parameter(opt_name, fake_cupy):
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3)).to("cuda")
    optimizer = OPTIMIZERS[opt_name](model.parameters())
    x = Tensor(np.ones((4, 6), dtype=np.float32), device="cuda")
    for _ in range(2):                        # the first step also allocates the state
        optimizer.zero_grad()
        model(x).sum().backward()
        fused = launches(fake_cupy, optimizer.step)
    assert fused == len(list(model.parameters())) == 4


@pytest.mark.gpu
def test_fusion_cuts_the_launches_of_a_training_step(fake_cupy):
    """The MLP of the GPU benchmark: fused, one step is 14 launches forward, 13 backward and one
    per parameter for Adam; the plain path needs about three times as many."""
    from tinygrad_edu import kernels
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                          nn.Linear(128, 10)).to("cuda")
    optimizer = optim.Adam(model.parameters())
    x = Tensor(np.zeros((16, 784), dtype=np.float32), device="cuda")
    y = Tensor(np.arange(16) % 10, device="cuda")
    counts = {}
    before = kernels.fused_enabled()
    try:
        for fused in (True, False):
            kernels.set_fused(fused)
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()                          # warm-up: state and caches
            optimizer.zero_grad()
            loss = None

            def forward():
                nonlocal loss
                loss = F.cross_entropy(model(x), y)
            counts[fused] = (launches(fake_cupy, forward), launches(fake_cupy, loss.backward),
                             launches(fake_cupy, optimizer.step))
    finally:
        kernels.set_fused(before)
    forward, backward, step = counts[True]
    assert forward <= 14 and backward <= 13 and step == 6, counts
    assert sum(counts[False]) > 3 * sum(counts[True]), counts
